// The idle-timeout fault with real Squid and conntrack: the endpoint path forgets flows idle for 6 s; tunnels the
// proxy keeps alive answer after idling 18 s, tunnels opened without keepalive (the control) are reset, and the
// lab is left as it was (its own squid.conf and conntrack settings).
import { describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile } from '../../../src/config';
import { FAULTS } from '../../../src/lab/faults';
import { IDLE_FACTOR, idleTimeout, LAB_IDLE_TIMEOUT_S, runIdleTimeout, TUNNELS } from '../../../src/lab/faults/idle-timeout';
import { isUp, labSquidConf, labPaths } from '../../../src/lab/state';
import { inNs } from '../../../src/lab/sh';
import { buildTopology } from '../../../src/lab/topology';
import { readFileSync } from 'node:fs';
import { holdLabForThisFile } from '../../support/lab-lock';

const FIXTURE = 'test/fixtures/lab-idle-timeout.yaml';
const plan = buildPlan(loadConfigFile(FIXTURE));

holdLabForThisFile();

describe('idle-timeout fault (root, real Squid and conntrack)', () => {
  it('keeps idle tunnels alive past 3× the path idle timeout with keepalive; without it they die', async () => {
    expect(FAULTS).toContain(idleTimeout);
    const r = await runIdleTimeout({ plan, configFile: FIXTURE, step: () => {} });
    // The one line `lab fault idle-timeout --json` prints.
    process.stdout.write(`${JSON.stringify(r)}\n`);
    expect(r).toMatchObject({
      fault: 'idle-timeout',
      requests: TUNNELS,
      failed: 0,
      failedAfterDetect: 0,
      detectMs: null,
      survived: TUNNELS,
    });
    expect(r.errors).toEqual([]);
    // Every tunnel really idled three times the timeout (the client measures its own silence).
    expect(r.idleSeconds).toBeGreaterThanOrEqual(IDLE_FACTOR * LAB_IDLE_TIMEOUT_S);
    // The proxy ran a keepalive timer on each kept-alive tunnel (and on none of the control's). Those tunnels lived
    // through a squid -k reconfigure too: the control was opened after it, so only the idle timeout killed it.
    expect(r.keepaliveTimers).toBe(TUNNELS);
    // The control: the same idle without keepalive, and the path has forgotten the flow: reset at the next request.
    expect(r.control.died).toBe(TUNNELS);
    expect(r.control.errors.join('; ')).toMatch(/ECONNRESET|closed|no answer/);
    // Squid never learns: the control's tunnels stay open on the proxy (until read_timeout, 15 min).
    expect(r.staleOnProxy).toBeGreaterThanOrEqual(TUNNELS);

    // Nothing of the fault is left: the lab's own policy and the kernel's conntrack defaults.
    const topo = buildTopology(plan);
    const t = topo.tenants[0]!;
    for (const ns of [t.endpointNs, t.gatewayNs]) {
      expect(inNs(ns, ['sysctl', '-n', 'net.netfilter.nf_conntrack_tcp_loose']).stdout.trim()).toBe('1');
      expect(Number(inNs(ns, ['sysctl', '-n', 'net.netfilter.nf_conntrack_tcp_timeout_established']).stdout)).toBeGreaterThan(3600);
    }
    expect(readFileSync(labPaths().proxy(1).squidConf, 'utf8')).toBe(labSquidConf(plan));
    expect(isUp(plan, topo)).toBe(true);
  }, 120_000);
});
