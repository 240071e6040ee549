// One lab per machine (fixed namespace names): test files that build it take this lock first, so
// vitest's parallel workers never tear down each other's lab. A directory is created atomically; a
// lock whose owner died is taken over.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LOCK_DIR = '/run/egresshub-lab.lock';
const WAIT_MS = 10 * 60_000;

function ownerAlive(): boolean {
  try {
    const pid = Number(readFileSync(join(LOCK_DIR, 'pid'), 'utf8'));
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (bounded) for the lab lock; returns its release function. */
export async function acquireLabLock(): Promise<() => void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      return () => rmSync(LOCK_DIR, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A lock just created may not have its pid file yet: only a lock older than a second counts as stale.
      if (!ownerAlive() && Date.now() - createdAt() > 2000) rmSync(LOCK_DIR, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`the lab lock ${LOCK_DIR} was held for over ${WAIT_MS / 60_000} minutes`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function createdAt(): number {
  try {
    return statSync(LOCK_DIR).mtimeMs;
  } catch {
    return 0;
  }
}
