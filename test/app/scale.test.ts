// 2,000 tenants (the default regional quota of resource configurations): every stack stays inside
// CloudFormation's limits with the producer fingerprints, and adding a tenant leaves every existing tenant's
// resources where and as they were (moving a resource between stacks replaces it).
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { manyTenantsConfig } from '../../bench/gen-config';
import { synthesize } from '../../src/app';
import { buildPlan, parseConfig } from '../../src/config';
import { validateTemplate } from '../support/cfn-registry';

interface CfnTemplate {
  Resources: Record<string, unknown>;
  Outputs?: Record<string, unknown>;
  Parameters?: Record<string, unknown>;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function synth(configText: string) {
  const dir = mkdtempSync(join(tmpdir(), 'egresshub-scale-'));
  dirs.push(dir);
  const plan = buildPlan(parseConfig(configText));
  const { stacks } = synthesize(plan, dir);
  const templates = new Map(stacks.map((s) => [s.stackName, JSON.parse(readFileSync(s.file, 'utf8')) as CfnTemplate]));
  return { plan, stacks, templates };
}

describe('a hub with 2,000 tenants', () => {
  const thousand = manyTenantsConfig(2000);
  const a = synth(thousand);

  it('spreads tenants over stacks that all stay inside CloudFormation limits', () => {
    expect(a.plan.tenants).toHaveLength(2000);
    for (const s of a.stacks) {
      const t = a.templates.get(s.stackName)!;
      expect({ stack: s.stackName, ok: s.resources <= 500 && s.bytes <= 1_000_000 }).toEqual({ stack: s.stackName, ok: true });
      expect(Object.keys(t.Outputs ?? {}).length).toBeLessThanOrEqual(200);
      expect(Object.keys(t.Parameters ?? {}).length).toBeLessThanOrEqual(200);
    }
    // 2,000 contiguous ports 10001-12000 -> 41 blocks of 50 ports.
    expect(a.stacks.filter((s) => s.stackName.includes('-tenants-'))).toHaveLength(41);
    const configurations = [...a.templates.values()].flatMap((t) =>
      Object.values(t.Resources).filter((r) => (r as { Type: string }).Type === 'AWS::VpcLattice::ResourceConfiguration'),
    );
    expect(configurations).toHaveLength(2000);
    // Every configuration carries its producer fingerprint (the tag that makes its stack follow the hub).
    for (const c of configurations) expect(JSON.stringify(c)).toContain('egresshub:producers');
  });

  it('validates the hub and a tenant stack against the CloudFormation registry', () => {
    expect(validateTemplate(a.templates.get('egresshub-hub'))).toEqual([]);
    expect(validateTemplate(a.templates.get('egresshub-tenants-10500'))).toEqual([]);
  });

  it('adding tenant 2,001 moves and changes none of the other 2,000', () => {
    const config = parse(thousand) as { tenants: unknown[] };
    config.tenants.push({ name: 'tenant-2001', accounts: ['299999999999'], port: 12001, allow: '*' });
    const b = synth(stringify(config));
    expect(b.plan.tenants.filter((t) => t.name !== 'tenant-2001').map((t) => [t.name, t.stack])).toEqual(
      a.plan.tenants.map((t) => [t.name, t.stack]),
    );
    for (const [name, before] of a.templates) {
      if (!name.includes('-tenants-')) continue;
      const after = b.templates.get(name)!;
      // Every resource and output already there is unchanged (same logical ID, same properties).
      for (const [id, resource] of Object.entries(before.Resources)) expect(after.Resources[id], `${name}/${id}`).toEqual(resource);
      for (const [id, output] of Object.entries(before.Outputs ?? {})) expect(after.Outputs?.[id], `${name}/${id}`).toEqual(output);
    }
  });
});
