// Data-plane benchmark in the lab (root): throughput (100 MB over HTTP and HTTPS/CONNECT), sequential 1 KB
// latency, and 50/200/1,000 concurrent clients across two tenants, each through spoke → endpoint → gateway →
// Squid → NAT → origin side by side with a namespace that goes straight out through the NAT. Optionally
// repeats the proxy runs with extra squid.conf lines (--tune) for a before/after. Always tears the lab down.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildPlan, parseConfig } from '../src/config';
import { squidPids } from '../src/lab/fleet';
import { checkLabHost, labDown, labUp } from '../src/lab/lab';
import { labNamespaces, labPaths, readState } from '../src/lab/state';
import { acquireLabLock } from '../src/lab/lock';
import { inNs, run, sleep, spawnInNs, waitFor } from '../src/lab/sh';
import { LAB_PREFIX, type LabTopology } from '../src/lab/topology';
import type { LatencyJob, LatencyResult, LoadJob, LoadResult } from './client';
import { fmt, machine, machineLines, median, percentile, table } from './common';
import { addBenchTopology, DIRECT_NS, waitForNoLab, type BenchTopology } from './lab-bench';

const TSX = require.resolve('tsx/cjs');

interface Options {
  readonly runs: number;
  readonly mb: number;
  readonly latencyCount: number;
  readonly levels: readonly number[];
  readonly seconds: number;
  /** Squid variants measured beside the generated config: `--tune=<name>:<line>;<line>` (repeatable). */
  readonly tune: readonly { readonly name: string; readonly extra: readonly string[] }[];
  readonly skip: ReadonlySet<string>;
  /** Request kinds of the concurrency runs: `http` (ab), `https` (Node CONNECT client). */
  readonly kinds: readonly string[];
  /** The bench's own config file: the lab's state.json names it while the lab is ours. */
  readonly configFile: string;
}

/**
 * The lab has fixed names, so another engineer's `lab up` replaces ours mid-run: a measurement counts only
 * if the lab was ours from its start to its end (otherwise it is taken again on a rebuilt lab).
 */
function isOurs(configFile: string): boolean {
  const state = readState();
  if (state?.complete !== true || state.config !== configFile) return false;
  // Another run's `lab down` deletes the namespaces before the state file: check both.
  const present = new Set(labNamespaces());
  return present.has(DIRECT_NS) && present.has(`${LAB_PREFIX}hub`);
}

/** Caps on the options, so no command line can start an unbounded load on a shared machine. */
const CAPS = { runs: 10, mb: 1000, latencyCount: 10_000, clients: 5_000, seconds: 60 } as const;

function parseArgs(argv: readonly string[], configFile: string): Options {
  const val = (name: string, dflt: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
  const bounded = (text: string, max: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`bench:data: ${text} is not a whole number from 1 to ${max}`);
    return n;
  };
  return {
    runs: bounded(val('runs', '3'), CAPS.runs),
    mb: bounded(val('mb', '100'), CAPS.mb),
    latencyCount: bounded(val('latency-count', '500'), CAPS.latencyCount),
    levels: val('levels', '50,200,1000')
      .split(',')
      .map((l) => bounded(l, CAPS.clients)),
    seconds: bounded(val('seconds', '10'), CAPS.seconds),
    tune: argv
      .filter((a) => a.startsWith('--tune='))
      .map((a) => {
        const [name, lines = ''] = a.slice(7).split(/:(.*)/s) as [string, string?];
        return {
          name,
          extra: lines
            .split(';')
            .map((l) => l.trim())
            .filter(Boolean),
        };
      }),
    skip: new Set(val('skip', '').split(',').filter(Boolean)),
    kinds: val('kinds', 'http,https').split(','),
    configFile,
  };
}

/**
 * Two tenants that may reach any public address, everything else at its default (tenant limits and fair share
 * included): the benchmark measures the path a default hub runs, not the allowlist.
 */
function benchConfig(): string {
  return stringify({
    name: 'egresshub',
    region: 'us-east-1',
    account: '111111111111',
    // One proxy: the bench measures the path through one Squid (docs/ha.md covers the fleet).
    hub: { cidr: '10.0.0.0/16', availabilityZones: ['us-east-1a', 'us-east-1b'], proxy: { mode: 'single' } },
    tenants: [
      { name: 'bench-a', accounts: ['222222222222'], port: 3201, allow: '*' },
      { name: 'bench-b', accounts: ['333333333333'], port: 3202, allow: '*' },
    ],
  });
}

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

// ---------------------------------------------------------------- Squid process figures

/** The namespace of the bench's one proxy (the lab runs each proxy of the fleet in a namespace of its own). */
function proxyNs(topo: LabTopology): string {
  return topo.proxies[0]!.ns;
}

/** The bench's one proxy's Squid processes (src/lab/fleet.ts). */
const squidPidsOf = (topo: LabTopology): number[] => squidPids(topo.proxies[0]!);

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

const statusKiB = (pid: number, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(readProc(pid, 'status'))?.[1] ?? 0);
/** utime + stime in clock ticks (fields 14 and 15 of /proc/pid/stat). */
function cpuTicks(pid: number): number {
  const stat = readProc(pid, 'stat');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
}
function machineBusy(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!;
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}
const openFds = (pid: number) => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
};

/** Samples Squid (all its processes) every 250 ms while `work` runs. */
async function sampled<T>(
  topo: LabTopology,
  work: () => Promise<T>,
): Promise<{ result: T; peakRssMiB: number; hwmMiB: number; squidCpuPct: number; machineCpuPct: number; peakFds: number }> {
  const pids = squidPidsOf(topo);
  const ticks0 = pids.reduce((a, p) => a + cpuTicks(p), 0);
  const m0 = machineBusy();
  const t0 = Date.now();
  let peakRss = 0;
  let peakFds = 0;
  const timer = setInterval(() => {
    peakRss = Math.max(
      peakRss,
      pids.reduce((a, p) => a + statusKiB(p, 'VmRSS'), 0),
    );
    peakFds = Math.max(
      peakFds,
      pids.reduce((a, p) => a + openFds(p), 0),
    );
  }, 250);
  try {
    const result = await work();
    const secs = (Date.now() - t0) / 1000;
    const m1 = machineBusy();
    const hz = 100; // USER_HZ on Linux
    return {
      result,
      peakRssMiB: peakRss / 1024,
      hwmMiB: Math.max(...pids.map((p) => statusKiB(p, 'VmHWM'))) / 1024,
      squidCpuPct: ((pids.reduce((a, p) => a + cpuTicks(p), 0) - ticks0) / hz / secs) * 100,
      machineCpuPct: ((m1.busy - m0.busy) / (m1.total - m0.total)) * 100 * 2,
      peakFds,
    };
  } finally {
    clearInterval(timer);
  }
}

// ---------------------------------------------------------------- clients

interface Path {
  readonly name: 'proxy' | 'direct';
  /** Namespace per concurrent client group (two tenants for the proxy; the direct namespace twice). */
  readonly ns: readonly string[];
  readonly proxy: readonly (string | undefined)[];
}

function paths(topo: LabTopology, bench: BenchTopology): Path[] {
  const [a, b] = topo.tenants as [(typeof topo.tenants)[0], (typeof topo.tenants)[0]];
  return [
    { name: 'direct', ns: [bench.directNs, bench.directNs], proxy: [undefined, undefined] },
    { name: 'proxy', ns: [a.spokeNs, b.spokeNs], proxy: [`${a.endpointIp}:${a.tenant.port}`, `${b.endpointIp}:${b.tenant.port}`] },
  ];
}

/** One download with curl; MB/s from curl's own measurement (decimal MB, 10^6 bytes). */
function download(
  ns: string,
  url: string,
  proxy: string | undefined,
  ca: string,
  bytes: number,
): { mbps: number; ok: boolean; detail: string } {
  const r = inNs(
    ns,
    [
      'curl',
      '-sS',
      '-o',
      '/dev/null',
      '--max-time',
      '120',
      '--cacert',
      ca,
      ...(proxy ? ['-x', `http://${proxy}`] : []),
      '-w',
      '%{http_code} %{size_download} %{speed_download}',
      url,
    ],
    { allowFail: true, timeoutMs: 130_000 },
  );
  const [code, size, speed] = r.stdout.trim().split(' ');
  const ok = r.status === 0 && code === '200' && Number(size) === bytes;
  return { mbps: ok ? Number(speed) / 1e6 : Number.NaN, ok, detail: ok ? '' : `${r.stderr.trim()} ${r.stdout.trim()}` };
}

function latency(ns: string, job: LatencyJob, dir: string): LatencyResult {
  const file = join(dir, `latency-${ns}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(job));
  const r = inNs(ns, [process.execPath, '-r', TSX, join(__dirname, 'client.ts'), file], {
    allowFail: true,
    timeoutMs: job.deadlineMs + 30_000,
  });
  try {
    return JSON.parse(r.stdout) as LatencyResult;
  } catch {
    return { ms: [], errors: job.count, firstError: `client failed: ${r.stderr.trim().split('\n')[0]}` };
  }
}

/** What a load client reports, whichever tool it was. */
interface LoadFigures {
  readonly complete: number;
  /** Failed + non-2xx (ab), or failed requests (Node client). */
  readonly errors: number;
  readonly rps: number;
  /** The tool's last complaint or exit status, when it had one. */
  readonly note: string;
}

function nodeLoad(ns: string, job: LoadJob, dir: string): Promise<LoadFigures> {
  const file = join(dir, `load-${ns}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ ...job, kind: 'load' }));
  return new Promise((resolve) => {
    const child = spawnInNs(ns, [process.execPath, '-r', TSX, join(__dirname, 'client.ts'), file], {
      timeoutMs: (job.seconds + 30) * 1000,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      try {
        const r = JSON.parse(out) as LoadResult;
        // Requests per second over the load window (the loops stop starting requests at its end).
        resolve({ complete: r.ok, errors: r.errors, rps: r.ok / job.seconds, note: r.firstError ?? '' });
      } catch {
        resolve({ complete: 0, errors: 1, rps: 0, note: `client exit ${code}: ${err.trim().split('\n')[0]}` });
      }
    });
  });
}

/** ApacheBench, bounded in time (-t), count (-n) and per request (-s); -r keeps going after a socket error. */
function ab(ns: string, url: string, proxy: string | undefined, concurrency: number, seconds: number): Promise<LoadFigures> {
  const args = [
    '-q',
    '-r',
    '-s',
    '10',
    '-t',
    String(seconds),
    '-n',
    '500000',
    '-c',
    String(concurrency),
    ...(proxy ? ['-X', proxy] : []),
    url,
  ];
  return new Promise((resolve) => {
    const child = spawnInNs(ns, ['ab', ...args], { timeoutMs: (seconds + 30) * 1000 });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
      const note = err.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
      resolve({
        complete: num(/Complete requests:\s+(\d+)/),
        errors: num(/Failed requests:\s+(\d+)/) + num(/Non-2xx responses:\s+(\d+)/),
        rps: num(/Requests per second:\s+([\d.]+)/),
        note: code !== 0 || note ? `exit ${code}: ${note}` : '',
      });
    });
  });
}

// ---------------------------------------------------------------- Squid restarts for the tuned variant

/** A variant line `ulimit -n N` starts Squid with that soft fd limit (as a systemd unit without LimitNOFILE would). */
const ULIMIT_RE = /^ulimit -n (\d+)$/;

/** Restarts Squid with the generated config plus `extra`; returns the fds Squid reported available. */
async function restartSquid(topo: LabTopology, extra: readonly string[], baseConf: string): Promise<number> {
  const p = labPaths(topo.stateDir);
  const softLimit = extra.map((l) => ULIMIT_RE.exec(l)?.[1]).find(Boolean);
  const confLines = extra.filter((l) => !ULIMIT_RE.test(l));
  for (const pid of squidPidsOf(topo)) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // gone already
    }
  }
  await waitFor(() => squidPidsOf(topo).length === 0, 10_000);
  // Appended lines win over earlier ones for single-value directives (Squid reads top to bottom).
  writeFileSync(p.squidConf, confLines.length ? `${baseConf}\n# --- bench tuning\n${confLines.join('\n')}\n` : baseConf);
  writeFileSync(p.cacheLog, '');
  const parse = inNs(proxyNs(topo), ['squid', '-k', 'parse', '-f', p.squidConf], { allowFail: true });
  if (parse.status !== 0 || /ERROR|FATAL/.test(parse.stderr)) throw new Error(`tuned squid.conf does not parse:\n${parse.stderr}`);
  inNs(
    proxyNs(topo),
    softLimit ? ['sh', '-c', `ulimit -Sn ${softLimit} && exec squid -f "$0"`, p.squidConf] : ['squid', '-f', p.squidConf],
  );
  const ports = topo.tenants.map((t) => `:${t.tenant.port} `);
  const ok = await waitFor(() => ports.every((x) => inNs(proxyNs(topo), ['ss', '-ltnH'], { allowFail: true }).stdout.includes(x)), 20_000);
  if (!ok) throw new Error('squid did not come back after the restart');
  await sleep(1000);
  return fdsAvailable(p.cacheLog);
}

function fdsAvailable(cacheLog: string): number {
  const text = existsSync(cacheLog) ? readFileSync(cacheLog, 'utf8') : '';
  return Number([...text.matchAll(/With (\d+) file descriptors available/g)].map((m) => m[1]).slice(-1)[0] ?? Number.NaN);
}

function fdFacts(topo: LabTopology): string[] {
  const p = labPaths(topo.stateDir);
  const pids = squidPidsOf(topo);
  const limits = pids.map((pid) => /^Max open files\s+(\d+)\s+(\d+)/m.exec(readProc(pid, 'limits'))?.slice(1, 3).join('/') ?? '?');
  const cacheLog = existsSync(p.cacheLog) ? readFileSync(p.cacheLog, 'utf8') : '';
  const avail = [...cacheLog.matchAll(/With (\d+) file descriptors available/g)].map((m) => m[1]).slice(-1)[0] ?? '?';
  const shellLimit = inNs(proxyNs(topo), ['sh', '-c', 'ulimit -n'], { allowFail: true }).stdout.trim();
  const conntrack = inNs(topo.tenants[0]!.gatewayNs, ['sysctl', '-n', 'net.netfilter.nf_conntrack_max'], { allowFail: true }).stdout.trim();
  const ports = inNs(proxyNs(topo), ['sysctl', '-n', 'net.ipv4.ip_local_port_range'], { allowFail: true })
    .stdout.trim()
    .replace(/\s+/, '–');
  return [
    `- Squid: "With ${avail} file descriptors available" (cache.log); Max open files soft/hard of its processes: ${limits.join(', ')}; \`ulimit -n\` in the hub namespace: ${shellLimit}`,
    `- conntrack max (gateway namespace): ${conntrack || '?'}; ephemeral ports in the hub: ${ports}`,
  ];
}

// ---------------------------------------------------------------- the benchmark

interface Subject {
  /** Row label: `direct`, or `proxy (<variant>)`. */
  readonly label: string;
  readonly path: Path;
  /** Extra squid.conf lines this subject runs with (proxy subjects only). */
  readonly extra?: readonly string[];
}

/** What every step measures with: the subjects, their order per run, and one guarded measurement. */
interface Session {
  readonly opts: Options;
  readonly topo: LabTopology;
  readonly bench: BenchTopology;
  readonly tmp: string;
  readonly subjects: readonly Subject[];
  /** Alternate the order run by run so a burst of other work on the shared machine hits every subject alike. */
  readonly order: (run: number) => readonly Subject[];
  readonly url: (scheme: 'http' | 'https', bytes: number) => string;
  /** One measurement on a lab that stayed ours from start to end; otherwise it is taken again (3 tries). */
  readonly measure: <T>(s: Subject, fn: () => T | Promise<T>) => Promise<T | undefined>;
}

const SCHEMES = ['http', 'https'] as const;
const SCHEME_LABEL = { http: 'HTTP (GET via proxy)', https: 'HTTPS (CONNECT)' } as const;

/** The bench's steps in order: throughput, latency, concurrency (each skippable), then the notes on variants. */
async function benchmark(
  opts: Options,
  topo: LabTopology,
  bench: BenchTopology,
  tmp: string,
  rebuild: () => Promise<void>,
): Promise<string[]> {
  const [direct, proxy] = paths(topo, bench) as [Path, Path];
  const subjects: Subject[] = [
    { label: 'direct', path: direct },
    { label: 'proxy (generated)', path: proxy, extra: [] },
    ...opts.tune.map((t) => ({ label: `proxy (${t.name})`, path: proxy, extra: t.extra })),
  ];
  const baseConf = readFileSync(labPaths(topo.stateDir).squidConf, 'utf8');
  const variants = squidVariants(opts, topo, baseConf, rebuild);
  const session: Session = {
    opts,
    topo,
    bench,
    tmp,
    subjects,
    order: (i) => (i % 2 === 0 ? subjects : [...subjects].reverse()),
    url: (scheme, bytes) => `${scheme}://${bench.originIp}/bytes/${bytes}`,
    measure: variants.measure,
  };
  const out: string[] = [...fdFacts(topo), ''];
  if (!opts.skip.has('throughput')) out.push(...(await throughputStep(session)));
  if (!opts.skip.has('latency')) out.push(...(await latencyStep(session)));
  if (!opts.skip.has('concurrency')) out.push(...(await concurrencyStep(session)));
  // Leave the lab as `lab up` made it (teardown follows anyway).
  await variants.restore();
  if (variants.missing.length)
    out.push(
      `Not measured (another run replaced the lab three times in a row): ${variants.missing.length} measurement(s) of ${[...new Set(variants.missing)].join(', ')}.`,
      '',
    );
  const notes = [
    `- \`proxy (generated)\`: the generated squid.conf as the lab runs it; Squid reported ${variants.fds.get('proxy (generated)')} file descriptors available`,
    ...opts.tune.map(
      (t) =>
        `- \`proxy (${t.name})\`: the generated squid.conf plus \`${t.extra.join('`, `')}\`; Squid reported ${variants.fds.get(`proxy (${t.name})`) ?? '?'} file descriptors available`,
    ),
  ];
  out.splice(
    out.indexOf('') + 1,
    0,
    'Variants (`ulimit -n N` = Squid started with that soft fd limit, as under a systemd unit without `LimitNOFILE`):',
    '',
    ...notes,
    '',
  );
  return out;
}

/**
 * The Squid variants under test: Squid restarts only when the next subject needs other squid.conf lines than the
 * running ones, and a measurement counts only on a lab that stayed ours (another engineer's `lab up` replaces it).
 */
function squidVariants(opts: Options, topo: LabTopology, baseConf: string, rebuild: () => Promise<void>) {
  let running: readonly string[] = [];
  const missing: string[] = [];
  const fds = new Map<string, number>([['proxy (generated)', fdsAvailable(labPaths(topo.stateDir).cacheLog)]]);
  const use = async (s: Subject) => {
    if (!isOurs(opts.configFile)) {
      // Another engineer's `lab up` replaced ours: wait for their run to end, then build ours again
      // (same plan, so the same topology and addresses).
      log('the lab was replaced by another run: waiting for it to finish, then rebuilding ours');
      await rebuild();
      running = [];
    }
    if (s.extra && s.extra.join('\n') !== running.join('\n')) {
      fds.set(s.label, await restartSquid(topo, s.extra, baseConf));
      running = s.extra;
    }
  };
  const measure = async <T>(s: Subject, fn: () => T | Promise<T>): Promise<T | undefined> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await use(s);
        const result = await fn();
        if (isOurs(opts.configFile)) return result;
      } catch (e) {
        // A failure on a lab that is still ours is a real failure; on a replaced one, measure again.
        if (isOurs(opts.configFile)) throw e;
        log(`measurement failed while the lab was being replaced (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
      }
      if (attempt >= 3) {
        // Keep what was measured so far: this one is reported as missing, not the whole run lost.
        log(`giving up on one measurement of ${s.label}: the lab was replaced three times`);
        missing.push(s.label);
        return undefined;
      }
    }
  };
  const restore = async () => {
    if (running.length && isOurs(opts.configFile)) await restartSquid(topo, [], baseConf);
  };
  return { measure, restore, missing, fds };
}

/** One large download per subject and scheme, `runs` times: MB/s. */
async function throughputStep({ opts, bench, subjects, order, url, measure }: Session): Promise<string[]> {
  const bytes = opts.mb * 1_000_000;
  const got = new Map<string, number[]>();
  const errors = new Map<string, string[]>();
  for (let i = 0; i < opts.runs; i++) {
    for (const s of order(i)) {
      for (const scheme of SCHEMES) {
        log(`throughput run ${i + 1}/${opts.runs}: ${s.label} ${scheme} ${opts.mb} MB`);
        const d = await measure(s, () => download(s.path.ns[0]!, url(scheme, bytes), s.path.proxy[0], bench.caCert, bytes));
        if (!d) continue;
        const key = `${scheme}|${s.label}`;
        if (d.ok) got.set(key, [...(got.get(key) ?? []), d.mbps]);
        else errors.set(key, [...(errors.get(key) ?? []), d.detail]);
      }
    }
  }
  const rows = SCHEMES.flatMap((scheme) =>
    subjects.map((s) => {
      const xs = got.get(`${scheme}|${s.label}`) ?? [];
      const base = median(got.get(`${scheme}|direct`) ?? []);
      const errs = errors.get(`${scheme}|${s.label}`) ?? [];
      return [
        SCHEME_LABEL[scheme],
        s.label,
        fmt(median(xs)),
        fmt(median(xs) / base, 2),
        xs.map((x) => fmt(x, 0)).join(' / '),
        errs.length ? `${errs.length}: ${errs[0]}` : '0',
      ];
    }),
  );
  return [
    `### Throughput: one ${opts.mb} MB download (curl), median of ${opts.runs} runs`,
    '',
    table(['download', 'path', 'MB/s', 'vs direct', 'runs MB/s', 'errors'], rows),
    '',
  ];
}

/** Sequential small requests, each on a new connection: p50 and p99 added by the proxy. */
async function latencyStep({ opts, bench, tmp, subjects, order, url, measure }: Session): Promise<string[]> {
  const p50 = new Map<string, number[]>();
  const p99 = new Map<string, number[]>();
  const errors = new Map<string, { n: number; first: string }>();
  const push = (m: Map<string, number[]>, k: string, v: number) => m.set(k, [...(m.get(k) ?? []), v]);
  for (let i = 0; i < opts.runs; i++) {
    for (const s of order(i)) {
      for (const scheme of SCHEMES) {
        log(`latency run ${i + 1}/${opts.runs}: ${s.label} ${scheme} ${opts.latencyCount} x 1 KB`);
        const r = await measure(s, () =>
          latency(
            s.path.ns[0]!,
            { url: url(scheme, 1024), proxy: s.path.proxy[0], count: opts.latencyCount, caFile: bench.caCert, deadlineMs: 60_000 },
            tmp,
          ),
        );
        if (!r) continue;
        const key = `${scheme}|${s.label}`;
        push(p50, key, percentile(r.ms, 50));
        push(p99, key, percentile(r.ms, 99));
        const e = errors.get(key) ?? { n: 0, first: '' };
        errors.set(key, { n: e.n + r.errors, first: e.first || (r.firstError ?? '') });
      }
    }
  }
  const rows = SCHEMES.flatMap((scheme) =>
    subjects.map((s) => {
      const key = `${scheme}|${s.label}`;
      const [x50, x99] = [median(p50.get(key) ?? []), median(p99.get(key) ?? [])];
      const [d50, d99] = [median(p50.get(`${scheme}|direct`) ?? []), median(p99.get(`${scheme}|direct`) ?? [])];
      const e = errors.get(key);
      return [
        scheme === 'http' ? 'HTTP GET' : 'HTTPS: CONNECT + TLS + GET',
        s.label,
        fmt(x50, 2),
        fmt(x50 - d50, 2),
        fmt(x50 / d50, 2),
        fmt(x99, 2),
        fmt(x99 - d99, 2),
        e?.n ? `${e.n} (${e.first})` : '0',
      ];
    }),
  );
  return [
    `### Latency: ${opts.latencyCount} sequential 1 KB requests, each on a new connection; median over ${opts.runs} runs of each run's percentile (ms)`,
    '',
    table(['request', 'path', 'p50', 'added p50', 'p50 vs direct', 'p99', 'added p99', 'errors'], rows),
    '',
  ];
}

/** Concurrent clients across both tenants for `seconds` per level: req/s, errors, and Squid's memory, fds and CPU. */
async function concurrencyStep({ opts, topo, bench, tmp, order, url, measure }: Session): Promise<string[]> {
  const kinds = (
    [
      { id: 'http', label: 'HTTP GET (ab)' },
      { id: 'https', label: 'HTTPS CONNECT+TLS+GET (Node)' },
    ] as const
  ).filter((k) => opts.kinds.includes(k.id));
  // [run, request, path, clients, req/s, requests, errors, RSS, HWM, fds, Squid CPU, machine CPU]
  const rows: (string | number)[][] = [];
  for (let i = 0; i < opts.runs; i++) {
    for (const s of order(i)) {
      for (const kind of kinds) {
        for (const level of opts.levels) {
          log(`concurrency run ${i + 1}/${opts.runs}: ${s.label} ${kind.id} ${level} clients for ${opts.seconds} s`);
          const half = [Math.ceil(level / 2), Math.floor(level / 2)];
          const m = await measure(s, () =>
            sampled(topo, () =>
              Promise.all(
                s.path.ns.map((ns, j) =>
                  kind.id === 'http'
                    ? ab(ns, url('http', 1024), s.path.proxy[j], half[j]!, opts.seconds)
                    : nodeLoad(
                        ns,
                        {
                          url: url('https', 1024),
                          proxy: s.path.proxy[j],
                          concurrency: half[j]!,
                          seconds: opts.seconds,
                          maxRequests: 500_000,
                          caFile: bench.caCert,
                        },
                        tmp,
                      ),
                ),
              ),
            ),
          );
          if (!m) continue;
          const r = m.result;
          const isProxy = s.path.name === 'proxy';
          const notes = r.map((x) => x.note).filter(Boolean);
          rows.push([
            i + 1,
            kind.label,
            s.label,
            level,
            fmt(
              r.reduce((a, x) => a + x.rps, 0),
              0,
            ),
            r.reduce((a, x) => a + x.complete, 0),
            `${r.reduce((a, x) => a + x.errors, 0)}${notes.length ? ` (${notes[0]})` : ''}`,
            isProxy ? fmt(m.peakRssMiB, 0) : '–',
            isProxy ? fmt(m.hwmMiB, 0) : '–',
            isProxy ? m.peakFds : '–',
            isProxy ? fmt(m.squidCpuPct, 0) : '–',
            fmt(m.machineCpuPct, 0),
          ]);
          await sleep(2000); // let TIME_WAIT and the origin settle between levels
        }
      }
    }
  }
  const out: string[] = [];
  out.push(
    `### Concurrency: 1 KB requests, a new connection per request, two tenants (clients split in half), ${opts.seconds} s per level`,
    '',
    'HTTP: ab (HTTP/1.0). HTTPS: the Node client (ab cannot CONNECT), N loops of CONNECT + TLS + GET. Medians over runs (req/s: sum of both client processes; errors: per run):',
    '',
  );
  const keys = [...new Set(rows.map((r) => `${r[1]}|${r[2]}|${r[3]}`))];
  out.push(
    table(
      [
        'request',
        'path',
        'clients',
        'req/s',
        'vs direct',
        'errors',
        'Squid peak RSS MiB',
        'Squid peak fds',
        'Squid CPU %',
        'machine CPU % (of 200)',
      ],
      keys.map((k) => {
        const sel = rows.filter((r) => `${r[1]}|${r[2]}|${r[3]}` === k);
        const med = (col: number) => median(sel.map((r) => Number(r[col])));
        const base = median(rows.filter((r) => r[1] === sel[0]![1] && r[2] === 'direct' && r[3] === sel[0]![3]).map((r) => Number(r[4])));
        return [
          sel[0]![1]!,
          sel[0]![2]!,
          sel[0]![3]!,
          fmt(med(4), 0),
          fmt(med(4) / base, 2),
          sel.map((r) => String(r[6])).join(' / '),
          fmt(med(7), 0),
          fmt(med(9), 0),
          fmt(med(10), 0),
          fmt(med(11), 0),
        ];
      }),
    ),
    '',
    '<details><summary>every run</summary>',
    '',
    table(
      [
        'run',
        'request',
        'path',
        'clients',
        'req/s',
        'requests',
        'errors',
        'Squid peak RSS MiB',
        'Squid VmHWM MiB',
        'Squid peak fds',
        'Squid CPU %',
        'machine CPU %',
      ],
      rows,
    ),
    '',
    '</details>',
    '',
  );
  return out;
}

/** `lab down` when the lab is still ours; otherwise only remove the bench's own namespace, if it is left. */
/** `lab down`, which can race another run's teardown of the same fixed paths: report, do not crash. */
async function safeDown(): Promise<void> {
  try {
    await labDown(log);
  } catch (e) {
    log(`lab down raced another run: ${e instanceof Error ? e.message : String(e)}`);
    await sleep(2000);
  }
}

async function teardown(configFile: string): Promise<void> {
  const state = readState();
  if (state?.config === configFile) {
    await safeDown();
    return;
  }
  // Gone or someone else's (maybe half-built): never tear that down, only what the bench alone added.
  log(`the lab now belongs to another run (${state?.config ?? 'none'}): leaving it alone`);
  if (run(['ip', 'netns', 'list']).stdout.includes(DIRECT_NS)) run(['ip', 'netns', 'del', DIRECT_NS], { allowFail: true });
  rmSync(join('/etc/netns', DIRECT_NS), { recursive: true, force: true });
}

async function main(): Promise<void> {
  checkLabHost();
  if (!spawnSync('sh', ['-c', 'command -v ab'], { encoding: 'utf8' }).stdout.trim()) {
    throw new Error('bench:data needs ApacheBench: apt-get install -y apache2-utils');
  }
  const m = machine();
  const command = `npm run bench:data --${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  // The lab lock (src/lab/lock.ts) keeps every lab command and test off our lab for the whole run; the
  // namespace check below and the rebuild-on-replace logic still cover runs that predate the lock.
  log('waiting for the lab lock (at most 10 min)');
  const release = await acquireLabLock({ wait: true });
  await waitForNoLab(log);
  const tmp = mkdtempSync(join(tmpdir(), 'egresshub-bench-data-'));
  const configFile = join(tmp, 'bench.yaml');
  writeFileSync(configFile, benchConfig());
  const opts = parseArgs(process.argv.slice(2), configFile);
  const plan = buildPlan(parseConfig(readFileSync(configFile, 'utf8'), configFile));
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    log('interrupted: tearing the lab down');
    void labDown(log).finally(() => {
      release();
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const up = async () => {
      const { topo } = await labUp(plan, configFile, log);
      return { topo, bench: await addBenchTopology(topo) };
    };
    const { topo, bench } = await up();
    const rebuild = async () => {
      // Our own leftovers (a half-removed lab whose state still names our config) are ours to clear.
      if (readState()?.config === configFile) await safeDown();
      await waitForNoLab(log);
      await up();
    };
    const lines = await benchmark(opts, topo, bench, tmp, rebuild);
    const head = [
      '## Data plane: the lab (spoke → endpoint → gateway → Squid → NAT → origin vs. direct → NAT → origin)',
      '',
      ...machineLines(m, command),
      '- config: the **defaults** (no tenantLimits, no lineRateMbps): what a hub deployed from a minimal config runs, fair share on',
      '',
    ];
    process.stdout.write(`${[...head, ...lines].join('\n')}\n`);
  } catch (e) {
    // Say what failed before the teardown, whose own trouble must not hide it.
    log(`benchmark failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    throw e;
  } finally {
    if (!interrupted) await teardown(configFile);
    rmSync(tmp, { recursive: true, force: true });
    release();
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
