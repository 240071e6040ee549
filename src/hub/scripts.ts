// The proxy instances' shell functions live as files in src/hub/scripts/ (linted by shellcheck in `npm test`,
// highlighted by any editor); this reads them for the boot script, the policy apply script and the lab, which all
// run the same text. A file starts with comment lines (shellcheck directives, what it does): they are left out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SCRIPTS_DIR = join(__dirname, 'scripts');

/** The shell library `name` (src/hub/scripts/<name>.sh) as it is embedded: without its leading comment lines. */
export function shellLibrary(name: string): string {
  const lines = readFileSync(join(SCRIPTS_DIR, `${name}.sh`), 'utf8').split('\n');
  let start = 0;
  while (lines[start]?.startsWith('#')) start++;
  return lines.slice(start).join('\n').replace(/\n+$/, '');
}
