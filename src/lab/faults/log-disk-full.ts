// log-disk-full: the active proxy's log filesystem fills up under load. A small tmpfs, filled to its last block, goes
// over the proxy's log directory inside Squid's own mount namespace (nsenter: the lab's Squid runs under `ip netns
// exec`, which has one), so the log daemon's next write finds a full disk; then it is taken away again. Tenants must
// see nothing (0 failed), Squid must stay up, and every access-log line must be either written or counted as dropped
// by the daemon's report: written + dropped = requests.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logDaemonReport, LOG_DAEMON_SOURCE } from '../../policy/log-daemon';
import { squidPids } from '../fleet';
import { DEFAULT_LOAD, startLoad, type LoadOptions } from '../traffic';
import { labUp } from '../lab';
import { labPaths, LAB_SQUID_USER, readSupervisorStatus } from '../state';
import { run, waitFor } from '../sh';
import type { LabProxy, LabTopology } from '../topology';
import type { Fault, FaultContext, FaultResult } from './fault';

export interface LogDiskFullResult extends FaultResult {
  readonly fault: 'log-disk-full';
  /** The proxy whose log filesystem filled up. */
  readonly proxy: string;
  /** How long its log filesystem was full. */
  readonly fullMs: number;
  /** Access-log lines written on every proxy during the experiment. */
  readonly linesWritten: number;
  /** Lines the log daemon could not write and reported (AccessLogLinesLost on AWS). */
  readonly linesDropped: number;
  /** Why, as the daemon reported it (ENOSPC). */
  readonly reason: string;
  /** Squid and its log daemon still running on that proxy afterwards. */
  readonly squidUp: boolean;
}

export interface LogDiskFullOptions {
  readonly load: LoadOptions;
  /** Load before the disk fills. */
  readonly warmupMs: number;
  /** How long the disk stays full. */
  readonly fullMs: number;
  /** Load after the disk has room again. */
  readonly afterMs: number;
}

export const LOG_DISK_FULL_DEFAULTS: LogDiskFullOptions = {
  load: { ...DEFAULT_LOAD, clients: 8, maxSeconds: 60 },
  warmupMs: 2000,
  fullMs: 8000,
  afterMs: 2000,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid of the log daemon Squid started for `accessLog` (there is one per Squid worker; the lab runs one). */
export function logDaemonPid(accessLog: string): number | undefined {
  const out = run(['pgrep', '-f', '--', `${LOG_DAEMON_SOURCE} ${accessLog}$`], { allowFail: true }).stdout.trim();
  const pid = Number(out.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Lines in the log daemon's files in `dir` (the newest is what access.log names; the lab never rotates by size). */
export function accessLogLines(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    if (!/^access\..+\.log$/.test(f)) continue;
    const text = readFileSync(join(dir, f), 'utf8');
    n += text.split('\n').length - 1;
  }
  return n;
}

function allLines(topo: LabTopology): number {
  return topo.proxies.reduce((n, x) => n + accessLogLines(labPaths(topo.stateDir).proxy(x.index).logDir), 0);
}

/** The proxy new connections go to: the supervisor's first active one, or the only one. */
export function activeProxy(topo: LabTopology): LabProxy {
  const active = readSupervisorStatus(topo.stateDir)?.active[0];
  return topo.proxies.find((x) => x.id === active) ?? topo.proxies[0]!;
}

/** Runs `script` (sh) in the mount namespace of `pid`. */
function inMountNs(pid: number, script: string, args: string[] = []): string {
  return run(['nsenter', '-t', String(pid), '-m', 'sh', '-c', script, 'fault', ...args]).stdout;
}

export async function logDiskFull(ctx: FaultContext, opts: LogDiskFullOptions = LOG_DISK_FULL_DEFAULTS): Promise<LogDiskFullResult> {
  const { step } = ctx;
  const { topo } = await labUp(ctx.plan, ctx.configFile, step);
  const proxy = activeProxy(topo);
  const files = labPaths(topo.stateDir).proxy(proxy.index);
  const daemon = logDaemonPid(files.accessLog);
  if (daemon === undefined) throw new Error(`no log daemon runs for ${files.accessLog}: is ${proxy.id}'s Squid up?`);
  const report = logDaemonReport(files.accessLog);
  const reportedBefore = report.read();
  const linesBefore = allLines(topo);
  step(`load: ${opts.load.clients} clients through ${opts.load.tenant ?? 'the first tenant that allows plain HTTP'}`);
  const load = await startLoad(topo, opts.load);
  let filled = 0;
  let emptied = 0;
  let writtenWhileFull = 0;
  let mounted = false;
  try {
    await sleep(opts.warmupMs);
    step(`filling ${proxy.id}'s log filesystem: a full 256 KiB tmpfs over ${files.logDir} (Squid's mount namespace)`);
    // Filled before the daemon can write to it: dd runs to ENOSPC, then the daemon finds access.log gone and makes it there.
    inMountNs(
      daemon,
      'mount -t tmpfs -o size=256k,mode=0755 egresshub-log-full "$1" && chown "$2:$2" "$1" && { dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null || true; }',
      [files.logDir, LAB_SQUID_USER],
    );
    mounted = true;
    filled = Date.now();
    await sleep(opts.fullMs);
    // Whatever the daemon managed to write there counts as written (it is lost with the tmpfs, not dropped).
    writtenWhileFull = Number(inMountNs(daemon, 'cat "$1"/access.*.log 2>/dev/null | wc -l', [files.logDir]).trim() || '0');
    // Lazily: the daemon holds a file there open until its next write finds access.log back on the real disk.
    inMountNs(daemon, 'umount -l "$1"', [files.logDir]);
    mounted = false;
    emptied = Date.now();
    step(`${files.logDir} has room again after ${emptied - filled} ms`);
    await sleep(opts.afterMs);
  } finally {
    if (mounted) inMountNs(daemon, 'umount -l "$1"', [files.logDir]);
  }
  const samples = await load.stop();
  // Squid hands lines to the daemon within a second; then the daemon reports what it dropped (SIGUSR1: at once).
  await sleep(1500);
  process.kill(daemon, 'SIGUSR1');
  await waitFor(() => report.read().reports > reportedBefore.reports, 10_000, 100);
  const reported = report.read();
  const linesDropped = reported.dropped - reportedBefore.dropped;
  const failed = samples.filter((s) => s.error).length;
  const squidUp = squidPids(proxy).length > 0 && logDaemonPid(files.accessLog) !== undefined;
  step(`${samples.length} requests, ${failed} failed; ${linesDropped} access-log lines dropped and counted (${reported.reason})`);
  return {
    fault: 'log-disk-full',
    requests: samples.length,
    failed,
    failedAfterDetect: failed,
    detectMs: null,
    proxy: proxy.id,
    fullMs: emptied - filled,
    linesWritten: allLines(topo) - linesBefore + writtenWhileFull,
    linesDropped,
    reason: reported.reason,
    squidUp,
  };
}

export const logDiskFullFault: Fault = {
  name: 'log-disk-full',
  summary: "the active proxy's log filesystem full under load: Squid keeps serving, the log daemon drops and counts the lines",
  run: (ctx) => logDiskFull(ctx),
};
