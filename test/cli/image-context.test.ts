// `image show` and `image refresh` read cdk.context.json the same way: a truncated, `null`, array or directory
// file is one clear line (exit 2) naming the file and the fix, never a raw SyntaxError, TypeError or EISDIR.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { scratchDirs } from '../support/scratch';

const cwd = process.cwd();
const EXAMPLE = join(cwd, 'examples', 'egresshub.yaml');
const scratch = scratchDirs('egresshub-context-');

const contexts: Record<string, { write: (file: string) => void; says: RegExp }> = {
  truncated: {
    write: (f) => writeFileSync(f, '{"availability-zones:x": ['),
    says: /: not JSON \(.*\); it is written by `npx cdk synth`: fix or delete it$/,
  },
  null: { write: (f) => writeFileSync(f, 'null\n'), says: /: it holds null, not a JSON object; it is written by `npx cdk synth`/ },
  'an array': { write: (f) => writeFileSync(f, '[1]'), says: /: it holds an array, not a JSON object;/ },
  'a directory': { write: (f) => mkdirSync(f), says: /: it is a directory, not a file; it is written by `npx cdk synth`/ },
};

describe('image commands on a broken cdk.context.json', () => {
  const rows = Object.entries(contexts).flatMap(([kind, c]) => ['show', 'refresh'].map((sub) => [sub, kind, c] as const));
  it.each(rows)('image %s fails when cdk.context.json is %s', async (sub, _kind, c) => {
    const dir = scratch();
    const file = join(dir, 'cdk.context.json');
    c.write(file);
    const before = (() => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
    })();
    process.chdir(dir);
    const r = await runCli('image', sub, '-c', EXAMPLE);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: cannot read .*cdk\.context\.json/);
    expect(lines[0]).toMatch(c.says);
    expect(r.stderr).not.toMatch(/EISDIR|TypeError|\n\s+at /);
    if (before !== undefined) expect(readFileSync(file, 'utf8')).toBe(before);
  });
});
