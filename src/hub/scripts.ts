// The proxy instances' shell functions live as files in src/hub/scripts/ (linted by shellcheck in `npm test`,
// highlighted by any editor); this reads them for the boot script, the policy apply script and the lab, which all
// run the same text. A file starts with comment lines (shellcheck directives, what it does): they are left out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '../client/env';

export const SCRIPTS_DIR = join(__dirname, 'scripts');

/** The shell library `name` (src/hub/scripts/<name>.sh) as it is embedded: without its leading comment lines. */
export function shellLibrary(name: string): string {
  const lines = readFileSync(join(SCRIPTS_DIR, `${name}.sh`), 'utf8').split('\n');
  let start = 0;
  while (lines[start]?.startsWith('#')) start++;
  return lines.slice(start).join('\n').replace(/\n+$/, '');
}

/** A script's parameters as `KEY='value'` lines, each value one single-quoted shell word: no value is ever
 * interpolated into script text. */
export function shellAssignments(vars: Record<string, string | number>): string {
  return Object.entries(vars)
    .map(([k, v]) => `${k}=${shellQuote(String(v))}`)
    .join('\n');
}
