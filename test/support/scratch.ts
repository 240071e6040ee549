// Scratch directories for tests that run the CLI in a working directory of their own (a default ./egresshub.yaml,
// a cdk.context.json): each test's directories are removed, and the working directory restored, after it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** Registers the clean-up and returns `scratch()`, which makes a fresh directory named `<prefix>…` under tmpdir. */
export function scratchDirs(prefix: string): () => string {
  const cwd = process.cwd();
  const made: string[] = [];
  afterEach(() => {
    process.chdir(cwd);
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
