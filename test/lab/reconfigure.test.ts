// A policy change reaches a running proxy without dropping requests: `squid -k reconfigure` (what a proxy
// runs, and what `egresshub lab reconfigure` runs in a one-proxy lab) while a load keeps a tenant busy.
// The lab runs the example config in single mode (one proxy; a fleet rolls the change instead:
// test/lab/rolling.test.ts). Bounded: the load stops after its request count or 3.5 s, whichever comes first.
import { Writable } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { main } from '../support/cli';
import { buildPlan, loadConfigFile, parseConfig } from '../../src/config';
import { labDown, labUp } from '../../src/lab/lab';
import { labReconfigure } from '../../src/lab/reconfigure';
import { labPaths } from '../../src/lab/state';
import { parseLogLine } from '../../src/lab/matrix';
import { inNs, sleep, spawnInNs, waitFor } from '../../src/lab/sh';
import { buildTopology } from '../../src/lab/topology';
import { holdLabForThisFile } from '../support/lab-lock';

/** The example config with one proxy (hub.proxy.mode single). */
const CONFIG = join(tmpdir(), 'egresshub-lab-single.yaml');
const single = parse(readFileSync('examples/egresshub.yaml', 'utf8')) as { hub: { proxy: { mode: string } } };
single.hub.proxy.mode = 'single';
writeFileSync(CONFIG, stringify(single));
const quiet = () => {};
holdLabForThisFile();

/** The example config plus a new tenant and a new allowed domain: a typical day-2 change. */
function changedPlan() {
  const cfg = parse(readFileSync(CONFIG, 'utf8')) as { tenants: { allow: string[] | string }[] & object[] };
  (cfg.tenants[0]!.allow as string[]).push('example.org');
  cfg.tenants.push({ name: 'project-c', port: 3203, allow: ['example.org'] } as never);
  return buildPlan(parseConfig(stringify(cfg)));
}

interface LoadResult {
  started: number;
  ended: number;
  ok: number;
  /** `start`: when the request started; `at`: when its failure arrived (ms since the epoch). */
  failures: { start: number; at: number; error: string }[];
}

/** One reconfigure: issued (before the parse) → Squid had reopened every listener (its cache.log said so). */
interface Change {
  issued: number;
  reopened: number;
}

/** Runs the bounded load client in the tenant's spoke while `during` reconfigures Squid. */
async function loadWhile(
  keepAlive: boolean,
  during: () => Promise<Change[]>,
): Promise<{ load: LoadResult; at: Change[]; loggedAt: number[] }> {
  const plan = buildPlan(loadConfigFile(CONFIG));
  const { topo } = await labUp(plan, CONFIG, quiet);
  const b = topo.tenants[1]!;
  const args = {
    proxyHost: b.proxyHost,
    proxyPort: b.tenant.port,
    url: 'http://www.example.net/',
    count: 100_000,
    concurrency: 8,
    keepAlive,
    // The load lasts as long as the changes (plus a second), however long a busy machine takes for them; the
    // deadline only bounds it.
    deadlineMs: 30_000,
    stopFile: join(mkdtempSync(join(tmpdir(), 'egresshub-load-')), 'stop'),
  };
  const child = spawnInNs(
    b.spokeNs,
    [process.execPath, '-r', require.resolve('tsx/cjs'), 'test/lab/support/load-client.ts', JSON.stringify(args)],
    { timeoutMs: 40_000 },
  );
  child.stdin.end();
  child.stderr.pipe(process.stderr);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.on('exit', r));
  // The change starts once the load is really flowing (the tenant's first requests are logged), not after a fixed
  // pause: the client's start-up (Node and tsx) takes longer on a busy machine.
  const log = labPaths().accessLog;
  const from = statSync(log).size;
  const flowing = () => readFileSync(log, 'utf8').slice(from).includes(` tenant=${b.tenant.name} `);
  if (!(await waitFor(flowing, 10_000, 50))) throw new Error('the load client sent no request within 10 s');
  const at = await during();
  await sleep(1_000);
  writeFileSync(args.stopFile, '');
  await exited;
  rmSync(dirname(args.stopFile), { recursive: true, force: true });
  // When Squid logged each of the tenant's requests of this load (the access log's ts=).
  const loggedAt = readFileSync(log, 'utf8')
    .slice(from)
    .split('\n')
    .filter(Boolean)
    .map(parseLogLine)
    .filter((l) => l.tenant === b.tenant.name)
    .map((l) => Number(l.ts) * 1000);
  return { load: JSON.parse(out) as LoadResult, at, loggedAt };
}

/**
 * Three policy changes, 300 ms apart; returns when each was issued and when Squid had reopened its listeners
 * (labReconfigure resolves once cache.log says "Accepting … connections" for every port).
 */
async function threeReconfigures(): Promise<Change[]> {
  const plan = buildPlan(loadConfigFile(CONFIG));
  const at: Change[] = [];
  for (const next of [changedPlan(), plan, changedPlan()]) {
    const issued = Date.now();
    await labReconfigure(next, quiet);
    at.push({ issued, reopened: Date.now() });
    await sleep(300);
  }
  return at;
}

describe('policy change under load (root, real Squid)', () => {
  it('keeps every request of kept-alive clients across three reconfigures, in the same master process', async () => {
    const p = labPaths();
    await labUp(buildPlan(loadConfigFile(CONFIG)), CONFIG, quiet);
    const masterBefore = readFileSync(p.squidPid, 'utf8').trim();
    const logBefore = readFileSync(p.accessLog, 'utf8').split('\n').filter(Boolean).length;
    const { load, at } = await loadWhile(true, threeReconfigures);
    expect(load.failures).toEqual([]);
    expect(load.ok).toBeGreaterThan(500);
    // The load really spanned the changes: the tenant's requests were logged before the first and after the last.
    const lines = readFileSync(p.accessLog, 'utf8').split('\n').filter(Boolean).slice(logBefore).map(parseLogLine);
    const times = lines.filter((l) => l.tenant === 'project-b').map((l) => Number(l.ts) * 1000);
    expect(times.some((t) => t < at[0]!.issued)).toBe(true);
    expect(times.some((t) => t > at[2]!.reopened)).toBe(true);
    expect(readFileSync(p.squidPid, 'utf8').trim()).toBe(masterBefore);
    // Not labUp: the lab now runs another policy than CONFIG's, so up would rebuild it.
    const topo = buildTopology(buildPlan(loadConfigFile(CONFIG)));
    expect(topo.proxies.map((x) => x.ns)).toEqual(['eh-px-a']);
    expect(inNs(topo.proxies[0]!.ns, ['ss', '-ltnH']).stdout).toContain(':3203 ');
  });

  it('refuses new connections only briefly while Squid reopens its listeners (Squid 5.7), so clients should retry', async () => {
    const { load, at, loggedAt } = await loadWhile(false, threeReconfigures);
    // Squid closes and reopens its listening sockets on reconfigure: a connection attempt in that gap is
    // refused (or reset, if accepted just before the close). Every failure must be one of those, and overlap a
    // reconfigure: no window of fixed length, which a busy machine outlasts, but what happened: the failure arrived
    // after the change was issued (the old socket closes only then) and its request started before Squid had
    // reopened the listeners (a refusal comes after the SYN, a reset at the close). The load really spanned the
    // changes (a rate is no proof on a busy machine): new connections were served before the first reconfigure and
    // after the last.
    expect(load.ok).toBeGreaterThan(100);
    expect(loggedAt.some((t) => t < at[0]!.issued)).toBe(true);
    expect(loggedAt.some((t) => t > at[2]!.reopened)).toBe(true);
    for (const f of load.failures) {
      // Refused while no socket listens; reset when a connection was accepted just before the old socket closed.
      expect(['ECONNREFUSED', 'ECONNRESET']).toContain(f.error);
      expect(
        at.some((c) => f.at >= c.issued && f.start <= c.reopened),
        `a ${f.error} from ${f.start} to ${f.at} overlaps none of the reconfigures ${JSON.stringify(at)}`,
      ).toBe(true);
    }
    console.log(`new connections: ${load.ok} ok, ${load.failures.length} refused around 3 reconfigures`);
  });

  it('fails with exit code 2 when asked to fail over a one-proxy lab (lab failover)', async () => {
    await labUp(buildPlan(loadConfigFile(CONFIG)), CONFIG, quiet);
    let err = '';
    const sink = (f: (s: string) => void) => new Writable({ write: (c: Buffer, _e, cb) => (f(c.toString()), cb()) });
    const code = await main(['lab', 'failover'], { out: sink(() => {}), err: sink((s) => (err += s)) });
    expect(err).toContain('the lab has one proxy (hub.proxy.mode single): failover needs two or more');
    expect(code).toBe(2);
  });

  it('fails when no lab is up, with a message that says what to run', async () => {
    await labDown(quiet);
    await expect(labReconfigure(changedPlan(), quiet)).rejects.toThrow('no lab is up: run `egresshub lab up` first');
  });
});
