// Thin wrappers over the few system commands the lab drives (ip, nft, squid, dnsmasq, openssl, curl):
// every call is bounded in time and a failure says which command failed and what it printed.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams, type SpawnOptionsWithoutStdio } from 'node:child_process';
import { join } from 'node:path';

/**
 * The Node arguments that run one of the lab's entry points (`servers`, `supervisor`, `client`, `load`,
 * next to `dir`): the compiled `.js` when the lab itself runs compiled (an installed package), else the
 * `.ts` through tsx (a clone).
 */
export function nodeEntry(dir: string, base: string, compiled = __filename.endsWith('.js')): string[] {
  return compiled ? [join(dir, `${base}.js`)] : ['-r', require.resolve('tsx/cjs'), join(dir, `${base}.ts`)];
}

export class LabCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly output: string,
  ) {
    super(`lab command failed: ${argv.join(' ')}\n${output.trim()}`);
    this.name = 'LabCommandError';
  }
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command; throws LabCommandError unless it exits 0 (or `allowFail`). */
export function run(argv: readonly string[], opts: { input?: string; allowFail?: boolean; timeoutMs?: number } = {}): RunResult {
  const [cmd, ...args] = argv as [string, ...string[]];
  const r = spawnSync(cmd, args, { input: opts.input, encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000 });
  const result = { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (!opts.allowFail && (r.error || r.status !== 0)) {
    throw new LabCommandError(argv, `${r.error ? `${r.error.message}\n` : ''}${result.stderr}${result.stdout}`);
  }
  return result;
}

/** How long a bounded child's process group has between SIGTERM at its time limit and SIGKILL. */
export const KILL_GRACE_MS = 3_000;

export interface BoundedSpawnOptions extends Omit<SpawnOptionsWithoutStdio, 'timeout' | 'killSignal' | 'detached'> {
  /** The longest the child may run: then its whole process group gets SIGTERM, and SIGKILL KILL_GRACE_MS later. */
  readonly timeoutMs: number;
}

export type BoundedChild = ChildProcessWithoutNullStreams & {
  /** Whether the time limit ended it. */
  readonly timedOut: () => boolean;
};

/** Process groups of bounded children still running: ended with this process, whatever way it exits. */
const liveGroups = new Set<number>();
let reaperInstalled = false;

/**
 * A child in a group of its own no longer gets the terminal's Ctrl-C: while any runs, these signals are passed on to
 * every live group, and a process with no handler of its own for the signal then dies of it as it would have,
 * leaving a watchdog that ends the groups KILL_GRACE_MS later (a shell ignores SIGINT in its background jobs, and
 * a trap may wait), so the bound holds after the caller is gone.
 */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function forward(signal: NodeJS.Signals): void {
  liveGroups.forEach((g) => signalGroup(g, signal));
  if (process.listenerCount(signal) === 1) {
    stopForwarding();
    const groups = [...liveGroups].map((g) => `-${g}`);
    spawn('sh', ['-c', `sleep ${KILL_GRACE_MS / 1000}; kill -KILL "$@" 2>/dev/null`, 'watchdog', ...groups], {
      detached: true,
      stdio: 'ignore',
    }).unref();
    process.kill(process.pid, signal);
  }
}

function startForwarding(): void {
  if (liveGroups.size === 1) FORWARDED.forEach((s) => process.on(s, forward));
}

function stopForwarding(): void {
  FORWARDED.forEach((s) => process.off(s, forward));
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/**
 * Starts a command inside a network namespace and returns at once, its stdin, stdout and stderr piped (the
 * asynchronous twin of inNs): how the lab, its tests and the benches run a bounded child in a namespace.
 *
 * The child leads a process group of its own, and the bound applies to the group: at `timeoutMs` the whole group
 * gets SIGTERM (then SIGKILL), and when the child itself exits, whatever it left running in its group is killed.
 * Killing only the child is not enough: a shell deferring SIGTERM until its foreground `sleep` or `flock` returns,
 * or a grandchild holding the stdout pipe, keeps the 'close' event from ever firing. `ip netns exec` execs the
 * command, so the child's pid is the command's own. (Daemons that outlive the caller go through lab.ts's
 * spawnTs, detached, logging to a file.)
 */
export function spawnInNs(ns: string, argv: readonly string[], opts: BoundedSpawnOptions): BoundedChild {
  const { timeoutMs, ...rest } = opts;
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { ...rest, detached: true });
  let timedOut = false;
  const pgid = child.pid;
  if (pgid === undefined) return Object.assign(child, { timedOut: () => false });
  liveGroups.add(pgid);
  startForwarding();
  if (!reaperInstalled) {
    reaperInstalled = true;
    process.once('exit', () => liveGroups.forEach((g) => signalGroup(g, 'SIGKILL')));
  }
  let kill: NodeJS.Timeout | undefined;
  const term = setTimeout(() => {
    timedOut = true;
    signalGroup(pgid, 'SIGTERM');
    kill = setTimeout(() => signalGroup(pgid, 'SIGKILL'), KILL_GRACE_MS);
  }, timeoutMs);
  child.once('exit', () => {
    clearTimeout(term);
    clearTimeout(kill);
    // What the child left behind in its group ends with it, so its pipes close.
    signalGroup(pgid, 'SIGKILL');
    liveGroups.delete(pgid);
    if (liveGroups.size === 0) stopForwarding();
  });
  return Object.assign(child, { timedOut: () => timedOut });
}

/** Runs a command inside a network namespace. */
export function inNs(ns: string, argv: readonly string[], opts: Parameters<typeof run>[1] = {}): RunResult {
  return run(['ip', 'netns', 'exec', ns, ...argv], opts);
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it is true or `timeoutMs` passes; returns whether it became true. */
export async function waitFor(check: () => boolean, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (check()) return true;
    await sleep(stepMs);
  }
  return check();
}
