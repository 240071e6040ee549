// proxy_healthy against a real Squid running the generated squid.conf in a namespace of its own: healthy,
// draining, stopped; the probe stays out of the access log; and the probe's allow opens nothing to tenants
// (they never come from 127.0.0.1) nor any proxying to loopback.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROXY_HEALTHY } from '../../src/hub/health-probe';
import { renderHealthPublisher } from '../../src/hub/user-data';
import { HEALTH_PROBE, RULES } from '../../src/policy';
import { acquireLabLock } from '../support/lab-lock';
import { exampleConfig, planOf } from '../support/stack';
import { writeHealthParams } from './support/health-params';
import { NS_TENANT_IP, squidAvailable, startNsSquid, type NsSquid } from './support/squid-netns';

const plan = planOf(exampleConfig());
const port = plan.tenants[0]!.port;

describe.runIf(squidAvailable())('proxy_healthy (real Squid in a throwaway namespace)', () => {
  let squid: NsSquid;
  let release: (() => void) | undefined;
  // Not the lab, but the lab lock keeps this Squid from competing with the lab's timing measurements.
  beforeAll(async () => {
    release = await acquireLabLock();
    squid = startNsSquid(plan, 'probe');
  });
  afterAll(() => {
    try {
      squid?.stop();
    } finally {
      release?.();
    }
  });

  const probe = (drainFile: string) => {
    const r = squid.exec(['bash', '-c', `set -euo pipefail\n${PROXY_HEALTHY}\nproxy_healthy "$1" "$2"`, 'probe', String(port), drainFile], {
      timeoutMs: 15_000,
    });
    return { status: r.status, reason: r.stderr.trim() };
  };
  const curl = (args: string[]) =>
    squid.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--noproxy', '', '-m', '5', ...args]).stdout.trim();
  const accessLog = () => squid.exec(['cat', squid.accessLog]).stdout;

  it('is healthy (0) when Squid answers and no drain file exists, and writes nothing to the access log', () => {
    const before = accessLog();
    const started = Date.now();
    expect(probe(join(squid.dir, 'no-drain'))).toEqual({ status: 0, reason: '' });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(accessLog()).toBe(before);
    expect(accessLog()).not.toContain('squid-internal-mgr');
  });

  it('is unhealthy (1) while the drain file exists', () => {
    const drain = join(squid.dir, 'drain');
    writeFileSync(drain, '');
    expect(probe(drain)).toEqual({ status: 1, reason: `unhealthy: draining (${drain} exists)` });
  });

  it('denies and logs the same manager page to anyone not on loopback (a tenant arrives from gateway addresses)', () => {
    // Origin-form to the listener, and absolute-form through the proxy: both are tenant requests from a non-loopback source.
    expect(curl(['--interface', NS_TENANT_IP, `http://${NS_TENANT_IP}:${port}${HEALTH_PROBE.path}`])).toBe('403');
    expect(
      curl(['--interface', NS_TENANT_IP, '-x', `http://${NS_TENANT_IP}:${port}`, `http://127.0.0.1:${port}${HEALTH_PROBE.path}`]),
    ).toBe('403');
    const lines = accessLog().trim().split('\n').slice(-2);
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(l).toContain(`client=${NS_TENANT_IP}:`);
      expect(l).toContain(`rule=${RULES.manager}`);
    }
  });

  it('still refuses to proxy to loopback for a client on loopback, manager-looking paths included', () => {
    const proxy = `http://127.0.0.1:${plan.tenants[1]!.port}`;
    // Another loopback address on a tenant port: without the probe's own-name condition this would loop back to Squid.
    expect(curl(['-x', proxy, `http://127.0.0.2:${port}${HEALTH_PROBE.path}`])).toBe('403');
    // A plain page on loopback, on a port the tenant may use: the SSRF rule on the destination address denies it.
    expect(curl(['-x', proxy, 'http://127.0.0.1:80/'])).toBe('403');
    const lines = accessLog().trim().split('\n').slice(-2);
    expect(lines[0]).toMatch(new RegExp(`client=127\\.0\\.0\\.1:\\d+ .*host=127\\.0\\.0\\.2 .*decision=denied rule=${RULES.manager} `));
    expect(lines[1]).toMatch(
      new RegExp(`client=127\\.0\\.0\\.1:\\d+ .*host=127\\.0\\.0\\.1 port=80 .*decision=denied rule=${RULES.blocked} `),
    );
  });

  // The script the boot installs for the systemd timer, run as is with a parameters file like the boot's.
  it("the health timer's script publishes 1, then 0 while draining, for this proxy's dimension", () => {
    const work = mkdtempSync(join(tmpdir(), 'egresshub-health-'));
    try {
      const drain = join(work, 'drain');
      const params = writeHealthParams(join(work, 'health.env'), plan, { conf: squid.conf, drainFile: drain });
      writeFileSync(join(work, 'health'), renderHealthPublisher(), { mode: 0o755 });
      writeFileSync(join(work, 'aws'), '#!/bin/sh\necho "$*" >> "$CALLS"\n', { mode: 0o755 });
      const env = { PATH: `${work}:${process.env.PATH}`, CALLS: join(work, 'calls') };
      expect(squid.exec([join(work, 'health'), params], { env }).status).toBe(0);
      writeFileSync(drain, '');
      expect(squid.exec([join(work, 'health'), params], { env }).status).toBe(0);
      const calls = readFileSync(join(work, 'calls'), 'utf8').trim().split('\n');
      const expected = (v: number) =>
        `cloudwatch put-metric-data --region ap-northeast-1 --cli-connect-timeout 5 --cli-read-timeout 10 --namespace ${plan.hub.proxyHealth.namespace} --metric-name ProxyHealthy --dimensions Proxy=ProxyA --value ${v} --unit Count`;
      expect(calls).toEqual([expected(1), expected(0)]);
      expect(accessLog()).not.toContain('squid-internal-mgr');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('is unhealthy (1) once Squid is stopped', () => {
    squid.stopSquid();
    expect(squid.masterPid()).toBeUndefined();
    const r = probe(join(squid.dir, 'no-drain'));
    expect(r.status).toBe(1);
    expect(r.reason).toMatch(/^unhealthy: squid on port \d+ answered none \(curl exit 7\)$/);
  });
});
