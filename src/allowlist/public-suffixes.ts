// The Public Suffix List as the `psl` package ships it (its data/rules.js: ICANN and private sections, one rule
// per entry, `*.` and `!` prefixes as in the list). psl's API answers "what is this name's registrable domain";
// a wildcard proposal needs the other question too — "does anyone else's suffix live under this name?" —
// which only the rules themselves answer. The version is pinned in package.json, and a test checks the file.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cache: ReadonlySet<string> | undefined;
let atOrAbove: ReadonlySet<string> | undefined;

/** Every PSL rule with its `*.`/`!` prefix removed, lowercase. */
export function publicSuffixRules(): ReadonlySet<string> {
  if (cache) return cache;
  const file = join(dirname(require.resolve('psl')), '..', 'data', 'rules.js');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('[');
  if (!text.startsWith('export default') || start < 0) throw new Error(`${file}: not the psl rules list this code reads`);
  const rules = JSON.parse(text.slice(start).replace(/;\s*$/, '')) as string[];
  cache = new Set(rules.map((r) => r.replace(/^(\*\.|!)/, '').toLowerCase()));
  return cache;
}

/** True when a public suffix (ICANN or private) is `name` itself or lives anywhere under it. */
export function hasSuffixAtOrBelow(name: string): boolean {
  // Every rule and each of its parents (`s3.amazonaws.com` gives `amazonaws.com` and `com`), once: a lookup
  // is then one Set probe instead of a scan of the ~10,000 rules per name asked.
  if (!atOrAbove) {
    const names = new Set<string>();
    for (const r of publicSuffixRules()) {
      names.add(r);
      for (let i = r.indexOf('.'); i >= 0; i = r.indexOf('.', i + 1)) names.add(r.slice(i + 1));
    }
    atOrAbove = names;
  }
  return atOrAbove.has(name);
}
