// The newcomer's map stays true: every file or folder docs/architecture.md names exists, and every src/ folder
// is on it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

describe('src/ modules', () => {
  /** Each module's relative imports that are kept at run time (`import type` is erased), as file paths. */
  function runtimeImports(): Map<string, string[]> {
    const files = readdirSync('src', { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `src/${f}`);
    return new Map(
      files.map((f) => {
        const text = readFileSync(f, 'utf8');
        const targets = [...text.matchAll(/^(?:import|export) (?!type )[^;]*? from '(\.[^']+)'/gms)].flatMap((m) => {
          const base = join(dirname(f), m[1]!);
          const hit = [`${base}.ts`, `${base}/index.ts`].find((c) => existsSync(c));
          return hit ? [hit] : [];
        });
        return [f, targets];
      }),
    );
  }

  it('import one another without a cycle (a module never waits on itself while loading)', () => {
    const graph = runtimeImports();
    expect(graph.size).toBeGreaterThan(100);
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]): void => {
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') cycles.push([...path.slice(path.indexOf(t)), f, t].join(' -> '));
        else if (!state.has(t)) visit(t, [...path, f]);
      }
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
