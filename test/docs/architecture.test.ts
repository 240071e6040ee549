// The newcomer's map stays true: every file or folder docs/architecture.md names exists, and every src/ folder
// is on it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const MAP = readFileSync('docs/architecture.md', 'utf8');

describe('docs/architecture.md', () => {
  it('names only paths that exist', () => {
    const paths = [...MAP.matchAll(/`((?:src|test|bench|examples)\/[^`\s]+)`/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(30);
    // Braces list several files of one folder: src/config/{load,schema}.ts; a <name> is a placeholder.
    const expanded = paths
      .filter((p) => !p.includes('<'))
      .flatMap((p) => {
        const m = /^(.*)\{([^}]+)\}(.*)$/.exec(p);
        return m ? m[2]!.split(',').map((x) => `${m[1]}${x}${m[3]}`) : [p];
      })
      .map((p) => p.replace(/\*\.\w+$/, '').replace(/\/$/, ''));
    expect(expanded.filter((p) => !existsSync(p))).toEqual([]);
  });

  it('covers every folder of src/', () => {
    const folders = readdirSync('src', { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `src/${e.name}`);
    expect(folders.filter((f) => !MAP.includes(f))).toEqual([]);
  });
});
