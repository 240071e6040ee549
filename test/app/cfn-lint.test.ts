// A second opinion on every template: cfn-lint (AWS's CloudFormation linter), for each fleet mode and egress.
// No errors allowed; each warning rule that may appear is listed with why it is accepted. Skipped (visibly)
// where cfn-lint is not installed; CI installs it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { synthesize } from '../../src/app';
import { FLEET_VARIANTS, planOf, variantConfig } from '../support/stack';

const hasCfnLint = spawnSync('cfn-lint', ['--version']).status === 0;

/** Warning rules accepted, with the reason. Anything else (and any error) fails. */
const ACCEPTED_WARNINGS: Record<string, string> = {
  W3010:
    'AZ names come from the config on purpose: subnets must sit in the AZs the spokes use (docs/hub.md), and offline synth needs no AZ lookup',
  W3005:
    'a DependsOn that a Ref also implies: CDK adds it for ordering that must hold even if the Ref goes away (log group before its transformer)',
};

const dir = mkdtempSync(join(tmpdir(), 'egresshub-cfnlint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** cfn-lint over every template of the app a config synthesizes: no errors, only accepted warnings. */
function lintApp(config: Record<string, unknown>, name: string): void {
  const out = join(dir, name);
  synthesize(planOf(config), out);
  const files = readdirSync(out)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => join(out, f));
  const r = spawnSync('cfn-lint', ['--format', 'parseable', ...files], { encoding: 'utf8', timeout: 120_000 });
  // Exit code: a bit mask; 2 = errors, 4 = warnings, 8 = informational (cfn-lint docs).
  const findings = r.stdout.split('\n').filter(Boolean);
  const rules = findings.map((l) => l.split(':')[5] ?? l);
  expect(
    rules.filter((rule) => rule.startsWith('E')),
    r.stdout,
  ).toEqual([]);
  expect((r.status ?? 0) & 2).toBe(0);
  expect(
    [...new Set(rules)].filter((rule) => !(rule in ACCEPTED_WARNINGS)),
    r.stdout,
  ).toEqual([]);
}

describe.skipIf(!hasCfnLint)('cfn-lint', () => {
  it.each(FLEET_VARIANTS)('%s with %s egress: no errors, only accepted warnings', (mode, egress) => {
    lintApp(variantConfig(mode, egress), `${mode}-${egress}`);
  });

  it('nlb behind a regional NAT gateway: no errors, only accepted warnings', () => {
    const config = variantConfig('nlb', 'nat') as { hub: Record<string, unknown> };
    config.hub.natGateways = 'regional';
    lintApp(config, 'nlb-regional');
  });
});
