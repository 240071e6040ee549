// What `egresshub diff` says a policy change does to tenants' bandwidth: the upgrade from the delay pools of the
// previous release (its squid.conf for the example, made by `egresshub squid-conf` at 0d5242d, kept as a fixture),
// and changes of weights, ceilings and the line under fair share; and where an assembly keeps its policy.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { buildPlan, parseConfig } from '../../src/config';
import { bandwidthChanges, bandwidthOf, policyInAssembly } from '../../src/diff/policy';
import { renderSquidConf } from '../../src/policy';
import { seededContext, synthesize } from '../../src/app';

const EXAMPLE = readFileSync('examples/egresshub.yaml', 'utf8');
const planWith = (edits: [(string | number)[], unknown][]) => {
  const doc = parseDocument(EXAMPLE);
  for (const [path, v] of edits) doc.setIn(path, v);
  return buildPlan(parseConfig(doc.toString(), 'egresshub.yaml'));
};
const PREVIOUS_RELEASE = readFileSync('test/diff/fixtures/policy-0d5242d.conf', 'utf8');

describe('what a policy change does to tenant bandwidth', () => {
  it("reads the previous release's delay pools and today's fair-share tree", () => {
    expect(bandwidthOf(PREVIOUS_RELEASE)).toEqual({ kind: 'delay-pools', capsMbps: { 'project-a': 64, 'project-b': 64 } });
    expect(bandwidthOf(renderSquidConf(planWith([[['tenants', 1, 'limits'], { weight: 3, bandwidthMbps: 100 }]])))).toEqual({
      kind: 'fair-share',
      lineMbps: 4750,
      weights: { 'project-a': 1, 'project-b': 3 },
      ceilingsMbps: { 'project-b': 100 },
    });
    expect(bandwidthOf(renderSquidConf(planWith([[['hub', 'proxy'], { mode: 'multi-az', lineRateMbps: 0 }]])))).toEqual({ kind: 'none' });
  });

  it('the upgrade from delay pools: what tenants notice, how it is applied, and the transfers that keep their cap', () => {
    expect(bandwidthChanges(PREVIOUS_RELEASE, renderSquidConf(planWith([])))).toEqual([
      'tenant bandwidth: delay pools (a cap per tenant per proxy, even when idle: project-a 64 Mbit/s, project-b 64 Mbit/s) → fair share (4750 Mbit/s per proxy shared by weight: project-a 1, project-b 1; no ceilings)',
      '  applied by the policy rollout (squid -k reconfigure, one proxy at a time; this change alone replaces no instance); transfers running at the upgrade keep their old cap until they end (one inert delay pool is kept so Squid 5 does not stall them); new ones are no longer held to a cap while the proxy has room',
    ]);
  });

  it('a weight or ceiling change under fair share, and nothing when the bandwidth part is the same', () => {
    const base = renderSquidConf(planWith([]));
    expect(bandwidthChanges(base, renderSquidConf(planWith([[['tenants', 0, 'limits'], { weight: 2 }]])))[0]).toBe(
      'tenant bandwidth: fair share (4750 Mbit/s per proxy shared by weight: project-a 1, project-b 1; no ceilings) → fair share (4750 Mbit/s per proxy shared by weight: project-a 2, project-b 1; no ceilings)',
    );
    expect(bandwidthChanges(base, renderSquidConf(planWith([[['tenants', 0, 'allow'], ['*.example.org']]])))).toEqual([]);
  });

  const dir = mkdtempSync(join(tmpdir(), 'eh-policy-asset-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it("finds the hub's squid.conf among an assembly's assets", () => {
    const plan = planWith([]);
    synthesize(plan, dir, { context: seededContext(plan) });
    // The policy object is squid.conf with the proxy files it carries after it (comment lines).
    expect(policyInAssembly(dir, plan.name)?.startsWith(renderSquidConf(plan))).toBe(true);
    expect(policyInAssembly(dir, 'another-hub')).toBeUndefined();
  });
});
