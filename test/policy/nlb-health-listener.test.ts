// The nlb health listener against a real Squid running the generated squid.conf (nlb mode) in a namespace of its
// own: it accepts a bare TCP connection (what the NLB's TCP health check needs), it serves no tenant (a request on
// it ends at `deny all`), and the loopback health probe still answers on it (the boot script and the policy
// rollout read the ports from squid.conf's http_port lines, sorted, and this one may come first).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NLB_HEALTH_PORT } from '../../src/config';
import { PROXY_HEALTHY } from '../../src/hub/health-probe';
import { RULES } from '../../src/policy';
import { NS_TENANT_IP, squidAvailable, startNsSquid, type NsSquid } from '../hub/support/squid-netns';
import { acquireLabLock } from '../support/lab-lock';
import { exampleConfig, planOf } from '../support/stack';

const config = exampleConfig();
const plan = planOf({ ...config, hub: { ...(config.hub as object), proxy: { mode: 'nlb' } } });

describe.runIf(squidAvailable())('nlb health listener (real Squid in a throwaway namespace)', () => {
  let squid: NsSquid;
  let release: (() => void) | undefined;
  beforeAll(async () => {
    release = await acquireLabLock();
    squid = startNsSquid(plan, 'nlbhealth');
    const until = Date.now() + 20_000;
    while (!squid.listeningPorts().includes(NLB_HEALTH_PORT) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  });
  afterAll(() => {
    try {
      squid?.stop();
    } finally {
      release?.();
    }
  });
  const accessLog = () => squid.exec(['cat', squid.accessLog]).stdout;

  it('listens on the health port next to the tenant ports', () => {
    expect(plan.hub.proxy.mode).toBe('nlb');
    expect(squid.listeningPorts()).toEqual([NLB_HEALTH_PORT, ...plan.tenants.map((t) => t.port)].sort((a, b) => a - b));
  });

  it('accepts a bare TCP connection from a non-loopback source (the NLB health check)', () => {
    const r = squid.exec(['bash', '-c', `exec 3<>/dev/tcp/${NS_TENANT_IP}/${NLB_HEALTH_PORT} && exec 3>&-`], { timeoutMs: 10_000 });
    expect(r).toMatchObject({ status: 0 });
  });

  it('serves no tenant: a proxied request on it is denied by the default deny, plain or CONNECT', () => {
    const curl = (args: string[]) =>
      squid
        .exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code} %{http_connect}', '--noproxy', '', '-m', '10', ...args], {
          timeoutMs: 20_000,
        })
        .stdout.trim();
    const proxy = `http://${NS_TENANT_IP}:${NLB_HEALTH_PORT}`;
    // IP literals in a documentation range: no DNS, not a blocked destination, so only the tenant rules decide.
    expect(curl(['--interface', NS_TENANT_IP, '-x', proxy, 'http://203.0.113.10/'])).toBe('403 000');
    expect(curl(['--interface', NS_TENANT_IP, '-x', proxy, 'https://203.0.113.10/'])).toMatch(/ 403$/);
    const lines = accessLog()
      .trim()
      .split('\n')
      .filter((l) => l.includes(`listener=${NLB_HEALTH_PORT} `));
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(l).toContain('tenant=- ');
      expect(l).toContain(`decision=denied rule=${RULES.default} `);
    }
  });

  it('still answers the loopback health probe on it', () => {
    const r = squid.exec(['bash', '-c', `${PROXY_HEALTHY}\nproxy_healthy ${NLB_HEALTH_PORT} /nonexistent`], { timeoutMs: 15_000 });
    expect({ status: r.status, stderr: r.stderr.trim() }).toEqual({ status: 0, stderr: '' });
  });
});
