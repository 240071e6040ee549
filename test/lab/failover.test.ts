// Losing a proxy under load: the lab's fleet (two proxies standing for two AZs) behind the supervisor that
// emulates DNS failover (multi-az) or an NLB (nlb). SIGKILL the Squid that takes new connections while a bounded
// load runs through one tenant: only requests in flight or started before the gateways switch may fail, the load
// recovers through the other proxy, and the killed proxy rejoins without a failure. Bounded: at most 25 s and
// 30,000 requests per load. Timing targets live in docs/ha.md; here the bounds are generous.
import { Writable } from 'node:stream';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { main } from '../support/cli';
import { buildPlan, loadConfigFile } from '../../src/config';
import { DEFAULT_FAILOVER, labFailover, type FailoverResult } from '../../src/lab/failover';
import { setSupervisorSettings } from '../../src/lab/fleet';
import { labDown, labUp } from '../../src/lab/lab';
import { labPaths } from '../../src/lab/state';
import { accessLogMarks, checkAccessLog, parseLogLine, runMatrix } from '../../src/lab/matrix';
import type { LabTopology } from '../../src/lab/topology';
import { holdLabForThisFile } from '../support/lab-lock';

const CONFIG = 'examples/egresshub.yaml';
const quiet = () => {};
/** Faster than the defaults, to keep the file short; the assertions scale with these. */
const FAST = { intervalMs: 500, unhealthyThreshold: 2, healthyThreshold: 2 };
const LOAD = { ...DEFAULT_FAILOVER, clients: 12, maxSeconds: 25, maxRequests: 30_000, warmupMs: 800, settleMs: 1500 };
holdLabForThisFile();

/** Log lines of one proxy (by position) with their timestamps in ms. */
function linesOf(topo: LabTopology, index: number, from = 0): { ts: number; tenant: string }[] {
  return readFileSync(labPaths(topo.stateDir).proxy(index).accessLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(from)
    .map(parseLogLine)
    .map((f) => ({ ts: Number(f.ts) * 1000, tenant: f.tenant ?? '' }));
}

function expectBoundedFailover(r: FailoverResult): void {
  // Detection is the emulation's: (threshold - 1) to threshold probe intervals, plus probe and swap time.
  expect(r.detectMs).toBeGreaterThanOrEqual((FAST.unhealthyThreshold - 1) * FAST.intervalMs - 100);
  expect(r.detectMs).toBeLessThan((FAST.unhealthyThreshold + 2) * FAST.intervalMs + 3000);
  expect(r.requests).toBeGreaterThan(500);
  // The kill hit live traffic, and every failure is one the design allows: in flight on the dead proxy, or a new
  // connection sent to it before the gateways switched. None after the switch.
  expect(r.failed).toBeGreaterThan(0);
  expect(r.failed).toBeLessThanOrEqual(r.inFlightAtKill + r.startedInWindow);
  expect(r.failedAfterSwitch).toBe(0);
  for (const e of Object.keys(r.errors)) expect(['ECONNREFUSED', 'ECONNRESET']).toContain(e);
  // Recovery is anchored to the switch the supervisor recorded, not to a window after it that a busy machine
  // outlasts: requests started after the switch (and before the restart), and none of them failed (above).
  expect(r.startedAfterSwitch).toBeGreaterThan(0);
  // The proxy came back and took traffic again without a single failure.
  expect(r.rejoin.failed).toBe(0);
  expect(r.rejoin.requests).toBeGreaterThan(100);
  expect(r.rejoin.rejoinMs).toBeLessThan((FAST.healthyThreshold + 2) * FAST.intervalMs + 3000);
}

describe('proxy failover under load (root, real Squid, two proxies)', () => {
  it('multi-az: fails over to the next proxy within the detection window, then the primary rejoins without failures', async () => {
    const { topo } = await labUp(buildPlan(loadConfigFile(CONFIG)), CONFIG, quiet);
    expect(topo.proxies.map((x) => [x.id, x.ns, x.ip])).toEqual([
      ['ProxyA', 'eh-px-a', '10.0.0.10'],
      ['ProxyC', 'eh-px-c', '10.0.0.11'],
    ]);
    setSupervisorSettings(topo, FAST);
    const marks = accessLogMarks(topo);
    const r = await labFailover(LOAD, quiet);
    console.log(`multi-az failover: ${JSON.stringify({ ...r, errors: r.errors })}`);
    expect(r.killed).toBe('ProxyA');
    expect(r.failedOverTo).toEqual(['ProxyC']);
    expect(r.rejoin.active).toEqual(['ProxyA']);
    expectBoundedFailover(r);
    // The traffic really moved: ProxyC logged the tenant's requests while ProxyA was out, ProxyA none while dead
    // and again after it rejoined.
    const a = linesOf(topo, 1, marks[0]);
    const c = linesOf(topo, 2, marks[1]);
    expect(c.filter((l) => l.ts >= r.at.switch && l.ts <= r.at.rejoin).length).toBeGreaterThan(100);
    expect(a.filter((l) => l.ts > r.at.kill + 50 && l.ts < r.at.restart).length).toBe(0);
    expect(a.filter((l) => l.ts > r.at.rejoin + 100).length).toBeGreaterThan(50);
  });

  it('multi-az, instance lost (link down): only the requests pinned to it fail, by timeout, one per client at most', async () => {
    const { topo } = await labUp(buildPlan(loadConfigFile(CONFIG)), CONFIG, quiet);
    setSupervisorSettings(topo, FAST);
    const r = await labFailover({ ...LOAD, kind: 'instance' }, quiet);
    console.log(`multi-az instance loss: ${JSON.stringify(r)}`);
    expect(r.kind).toBe('instance');
    expect(r.failedOverTo).toEqual(['ProxyC']);
    expect(r.detectMs).toBeLessThan((FAST.unhealthyThreshold + 2) * FAST.intervalMs + 3000);
    // Nothing answers a lost instance: its connections hang until the client gives up (5 s), so each client loses at
    // most the requests it had pinned to it, and nothing started after the switch fails.
    expect(Object.keys(r.errors)).toEqual(['TIMEOUT']);
    expect(r.failed).toBeGreaterThan(0);
    expect(r.failed).toBeLessThanOrEqual(LOAD.clients + r.startedInWindow);
    expect(r.failedAfterSwitch).toBe(0);
    expect(r.sustainedMs).toBeGreaterThanOrEqual(4500);
    expect(r.rejoin.failed).toBe(0);
    expect(r.rejoin.active).toEqual(['ProxyA']);
  });

  it('prints the figures from the command line and exits 0 (lab failover)', async () => {
    let out = '';
    let err = '';
    const sink = (f: (s: string) => void) => new Writable({ write: (c: Buffer, _e, cb) => (f(c.toString()), cb()) });
    const code = await main(['lab', 'failover', '--clients', '8'], { out: sink((s) => (out += s)), err: sink((s) => (err += s)) });
    expect(err).toContain('SIGKILL squid of ProxyA');
    expect(out).toMatch(/kill → gateways switched \(detection\)\s*│ \d+ ms/);
    expect(out, out).toMatch(/✓ ProxyA killed: \d+ of \d+ requests failed, all before the switch/);
    expect(code).toBe(0);
  });

  it('nlb: spreads new connections over both proxies (matrix and access logs), and loses only the dead one on a kill', async () => {
    const cfg = parse(readFileSync(CONFIG, 'utf8')) as { hub: { proxy: { mode: string } } };
    cfg.hub.proxy.mode = 'nlb';
    const file = join(tmpdir(), 'egresshub-lab-nlb.yaml');
    writeFileSync(file, stringify(cfg));
    const { topo } = await labUp(buildPlan(loadConfigFile(file)), file, quiet);
    expect(topo.routing).toBe('spread');
    expect(topo.proxies.map((x) => x.id)).toEqual(['ProxyA', 'ProxyC']);
    setSupervisorSettings(topo, FAST);
    const marks = accessLogMarks(topo);
    const rows = runMatrix(topo);
    expect(rows.filter((r) => !r.pass).map((r) => `${r.tenant}/${r.case.id}`)).toEqual([]);
    expect(checkAccessLog(topo, rows, marks).every((l) => l.pass)).toBe(true);
    const after = accessLogMarks(topo);
    // Both proxies served the matrix: the NLB emulation spreads.
    expect(after[0]! - marks[0]!).toBeGreaterThan(10);
    expect(after[1]! - marks[1]!).toBeGreaterThan(10);
    const r = await labFailover(LOAD, quiet);
    console.log(`nlb failover: ${JSON.stringify(r)}`);
    expect(r.failedOverTo).toEqual(['ProxyC']);
    expect(r.rejoin.active).toEqual(['ProxyA', 'ProxyC']);
    expectBoundedFailover(r);
  });

  it('fails with exit code 2 when no lab is up (lab failover)', async () => {
    await labDown(quiet);
    let err = '';
    const sink = (f: (s: string) => void) => new Writable({ write: (c: Buffer, _e, cb) => (f(c.toString()), cb()) });
    const code = await main(['lab', 'failover'], { out: sink(() => {}), err: sink((s) => (err += s)) });
    expect(err).toContain('no lab is up: run `egresshub lab up` first');
    expect(code).toBe(2);
  });
});
