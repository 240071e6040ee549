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

/**
 * Starts a command inside a network namespace and returns at once, its stdin, stdout and stderr piped (the
 * asynchronous twin of inNs): how the lab, its tests and the benches run a bounded child in a namespace. Bound it
 * with `timeout`. (Daemons that outlive the caller go through lab.ts's spawnTs, detached, logging to a file.)
 */
export function spawnInNs(ns: string, argv: readonly string[], opts: SpawnOptionsWithoutStdio = {}): ChildProcessWithoutNullStreams {
  return spawn('ip', ['netns', 'exec', ns, ...argv], opts);
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
