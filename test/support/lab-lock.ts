// Test files that build the lab wait for the lab lock (src/lab/lock.ts) before they start, and tear the
// lab down and let go of the lock when they end, even after a failure.
import { afterAll, beforeAll } from 'vitest';
import { labDown } from '../../src/lab/lab';
import { acquireLabLock } from '../../src/lab/lock';

export { acquireLabLock };

/** Registers beforeAll/afterAll hooks: the whole test file holds the lab, and leaves nothing behind. */
export function holdLabForThisFile(): void {
  let release: (() => void) | undefined;
  beforeAll(async () => {
    release = await acquireLabLock();
  });
  afterAll(async () => {
    try {
      await labDown(() => {});
    } finally {
      release?.();
    }
  });
}
