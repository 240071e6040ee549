// docs/architecture.md's "How to add …" recipes stay true: each recipe's file list is followed for every thing of its
// kind that exists today. A `<name>` in a recipe's path is filled in with each fleet mode, policy rule, command,
// config check, … the registries list, and that file must exist; the functions and tables a recipe names must be
// defined in the files it lists. A recipe added to the doc without a follower here fails too.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_CHECKS } from '../../src/config/checks';
import { MODES } from '../../src/config/fleet-modes';
import { COMMAND_TABLE } from '../../src/cli/commands';
import { POLICY_RULES } from '../../src/policy/rules';

const DOC = readFileSync('docs/architecture.md', 'utf8');
const HOW_TO = DOC.slice(DOC.indexOf('## How to add'));

/** Each recipe: its bold title ("A fleet mode") and its text up to the next one. */
const RECIPES = new Map([...HOW_TO.matchAll(/^\*\*(A [^*]+?)\.?\*\*([\s\S]*?)(?=^\*\*A |(?![\s\S]))/gm)].map((m) => [m[1]!.trim(), m[2]!]));

const pathsIn = (text: string): string[] =>
  [...text.matchAll(/`((?:src|test|bench|examples)\/[^`\s]+)`/g)].map((m) => m[1]!.replace(/\/$/, ''));

/** Every file a recipe's paths reach (folders whole), placeholders filled in with `fill`. */
function filesOf(paths: readonly string[], fill: Record<string, readonly string[]>): string[] {
  const concrete = paths.flatMap((p) => {
    const key = /<(\w+)>/.exec(p)?.[1];
    return key === undefined ? [p] : (fill[key] ?? []).map((v) => p.replace(`<${key}>`, v));
  });
  return concrete.flatMap((p) =>
    existsSync(p) && !p.includes('.') ? readdirSync(p, { recursive: true, encoding: 'utf8' }).map((f) => `${p}/${f}`) : [p],
  );
}

/** The names a recipe gives as code (`fleetModeFor()`, `MODES`, `DrainKind`) that must be defined in its files. */
function definedNamesIn(text: string): string[] {
  return [...text.matchAll(/(aws-cdk-lib's )?`([A-Za-z_]\w*)(\(\))?`/g)]
    .filter((m) => m[1] === undefined)
    .map((m) => [m[2]!, m[3]] as const)
    .filter((m) => m[1] !== undefined || /^[A-Z][A-Z_]+$|^[A-Z][a-z]+[A-Z]\w*$/.test(m[0]))
    .map((m) => m[0]);
}

const FOLLOWERS: Record<string, { fill: Record<string, readonly string[]>; also?: () => void }> = {
  'A fleet mode': {
    fill: { name: MODES.map((m) => m.name), kind: [...new Set(MODES.map((m) => m.drain))] },
  },
  'A policy rule': { fill: { name: POLICY_RULES.map((r) => r.id) } },
  'A config check': { fill: { name: CONFIG_CHECKS.map((c) => c.id) } },
  'A CLI command': { fill: { name: COMMAND_TABLE.map((c) => c.name) } },
  'A lab scenario': {
    fill: {},
    also: () => {
      // Every test that brings a lab up holds the lab for the whole file; every bench is bench/<name>.ts run by
      // `npm run bench:<name>`.
      const labTests = readdirSync('test/lab', { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.test.ts'))
        .map((f) => `test/lab/${f}`)
        .filter((f) => /\blabUp\(/.test(readFileSync(f, 'utf8')));
      expect(labTests.length).toBeGreaterThan(5);
      expect(labTests.filter((f) => !readFileSync(f, 'utf8').includes('holdLabForThisFile()'))).toEqual([]);
      const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
      const benches = Object.entries(scripts).filter(([k]) => k.startsWith('bench:'));
      expect(benches.length).toBeGreaterThan(5);
      expect(benches.filter(([k, v]) => v !== `tsx bench/${k.slice('bench:'.length)}.ts`)).toEqual([]);
    },
  },
  'A shell function the proxies run': {
    fill: { name: readdirSync('src/hub/scripts').map((f) => f.replace(/\.sh$/, '')) },
    also: () => {
      // Each file opens with the shellcheck header and is read by the hub: `shellLibrary('<name>')`, or a drain
      // script by its mode's drain kind.
      const hub = readdirSync('src/hub', { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => readFileSync(`src/hub/${f}`, 'utf8'))
        .join('\n');
      const drains = new Set(MODES.map((m) => `drain-${m.drain}`));
      for (const f of readdirSync('src/hub/scripts')) {
        const name = f.replace(/\.sh$/, '');
        expect(readFileSync(`src/hub/scripts/${f}`, 'utf8').split('\n')[0], f).toBe('# shellcheck shell=bash');
        expect(hub.includes(`shellLibrary('${name}')`) || drains.has(name), `${f} is read by the hub`).toBe(true);
      }
    },
  },
};

describe("docs/architecture.md's recipes", () => {
  it('are all followed here, and each names files', () => {
    expect([...RECIPES.keys()].sort()).toEqual(Object.keys(FOLLOWERS).sort());
    for (const [title, text] of RECIPES) expect(pathsIn(text).length, title).toBeGreaterThan(0);
  });

  for (const [title, follower] of Object.entries(FOLLOWERS)) {
    describe(title, () => {
      const text = RECIPES.get(title) ?? '';
      const paths = pathsIn(text);

      it('has each of its files for every one that exists today', () => {
        for (const [key, values] of Object.entries(follower.fill)) expect(values.length, `<${key}>`).toBeGreaterThan(0);
        const files = filesOf(paths, follower.fill);
        expect(files.filter((f) => !existsSync(f))).toEqual([]);
      });

      it('names only code its files define', () => {
        const sources = filesOf(paths, follower.fill)
          .filter((f) => /\.(ts|sh)$/.test(f) && existsSync(f))
          .map((f) => readFileSync(f, 'utf8'))
          .join('\n');
        const missing = definedNamesIn(text).filter((n) => !new RegExp(`\\b${n}\\b`).test(sources));
        expect(missing).toEqual([]);
      });

      if (follower.also) it('holds what it promises beyond its files', follower.also);
    });
  }
});
