// A policy change through a fleet of two proxies with no failed request: `rollingReconfigure` (what `egresshub lab
// reconfigure` does when the lab has two or more proxies) drains each proxy in turn so the supervisor sends new
// connections elsewhere, reconfigures it, and lets it back. Under a bounded load (at most 25 s and 40,000
// requests, a new connection per request) not one request may fail, and afterwards each proxy enforces the new
// policy when it is the one taking traffic.
import { Writable } from 'node:stream';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFailed } from 'vitest';
import { parse, stringify } from 'yaml';
import { main } from '../support/cli';
import { buildPlan, loadConfigFile, parseConfig } from '../../src/config';
import { drain, reactionBound, setSupervisorSettings, supervisorSettings, undrain, waitForStatus } from '../../src/lab/fleet';
import { APPLY_SCRIPT_TIMEOUT_MS, rollingReconfigure } from '../../src/lab/rollout';
import { DEFAULT_LOAD } from '../../src/lab/traffic';
import { labUp } from '../../src/lab/lab';
import { labPaths } from '../../src/lab/state';
import { accessLogMarks, parseLogLine } from '../../src/lab/matrix';
import { inNs } from '../../src/lab/sh';
import type { LabProxy, LabTopology } from '../../src/lab/topology';
import { holdLabForThisFile } from '../support/lab-lock';

const CONFIG = 'examples/egresshub.yaml';
const quiet = () => {};
const FAST = { intervalMs: 500, unhealthyThreshold: 2, healthyThreshold: 2 };
/** The day-2 change: project-a may now reach www.example.info (a name the lab's DNS serves). */
const NEW_NAME = 'www.example.info';
const CHANGED = join(tmpdir(), 'egresshub-lab-changed.yaml');
const changed = parse(readFileSync(CONFIG, 'utf8')) as { tenants: { allow: string[] }[] };
changed.tenants[0]!.allow.push(NEW_NAME);
writeFileSync(CHANGED, stringify(changed));
holdLabForThisFile();

/** Runs `f` while `proxy` is the only one taking new connections (the others drained), then lets them back. */
async function onlyThrough<T>(topo: LabTopology, proxy: LabProxy, f: () => T): Promise<T> {
  const others = topo.proxies.filter((x) => x !== proxy);
  const bound = reactionBound(supervisorSettings(topo));
  others.forEach((x) => drain(topo, x));
  try {
    await waitForStatus(
      topo,
      `only ${proxy.id}`,
      (s) => s.active.join() === proxy.id && others.every((x) => !s.active.includes(x.id)),
      bound,
    );
    return f();
  } finally {
    others.forEach((x) => undrain(topo, x));
    await waitForStatus(topo, 'every proxy healthy', (s) => s.proxies.every((x) => x.healthy), bound);
  }
}

/** project-a's client asks for the new name through its own proxy URL; returns the status code (403 = denied). */
function askForNewName(topo: LabTopology): string {
  const a = topo.tenants[0]!;
  return inNs(
    a.spokeNs,
    [
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '--max-time',
      '8',
      '-x',
      `http://${a.proxyHost}:${a.tenant.port}`,
      '-w',
      '%{http_code}',
      `http://${NEW_NAME}/`,
    ],
    { allowFail: true, timeoutMs: 15_000 },
  ).stdout;
}

/**
 * A step logger for rollingReconfigure that prints what happened, with times, only when the test fails (a timeout
 * included), so a slow or stuck step is named.
 */
function progressLog(): ((line: string) => void) & { readonly lines: readonly string[] } {
  const started = Date.now();
  const lines: string[] = [];
  onTestFailed(() => console.error(`rolling reconfigure, step by step:\n${lines.join('\n')}`));
  const log = (line: string) => void lines.push(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${line}`);
  return Object.assign(log, { lines });
}

/**
 * The longest a rolling test may take: above the sum of the bounds inside it (the lab's start, the apply script's
 * bound per proxy, the supervisor's waits), so that a slow step fails with its own message, not a bare timeout.
 */
const ROLLING_TIMEOUT_MS = 2 * APPLY_SCRIPT_TIMEOUT_MS + 120_000;

/** The tenant's access-log lines on one proxy since `from`, with their time in ms. */
function linesOf(topo: LabTopology, p: LabProxy, from: number) {
  return readFileSync(labPaths(topo.stateDir).proxy(p.index).accessLog, 'utf8').split('\n').filter(Boolean).slice(from).map(parseLogLine);
}

describe('rolling policy change under load (root, real Squid, two proxies)', () => {
  it(
    'drains, reconfigures and restores each proxy in turn with zero failed requests; both enforce the new policy',
    { timeout: ROLLING_TIMEOUT_MS },
    async () => {
      const progress = progressLog();
      const { topo } = await labUp(buildPlan(loadConfigFile(CONFIG)), CONFIG, progress);
      setSupervisorSettings(topo, FAST);
      for (const p of topo.proxies) expect(await onlyThrough(topo, p, () => askForNewName(topo)), `${p.id} before`).toBe('403');
      const masters = topo.proxies.map((p) => readFileSync(labPaths().proxy(p.index).squidPid, 'utf8').trim());
      const marks = accessLogMarks(topo);

      const r = await rollingReconfigure(buildPlan(loadConfigFile(CHANGED)), progress, {
        ...DEFAULT_LOAD,
        clients: 12,
        maxSeconds: 25,
        maxRequests: 40_000,
      });
      console.log(`rolling reconfigure: ${JSON.stringify(r)}`);

      expect(r.load?.failed).toBe(0);
      expect(r.load?.errors).toEqual({});
      expect(r.load?.requests).toBeGreaterThan(500);
      // multi-az: each proxy ran the instances' own apply script, which drains through the failover name.
      expect(r.method).toBe('apply-script');
      expect(r.steps.map((s) => s.proxy)).toEqual(['ProxyA', 'ProxyC']);
      for (const s of r.steps) {
        expect(s.failed, s.proxy).toBe(0);
        expect(s.requests, s.proxy).toBeGreaterThan(50);
      }
      // The primary waited until the name stopped answering it (at least one probe interval for the supervisor, plus
      // the script's settle time); the standby, which the name did not answer, did not drain at all (its own word).
      expect(r.steps[0]!.drainMs).toBeGreaterThanOrEqual((FAST.unhealthyThreshold - 1) * FAST.intervalMs + 5000);
      expect(progress.lines.filter((l) => /ProxyA: drain: waiting/.test(l))).toHaveLength(1);
      expect(progress.lines.filter((l) => /ProxyC: drain: .* does not answer this proxy/.test(l))).toHaveLength(1);
      // The load really moved: while ProxyA reconfigured (from the script's "reconfiguring" to its "applied"),
      // ProxyC logged the tenant's requests, and ProxyA logged none.
      const [stepA] = r.steps;
      const reconfiguring = stepA!.startedAt + stepA!.drainMs;
      const during = (p: LabProxy) =>
        linesOf(topo, p, marks[p.index - 1]!).filter(
          (l) => Number(l.ts) * 1000 >= reconfiguring && Number(l.ts) * 1000 <= reconfiguring + stepA!.reconfigureMs,
        ).length;
      expect(during(topo.proxies[1]!)).toBeGreaterThan(0);
      expect(during(topo.proxies[0]!)).toBe(0);
      // Reconfigured, not restarted: the same master processes.
      expect(topo.proxies.map((p) => readFileSync(labPaths().proxy(p.index).squidPid, 'utf8').trim())).toEqual(masters);
      for (const p of topo.proxies) expect(await onlyThrough(topo, p, () => askForNewName(topo)), `${p.id} after`).toBe('200');
    },
  );

  it(
    'nlb: drains each proxy through the supervisor, reconfigures it and lets it back, with zero failed requests',
    { timeout: ROLLING_TIMEOUT_MS },
    async () => {
      const progress = progressLog();
      const nlb = parse(readFileSync(CONFIG, 'utf8')) as { hub: { proxy: { mode: string } } };
      nlb.hub.proxy.mode = 'nlb';
      const file = join(tmpdir(), 'egresshub-lab-nlb.yaml');
      writeFileSync(file, stringify(nlb));
      const { topo } = await labUp(buildPlan(loadConfigFile(file)), file, progress);
      setSupervisorSettings(topo, FAST);
      const next = parse(readFileSync(file, 'utf8')) as { tenants: { allow: string[] }[] };
      next.tenants[0]!.allow.push(NEW_NAME);
      const r = await rollingReconfigure(buildPlan(parseConfig(stringify(next))), progress, {
        ...DEFAULT_LOAD,
        clients: 12,
        maxSeconds: 25,
        maxRequests: 40_000,
      });
      console.log(`rolling reconfigure (nlb): ${JSON.stringify(r)}`);
      expect(r.method).toBe('lab');
      expect(r.load?.failed).toBe(0);
      expect(r.load?.requests).toBeGreaterThan(300);
      for (const s of r.steps) {
        expect(s.failed, s.proxy).toBe(0);
        // Each step waited for the supervisor: withdrawal and return take at least one probe interval each.
        expect(s.drainMs, s.proxy).toBeGreaterThanOrEqual((FAST.unhealthyThreshold - 1) * FAST.intervalMs - 100);
        expect(s.rejoinMs, s.proxy).toBeGreaterThanOrEqual((FAST.healthyThreshold - 1) * FAST.intervalMs - 100);
      }
      // Spread: with both proxies back, the new name is allowed whichever proxy a connection lands on.
      expect([askForNewName(topo), askForNewName(topo), askForNewName(topo), askForNewName(topo)]).toEqual(['200', '200', '200', '200']);
    },
  );

  it('prints requests, failures and duration per proxy from the command line (lab reconfigure)', async () => {
    let out = '';
    let err = '';
    const sink = (f: (s: string) => void) => new Writable({ write: (c: Buffer, _e, cb) => (f(c.toString()), cb()) });
    // The nlb lab above is replaced by a fresh example lab (the original policy).
    setSupervisorSettings((await labUp(buildPlan(loadConfigFile(CONFIG)), CONFIG, quiet)).topo, FAST);
    const code = await main(['lab', 'reconfigure', '-c', CHANGED, '--clients', '8'], {
      out: sink((s) => (out += s)),
      err: sink((s) => (err += s)),
    });
    expect(err).toContain("ProxyA: the instances' apply script");
    expect(err).toContain('ProxyA: applied s3://');
    expect(out).toMatch(/│ ProxyA │ \d+ ms\s*│ \d+ ms\s*│ \d+ ms\s*│ [\d.]+ s │ \d+\s*│ 0\s*│/);
    expect(out).toMatch(/│ ProxyC │/);
    expect(out).toMatch(/✓ every proxy runs the policy of .*egresshub-lab-changed\.yaml .*: \d+ requests, 0 failed/);
    expect(code).toBe(0);
  });
});
