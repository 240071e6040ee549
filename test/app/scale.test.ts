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

  it('monitoring stays within CloudWatch limits: no metric takes a dimension from the tenant field, fixed alarm and widget counts', () => {
    const hub = a.templates.get('egresshub-hub')!;
    const of = (type: string) =>
      Object.values(hub.Resources).filter((r) => (r as { Type: string }).Type === type) as {
        Properties: Record<string, unknown>;
      }[];
    const filters = of('AWS::Logs::MetricFilter');
    // 100 metric filters per log group; a filter whose dimension takes 1,000 distinct values is disabled.
    expect(filters.length).toBeLessThanOrEqual(100);
    for (const f of filters) expect(JSON.stringify(f.Properties.MetricTransformations)).not.toContain('$.tenant');
    // Alarms, contributor rules and saved queries do not grow with the tenants: the same as a 2-tenant hub.
    const small = synth(manyTenantsConfig(2)).templates.get('egresshub-hub')!;
    const count = (t: CfnTemplate, type: string) => Object.values(t.Resources).filter((r) => (r as { Type: string }).Type === type).length;
    for (const type of [
      'AWS::CloudWatch::Alarm',
      'AWS::CloudWatch::CompositeAlarm',
      'AWS::CloudWatch::InsightRule',
      'AWS::Logs::QueryDefinition',
    ])
      expect({ type, n: count(hub, type) }).toEqual({ type, n: count(small, type) });
    // A dashboard holds at most 500 widgets (PutDashboard's body), and no widget lists a metric per tenant.
    const [dashboard] = of('AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard!.Properties.DashboardBody);
    const [smallDashboard] = Object.values(small.Resources).filter(
      (r) => (r as { Type: string }).Type === 'AWS::CloudWatch::Dashboard',
    ) as {
      Properties: Record<string, unknown>;
    }[];
    expect(body.length).toBe(JSON.stringify(smallDashboard!.Properties.DashboardBody).length);
    const widgets = (body.match(/\\"type\\":/g) ?? []).length;
    expect(widgets).toBeGreaterThan(5);
    expect(widgets).toBeLessThanOrEqual(500);
    expect(body).not.toContain('tenant-0001');
  });

  it('a 2,001st tenant is refused with the quota that stops it, until the raised quota is declared', () => {
    const config = parse(thousand) as { hub: Record<string, unknown>; tenants: unknown[] };
    config.tenants.push({ name: 'tenant-2001', accounts: ['299999999999'], port: 12001, allow: '*' });
    expect(() => parseConfig(stringify(config))).toThrow(
      /2001 tenants need 2001 resource configurations, above the quota "Resource configurations per Region" \(Amazon VPC Lattice\) of 2000.*hub\.quotas\.resourceConfigurationsPerRegion/,
    );
    config.hub.quotas = { resourceConfigurationsPerRegion: 2500 };
    expect(parseConfig(stringify(config)).tenants).toHaveLength(2001);
  });

  it('adding tenant 2,001 (quota raised) moves and changes none of the other 2,000', () => {
    const config = parse(thousand) as { hub: Record<string, unknown>; tenants: unknown[] };
    config.tenants.push({ name: 'tenant-2001', accounts: ['299999999999'], port: 12001, allow: '*' });
    config.hub.quotas = { resourceConfigurationsPerRegion: 2500 };
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
