// One lab per machine (fixed namespace names): whoever builds, tests, reconfigures or tears it down holds
// this lock, so two runs (a person, CI, a test file in another vitest worker) never tear down each other's
// lab. A directory is created atomically; a lock whose owner died is taken over; the owner may re-enter.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../config/errors';

export const LAB_LOCK_DIR = '/run/egresshub-lab.lock';
const WAIT_MS = 10 * 60_000;

function holder(): number | undefined {
  try {
    const pid = Number(readFileSync(join(LAB_LOCK_DIR, 'pid'), 'utf8'));
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

function createdAt(): number {
  try {
    return statSync(LAB_LOCK_DIR).mtimeMs;
  } catch {
    return 0;
  }
}

export class LabBusyError extends UsageError {
  constructor(pid: number) {
    super(`the lab is in use by another egresshub run (pid ${pid}); wait for it to finish, or stop that process`);
  }
}

/**
 * Takes the lab lock and returns its release function. With `wait`, waits (at most 10 minutes) for another
 * holder; without, fails at once with LabBusyError. Re-entering from the holding process is a no-op.
 */
export async function acquireLabLock(opts: { wait: boolean } = { wait: true }): Promise<() => void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LAB_LOCK_DIR);
      writeFileSync(join(LAB_LOCK_DIR, 'pid'), String(process.pid));
      return () => rmSync(LAB_LOCK_DIR, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = holder();
      if (pid === process.pid) return () => {};
      // A lock just created may not have its pid file yet: only one older than two seconds counts as stale.
      if (pid === undefined && Date.now() - createdAt() > 2000) {
        rmSync(LAB_LOCK_DIR, { recursive: true, force: true });
        continue;
      }
      if (!opts.wait && pid !== undefined) throw new LabBusyError(pid);
      if (Date.now() > deadline) throw new Error(`the lab lock ${LAB_LOCK_DIR} was held for over ${WAIT_MS / 60_000} minutes`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
