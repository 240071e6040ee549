// The bill's monitoring quantities (monitoringCounts) against what the hub construct really builds: the same
// metric, alarm-metric, composite, dashboard and rule counts in every fleet variant, so a new alarm cannot go
// unbilled.
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { costInputs } from '../../src/cli/commands/cost';
import { monitoringCounts } from '../../src/cost';
import { FLEET_VARIANTS, planOf, synthOnce, variantConfig } from '../support/stack';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/**
 * What a template bills: each metric a filter publishes is one (filters publishing the same name share it), or one
 * per opted-in tenant with a Tenant dimension.
 */
function counted(t: Template, optedIn: number, fixedProxies: number) {
  const rs = Object.values(t.toJSON().Resources as Resources);
  const of = (type: string) => rs.filter((r) => r.Type === type);
  const filters = of('AWS::Logs::MetricFilter');
  const withDimension = filters.filter((f) => JSON.stringify(f.Properties.MetricTransformations).includes('Dimensions')).length;
  const plainNames = new Set(
    filters
      .filter((f) => !JSON.stringify(f.Properties.MetricTransformations).includes('Dimensions'))
      .map((f) => (f.Properties.MetricTransformations as { MetricName: string }[])[0]!.MetricName),
  );
  const alarmMetrics = of('AWS::CloudWatch::Alarm').reduce((n, a) => {
    const metrics = a.Properties.Metrics as { MetricStat?: unknown }[] | undefined;
    if (!metrics) return n + 1; // a plain metric alarm
    const stats = metrics.filter((m) => m.MetricStat).length;
    return n + (stats > 0 ? stats : 1); // metric math reads its metrics; a query alarm counts as one
  }, 0);
  return {
    // Each fixed proxy's health, and the hub's egress series every proxy publishes to.
    customMetrics: plainNames.size + withDimension * optedIn + fixedProxies + 1,
    alarmMetrics,
    compositeAlarms: of('AWS::CloudWatch::CompositeAlarm').length,
    dashboards: of('AWS::CloudWatch::Dashboard').length,
    contributorRules: of('AWS::CloudWatch::InsightRule').length,
  };
}

describe('monitoring in the bill = monitoring in the hub', () => {
  const variants = [
    ...FLEET_VARIANTS.map(([mode, egress]) => ({ key: `${mode}-${egress}`, config: () => variantConfig(mode, egress), optedIn: 0 })),
    {
      key: 'multi-az-nat-per-az-tenant-metrics',
      config: () => {
        const c = variantConfig('multi-az', 'nat') as { hub: Record<string, unknown>; tenants: Record<string, unknown>[] };
        c.hub.natGateways = 'per-az';
        c.tenants = c.tenants.map((t) => ({ ...t, metrics: true }));
        return c;
      },
      optedIn: 2,
    },
    {
      key: 'nlb-regional-nat',
      config: () => {
        const c = variantConfig('nlb', 'nat') as { hub: Record<string, unknown> };
        c.hub.natGateways = 'regional';
        return c;
      },
      optedIn: 0,
    },
  ];
  for (const v of variants) {
    it(v.key, () => {
      const s = synthOnce(`monitoring-counts-${v.key}`, () => planOf(v.config()));
      const inputs = costInputs({ vpcs: '3', gbPerVpc: '10' }, s.plan);
      expect(inputs.hub.monitoring.tenantMetrics).toBe(v.optedIn);
      expect(monitoringCounts(inputs.hub)).toEqual(counted(s.hub, v.optedIn, s.plan.hub.proxy.fixed.length));
    });
  }
});
