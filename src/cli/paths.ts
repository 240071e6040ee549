// Output paths named on the command line (`--out`): checked before any work starts, so a wrong path is one
// clear line (exit 2) instead of a raw errno after minutes of synthesis, a hang, or files in the wrong place.
import { accessSync, constants, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../config/errors';

/** Kernel filesystems: writes there are not files, and some of them block (e.g. under /proc). */
const VIRTUAL_ROOTS = ['/proc', '/sys', '/dev'];

function describe(code: string | undefined): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the filesystem is read-only';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return code ?? 'cannot write there';
  }
}

/** stat() that answers "nothing usable there" for a missing path and for a path through a file (ENOTDIR). */
function statOrNone(option: string, value: string, abs: string): ReturnType<typeof statSync> {
  try {
    return statSync(abs, { throwIfNoEntry: false });
  } catch (e) {
    throw new UsageError(`cannot use ${option} ${value}: ${describe((e as NodeJS.ErrnoException).code)}`);
  }
}

function checkCommon(option: string, value: string, example: string): string {
  if (value.trim() === '') throw new UsageError(`${option} is empty; name a path, e.g. ${option} ${example}`);
  const abs = resolve(value);
  if (VIRTUAL_ROOTS.some((r) => abs === r || abs.startsWith(`${r}/`))) {
    throw new UsageError(
      `${option} ${value} is on a kernel filesystem (${abs.split('/')[1]}); name a path on a disk, e.g. ${option} ${example}`,
    );
  }
  return abs;
}

/**
 * A directory the command will fill, created if missing. Throws UsageError naming the path and the reason
 * when it cannot be written. `created` is the topmost directory made here (for removeIfEmpty on failure).
 */
export function writableDir(option: string, value: string, example = 'cdk.out'): { abs: string; created?: string } {
  const abs = checkCommon(option, value, example);
  const exists = statOrNone(option, value, abs);
  if (exists && !exists.isDirectory())
    throw new UsageError(`${option} ${value} is a file, not a directory; name a directory, e.g. ${option} ${example}`);
  try {
    const created = exists ? undefined : mkdirSync(abs, { recursive: true });
    accessSync(abs, constants.W_OK);
    return { abs, created };
  } catch (e) {
    throw new UsageError(
      `cannot write to ${option} ${value}: ${describe((e as NodeJS.ErrnoException).code)}; name a directory you can write`,
    );
  }
}

/** A file the command will write. Checks its directory and that it is not a directory, without creating it. */
export function writableFile(option: string, value: string, example: string): string {
  const abs = checkCommon(option, value, example);
  const exists = statOrNone(option, value, abs);
  if (exists?.isDirectory()) throw new UsageError(`${option} ${value} is a directory; name a file, e.g. ${option} ${example}`);
  const dir = statOrNone(option, value, dirname(abs));
  if (!dir) throw new UsageError(`cannot write ${option} ${value}: the directory ${dirname(abs)} does not exist; create it first`);
  if (!dir.isDirectory()) throw new UsageError(`cannot write ${option} ${value}: ${dirname(abs)} is a file, not a directory`);
  try {
    accessSync(dirname(abs), constants.W_OK);
    if (exists) accessSync(abs, constants.W_OK);
  } catch (e) {
    throw new UsageError(`cannot write ${option} ${value}: ${describe((e as NodeJS.ErrnoException).code)}; name a file you can write`);
  }
  return abs;
}

/** Writes a file that writableFile() checked; a failure still ends as one clear line. */
export function writeOutput(option: string, abs: string, text: string): void {
  try {
    writeFileSync(abs, text);
  } catch (e) {
    throw new UsageError(`cannot write ${option} ${abs}: ${describe((e as NodeJS.ErrnoException).code)}`);
  }
}

/** Removes a directory tree made by writableDir() when the command failed before using it. */
export function removeCreated(created: string | undefined): void {
  if (created === undefined) return;
  try {
    rmSync(created, { recursive: true, force: true });
  } catch {
    // already gone
  }
}
