// docs/operations.md shows the table of config changes and what each replaces, rendered from the
// same cases the diff tests check (cases.ts). Regenerate it with UPDATE_DOCS=1 npx vitest run test/diff/docs.test.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { renderCasesTable } from './cases';

const DOC = 'docs/operations.md';
const START = '<!-- diff-cases:start (generated from test/diff/cases.ts) -->';
const END = '<!-- diff-cases:end -->';

/** Table rows as trimmed cells, so prettier's column alignment does not matter. */
function cells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .filter((l) => !/^\|[\s|:-]+\|$/.test(l))
    .map((l) =>
      l
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim()),
    );
}

it('docs/operations.md shows the config-change table the diff tests check', () => {
  const text = readFileSync(DOC, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  expect(start, `${DOC} must contain the markers ${START} … ${END}`).toBeGreaterThan(-1);
  const current = text.slice(start + START.length, end);
  const expected = renderCasesTable();
  if (process.env.UPDATE_DOCS) {
    writeFileSync(DOC, `${text.slice(0, start + START.length)}\n\n${expected}\n\n${text.slice(end)}`);
    return;
  }
  expect(cells(current)).toEqual(cells(expected));
});
