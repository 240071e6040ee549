// docs/policy.md's rule table, made from the registry: `npx tsx src/policy/rules/docs.ts --write` rewrites it between
// its markers; test/policy/rules.test.ts fails while the file and the registry disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { POLICY_RULES } from './index';
import { SLOTS, type PolicyRule } from './rule';

export const RULE_TABLE_START = '<!-- rule table: generated from src/policy/rules/ (npx tsx src/policy/rules/docs.ts --write) -->';
export const RULE_TABLE_END = '<!-- end of rule table -->';
export const POLICY_DOC = 'docs/policy.md';

const DECIDED_BY: Record<PolicyRule['enforcedBy'], string> = {
  http_access: '`http_access`',
  ssl_bump: '`ssl_bump`',
  nftables: 'nftables',
  tc: 'tc',
};

/**
 * The rules Squid decides by, in the order it asks them: the slots' order (first match wins), registry order within a
 * slot. Audit mode's would-deny lines let evaluation go on, so they set no place.
 */
export function evaluationOrder(): PolicyRule[] {
  const deciding = SLOTS.filter((s) => /^(access|deny|bump)\./.test(s) && s !== 'access.audit');
  return [...new Set(deciding.flatMap((slot) => POLICY_RULES.filter((r) => r.render?.[slot])))];
}

/** One row per rule: Squid's in the order it asks them (numbered), then the limits. */
export function ruleRows(): string[][] {
  const order = evaluationOrder();
  return [...order, ...POLICY_RULES.filter((r) => !order.includes(r))].map((r) => [
    order.includes(r) ? String(order.indexOf(r) + 1) : '–',
    `\`${r.id}\``,
    r.kind,
    DECIDED_BY[r.enforcedBy],
    r.kind === 'verdict' ? '–' : r.auditable ? 'would-deny' : 'enforced',
    r.doc.refuses,
    r.doc.notes,
  ]);
}

/** The table as prettier lays it out (every column padded to its widest cell), so `prettier --check` agrees. */
export function ruleTable(): string {
  const header = ['#', 'rule (`rule=` in the log)', 'kind', 'decided by', 'audit mode', 'stops', 'notes'];
  const rows = [header, ...ruleRows()];
  const widths = header.map((_, i) => Math.max(3, ...rows.map((r) => [...r[i]!].length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.slice(1).map(line)].join('\n');
}

/** The document with its rule table replaced by the registry's; throws when the markers are missing. */
export function withRuleTable(markdown: string): string {
  const start = markdown.indexOf(RULE_TABLE_START);
  const end = markdown.indexOf(RULE_TABLE_END);
  if (start < 0 || end < start) throw new Error(`${POLICY_DOC}: the rule table's markers are missing (${RULE_TABLE_START})`);
  return `${markdown.slice(0, start + RULE_TABLE_START.length)}\n\n${ruleTable()}\n\n${markdown.slice(end)}`;
}

if (require.main === module) {
  const before = readFileSync(POLICY_DOC, 'utf8');
  const after = withRuleTable(before);
  if (process.argv.includes('--write')) writeFileSync(POLICY_DOC, after);
  else if (after !== before) {
    process.stderr.write(`${POLICY_DOC}: the rule table differs from src/policy/rules/; run with --write\n`);
    process.exit(1);
  }
}
