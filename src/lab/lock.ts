// One lab per machine (fixed namespace names): whoever builds, tests, reconfigures or tears it down holds
// this lock, so two runs (a person, CI, a test file in another vitest worker) never tear down each other's
// lab. A directory is created atomically; the owner may re-enter. The lock records the owner's pid and its
// start time, so a lock whose owner is gone — dead, a zombie, or its pid reused by another process — is
// taken over at once (with a line saying so) instead of being waited on.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../config/errors';

export const LAB_LOCK_DIR = '/run/egresshub-lab.lock';
const WAIT_MS = 10 * 60_000;

/** A process's start time in clock ticks since boot (/proc/<pid>/stat field 22), or undefined if it is gone or a zombie. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

interface Owner {
  readonly pid: number;
  /** False when the recorded process is gone (or the pid now belongs to another process). */
  readonly alive: boolean;
}

/** The recorded owner, or undefined while the lock has no pid file yet. */
function owner(dir: string): Owner | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, 'pid'), 'utf8').trim();
  } catch {
    return undefined;
  }
  const [pidText, start] = text.split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return { pid: 0, alive: false };
  const now = processStart(pid);
  // Older locks hold only the pid: then any live process with that pid counts as the owner.
  return { pid, alive: now !== undefined && (start === undefined || start === now) };
}

function createdAt(dir: string): number {
  try {
    return statSync(dir).mtimeMs;
  } catch {
    return 0;
  }
}

/** Writes this process as the owner (pid and start time). */
export function writeLabLockOwner(pid = process.pid, dir = LAB_LOCK_DIR): void {
  writeFileSync(join(dir, 'pid'), `${pid} ${processStart(pid) ?? ''}`.trim());
}

export class LabBusyError extends UsageError {
  constructor(pid: number) {
    super(
      `the lab is in use by another egresshub run (pid ${pid}); wait for it to finish, or stop that process (or run \`egresshub lab down --force\`)`,
    );
  }
}

export interface LabLockOptions {
  /** Wait (at most 10 minutes) for a live holder; without, fail at once with LabBusyError. */
  readonly wait: boolean;
  /** Told when a lock left by a process that is gone is taken over. @default - a line on stderr */
  readonly onTakeover?: (pid: number) => void;
  /** The lock directory. @default LAB_LOCK_DIR (tests use their own) */
  readonly dir?: string;
}

/** The live process holding the lab, if any (not this one). */
export function labLockHolder(dir = LAB_LOCK_DIR): number | undefined {
  const o = owner(dir);
  return o?.alive && o.pid !== process.pid ? o.pid : undefined;
}

/**
 * Takes the lab lock and returns its release function. Re-entering from the holding process is a no-op;
 * a lock whose owner is gone is taken over at once.
 */
export async function acquireLabLock(opts: LabLockOptions = { wait: true }): Promise<() => void> {
  const deadline = Date.now() + WAIT_MS;
  const dir = opts.dir ?? LAB_LOCK_DIR;
  const onTakeover =
    opts.onTakeover ?? ((pid: number) => process.stderr.write(`egresshub: taking over the lab lock of pid ${pid}, which is gone\n`));
  for (;;) {
    try {
      mkdirSync(dir);
      writeLabLockOwner(process.pid, dir);
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const o = owner(dir);
      if (o?.alive && o.pid === process.pid) return () => {};
      // A lock just created may not have its pid file yet: only one older than two seconds counts as stale.
      const stale = o ? !o.alive : Date.now() - createdAt(dir) > 2000;
      if (stale) {
        if (o && o.pid > 0) onTakeover(o.pid);
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (!opts.wait && o) throw new LabBusyError(o.pid);
      if (Date.now() > deadline) throw new Error(`the lab lock ${dir} was held for over ${WAIT_MS / 60_000} minutes`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
