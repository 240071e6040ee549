// The policy's rules as data (src/policy/rules/): every rule is complete (kind, doc line, proof), the access log's
// rule= names and docs/policy.md's table come from the registry, and each lab case's expected rule agrees with its
// expected outcome.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile, type EgressPlan } from '../../src/config';
import { casesFor } from '../../src/lab/matrix';
import { buildTopology } from '../../src/lab/topology';
import { renderSquidConf, tenantLimitsRuleset } from '../../src/policy';
import { AUDITABLE_RULES, POLICY_RULES, ruleAcl, ruleById, SLOTS, SQUID_RULES, wouldDenyAcl } from '../../src/policy/rules';
import { POLICY_DOC, ruleTable, withRuleTable } from '../../src/policy/rules/docs';
import { planWith } from '../fixtures/configs';

/** Every config the lab matrix runs (test/lab/*.test.ts, `egresshub lab test`). */
const LAB_CONFIGS = [
  'examples/egresshub.yaml',
  'examples/lab-allowlist.yaml',
  'test/fixtures/lab-audit.yaml',
  'test/fixtures/lab-limits.yaml',
  'test/fixtures/lab-relay.yaml',
];
const labPlans = LAB_CONFIGS.map((f) => buildPlan(loadConfigFile(f)));
const labCases = labPlans.flatMap((plan) => {
  const topo = buildTopology(plan);
  return topo.tenants.flatMap((lt) => casesFor(topo, lt).map((c) => ({ tenant: lt.tenant, c })));
});

/** Plans that between them use every slot: audit and enforce tenants, "*" and lists, raw tunnels, fair share. */
const plans: EgressPlan[] = [
  ...labPlans,
  planWith([
    { name: 'open', port: 3201, allow: '*', mode: 'audit' },
    { name: 'listed', port: 3202, allow: ['*.github.com'], connectPorts: [443, { port: 22, tls: false }] },
    { name: 'audited', port: 3203, allow: ['example.com'], mode: 'audit' },
  ]),
];

describe('policy rules', () => {
  it('have unique names, a kind, a doc line, and a place to decide', () => {
    expect(new Set(POLICY_RULES.map((r) => r.id)).size).toBe(POLICY_RULES.length);
    for (const r of POLICY_RULES) {
      expect(r.id, r.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(['address', 'name', 'port', 'protocol', 'tls', 'verdict', 'limit'], r.id).toContain(r.kind);
      expect(r.doc.refuses.length, r.id).toBeGreaterThan(5);
      expect(r.doc.notes.length, r.id).toBeGreaterThan(5);
      expect(Object.keys(r.render ?? {}).length, `${r.id} renders nothing`).toBeGreaterThan(0);
      // Squid's rules tag a decision; limits act outside Squid and log none.
      expect(r.decision === undefined, r.id).toBe(r.kind === 'limit');
      expect(r.kind === 'limit', r.id).toBe(r.enforcedBy === 'nftables' || r.enforcedBy === 'tc');
      if (r.auditable) expect(['name', 'tls'], `${r.id}: audit mode relaxes only names and the TLS checks`).toContain(r.kind);
    }
  });

  it('each have a lab case that expects them, or lab tests that prove what no single request can', () => {
    const expected = new Set(labCases.flatMap(({ c }) => [c.rule, c.fetchRule]));
    for (const r of POLICY_RULES) {
      if (expected.has(r.id)) continue;
      expect(r.provenBy?.length, `${r.id}: no lab case expects it and it names no test that proves it`).toBeGreaterThan(0);
      for (const f of r.provenBy!) expect(existsSync(f), `${r.id}: ${f}`).toBe(true);
    }
    // Only what a matrix request cannot reach goes without a case: limits (they need load) and the default deny (it
    // needs a listener no tenant owns, which no lab endpoint forwards to).
    expect(POLICY_RULES.filter((r) => !expected.has(r.id)).map((r) => r.id)).toEqual(['default-deny', 'tenant-connections', 'fair-share']);
  });

  it("expect of each lab case the outcome its rule gives: the allow, an audit mode's would-deny, or a refusal", () => {
    expect(labCases.length).toBeGreaterThan(200);
    const wrong: string[] = [];
    for (const { tenant, c } of labCases) {
      const rule = c.rule === null ? undefined : ruleById(c.rule);
      if (c.rule !== null) expect(rule, `${tenant.name}/${c.id}: rule ${c.rule} is not in the registry`).toBeDefined();
      if (c.fetchRule) expect(ruleById(c.fetchRule), `${tenant.name}/${c.id}: ${c.fetchRule}`).toBeDefined();
      const outcome = !rule
        ? 'no-connect'
        : rule.decision === 'allowed' || (rule.auditable && tenant.mode === 'audit')
          ? 'allowed'
          : 'denied';
      if (c.expected !== outcome) wrong.push(`${tenant.name}/${c.id}: expects ${c.expected}, its rule ${c.rule} gives ${outcome}`);
    }
    expect(wrong).toEqual([]);
  });

  it('name every rule= the access log can carry, and nothing else', () => {
    for (const plan of plans) {
      const conf = renderSquidConf(plan).split('\n');
      const declared = conf.flatMap((l) => /^acl (\S+) annotate_transaction decision=(\S+) rule=(\S+)$/.exec(l)?.slice(1) ?? []);
      const audit = plan.tenants.some((t) => t.mode === 'audit');
      expect(declared).toEqual([
        ...SQUID_RULES.flatMap((r) => [ruleAcl(r.id), r.decision!, r.id]),
        ...(audit ? AUDITABLE_RULES.flatMap((id) => [wouldDenyAcl(id), 'would-deny', id]) : []),
      ]);
      // Every verdict ACL used on a decision line is declared, and every rule with a decision is used by one.
      const decisions = conf.filter((l) => /^(http_access|ssl_bump|on_unsupported_protocol) /.test(l));
      const used = new Set(decisions.flatMap((l) => l.split(' ').filter((w) => /^(r|wd)_/.test(w))));
      expect([...used].filter((acl) => !declared.includes(acl))).toEqual([]);
    }
    const used = new Set(plans.flatMap((plan) => renderSquidConf(plan).split('\n')).flatMap((l) => l.split(' ')));
    for (const r of SQUID_RULES) expect(used.has(ruleAcl(r.id)), r.id).toBe(true);
    // The connection limit's log lines name a rule of the registry too.
    const nft = tenantLimitsRuleset(plans[0]!).join('\n');
    for (const m of nft.matchAll(/rule=(\S+)/g)) expect(ruleById(m[1]!)?.kind).toBe('limit');
  });

  it('fill only slots that exist', () => {
    for (const r of POLICY_RULES) for (const slot of Object.keys(r.render ?? {})) expect(SLOTS, `${r.id}: ${slot}`).toContain(slot);
  });

  it("are docs/policy.md's rule table, one row each", () => {
    const doc = readFileSync(POLICY_DOC, 'utf8');
    expect(withRuleTable(doc) === doc, `${POLICY_DOC}'s rule table is stale: npx tsx src/policy/rules/docs.ts --write`).toBe(true);
    const table = ruleTable().split('\n');
    expect(table.length).toBe(POLICY_RULES.length + 2);
    for (const r of POLICY_RULES) expect(table.filter((l) => l.includes(`| \`${r.id}\``)).length, r.id).toBe(1);
  });
});
