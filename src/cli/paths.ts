// Output paths named on the command line (`--out`, `--chart`): checked before any work starts, so a wrong path
// is one clear line (exit 2) instead of a raw errno after minutes of synthesis, a hang, files in the wrong place,
// or an input overwritten. Every command that writes a named path goes through writableDir or writableFile.
import { accessSync, constants, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../config/errors';

/** Kernel filesystems: writes there are not files, and some of them block (e.g. under /proc). */
const VIRTUAL_ROOTS = ['/proc', '/sys', '/dev'];

/** A filesystem errno in words (`ENOSPC` → "no space left on the device"); the code itself when it is not known. */
export function describeFsError(code: string | undefined): string {
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
    case 'EDQUOT':
      return 'the disk quota is exceeded';
    case 'ENOENT':
      return 'no such file or directory';
    case 'EISDIR':
      return 'it is a directory';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    default:
      return code ?? 'cannot write there';
  }
}

/** stat() that answers "nothing usable there" for a missing path and for a path through a file (ENOTDIR). */
function statOrNone(option: string, value: string, abs: string): ReturnType<typeof statSync> {
  try {
    return statSync(abs, { throwIfNoEntry: false });
  } catch (e) {
    throw new UsageError(`cannot use ${option} ${value}: ${describeFsError((e as NodeJS.ErrnoException).code)}`);
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

/** Files every CDK cloud assembly holds (what `cdk synth` writes first): a directory with them is ours to refill. */
const ASSEMBLY_MARKERS = ['manifest.json', 'cdk.out'];

function isCloudAssembly(abs: string): boolean {
  return ASSEMBLY_MARKERS.every((f) => statSync(join(abs, f), { throwIfNoEntry: false })?.isFile() === true);
}

/**
 * A directory the command will fill with a CDK cloud assembly, created if missing. Throws UsageError naming the
 * path and the reason when it cannot be written, or when it holds files of something else (they would be
 * overwritten, or collide with the assembly's own names): only a new, empty or earlier assembly directory is
 * used. `created` is the topmost directory made here (for removeCreated on failure).
 */
export function writableDir(option: string, value: string, example = 'cdk.out'): { abs: string; created?: string } {
  const abs = checkCommon(option, value, example);
  const exists = statOrNone(option, value, abs);
  if (exists && !exists.isDirectory())
    throw new UsageError(`${option} ${value} is a file, not a directory; name a directory, e.g. ${option} ${example}`);
  if (exists) {
    let entries: string[] = [];
    try {
      entries = readdirSync(abs);
    } catch (e) {
      throw new UsageError(
        `cannot use ${option} ${value}: ${describeFsError((e as NodeJS.ErrnoException).code)}; name a directory you can write`,
      );
    }
    if (entries.length > 0 && !isCloudAssembly(abs))
      throw new UsageError(
        `${option} ${value} is not empty and not a CDK cloud assembly (no manifest.json and cdk.out): its files could be overwritten; name a new or empty directory, e.g. ${option} ${example}`,
      );
  }
  try {
    const created = exists ? undefined : mkdirSync(abs, { recursive: true });
    accessSync(abs, constants.W_OK);
    return { abs, created };
  } catch (e) {
    throw new UsageError(
      `cannot write to ${option} ${value}: ${describeFsError((e as NodeJS.ErrnoException).code)}; name a directory you can write`,
    );
  }
}

/** A path the command reads, named by its option, e.g. `{ option: '--config', path: 'egresshub.yaml' }`. */
export interface InputPath {
  readonly option: string;
  readonly path: string | undefined;
}

/**
 * A file the command will write. Checks its directory and that it is not a directory, without creating it, and
 * that it is none of the command's inputs (the same file by any name: symlink, hard link, `./x` or `x`).
 */
export function writableFile(option: string, value: string, example: string, inputs: readonly InputPath[] = []): string {
  const abs = checkCommon(option, value, example);
  const exists = statOrNone(option, value, abs);
  if (exists?.isDirectory()) throw new UsageError(`${option} ${value} is a directory; name a file, e.g. ${option} ${example}`);
  for (const input of inputs) {
    if (input.path === undefined || !exists) continue;
    const same = statSync(resolve(input.path), { throwIfNoEntry: false });
    if (same && same.dev === exists.dev && same.ino === exists.ino)
      throw new UsageError(
        `${option} ${value} is the file this command reads (${input.option} ${input.path}); writing it would replace it: name another file, e.g. ${option} ${example}`,
      );
  }
  const dir = statOrNone(option, value, dirname(abs));
  if (!dir) throw new UsageError(`cannot write ${option} ${value}: the directory ${dirname(abs)} does not exist; create it first`);
  if (!dir.isDirectory()) throw new UsageError(`cannot write ${option} ${value}: ${dirname(abs)} is a file, not a directory`);
  try {
    accessSync(dirname(abs), constants.W_OK);
    if (exists) accessSync(abs, constants.W_OK);
  } catch (e) {
    throw new UsageError(
      `cannot write ${option} ${value}: ${describeFsError((e as NodeJS.ErrnoException).code)}; name a file you can write`,
    );
  }
  return abs;
}

/** Writes a file that writableFile() checked; a failure still ends as one clear line. */
export function writeOutput(option: string, abs: string, text: string): void {
  try {
    writeFileSync(abs, text);
  } catch (e) {
    throw new UsageError(`cannot write ${option} ${abs}: ${describeFsError((e as NodeJS.ErrnoException).code)}`);
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
