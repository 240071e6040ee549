// The dashboard's widgets every hub shows, whatever its fleet mode (a mode adds its own: FleetModeMonitoring).
import { Duration } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { EgressPlan } from '../../config/plan';
import { TOP_TENANT_RULES, topTenantsRuleName } from './log-pipeline';
import { asgMetric, byId, insightRuleMetric, proxyHealthMetric } from './metrics';

/** A full-width Logs Insights table over the access log. */
export function logTable(title: string, logGroupName: string, queryLines: string[]): cloudwatch.LogQueryWidget {
  return new cloudwatch.LogQueryWidget({ title, logGroupNames: [logGroupName], queryLines, width: 24 });
}

/** Hub-wide requests, denials and bytes, and the largest tenant of each (named by the Contributor Insights rules). */
export function hubTrafficWidgets(plan: EgressPlan): cloudwatch.IWidget[] {
  const hubMetric = (metricName: string, label: string) =>
    new cloudwatch.Metric({ namespace: plan.hub.metricNamespace, metricName, statistic: 'Sum', period: Duration.minutes(5), label });
  const topOf = (id: string) => {
    const rule = byId(TOP_TENANT_RULES, id);
    return new cloudwatch.MathExpression({
      expression: insightRuleMetric(topTenantsRuleName(plan, rule), 'MaxContributorValue'),
      label: `top tenant's ${rule.title}`,
      period: Duration.minutes(5),
    });
  };
  return [
    new cloudwatch.GraphWidget({
      title: 'Hub: requests and denials (all tenants)',
      left: [hubMetric('Requests', 'requests'), hubMetric('DeniedRequests', 'denied')],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Hub: bytes (all tenants)',
      left: [hubMetric('BytesOut', 'to clients'), hubMetric('BytesIn', 'from clients')],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Largest tenant per 5 minutes (Contributor Insights rules name it)',
      left: [topOf('Requests'), topOf('Denied')],
      right: [topOf('BytesOut')],
      width: 8,
    }),
  ];
}

/** The opted-in tenants' own metrics (`metrics: true`), the top 20 of each by Metrics Insights. */
export function tenantMetricWidgets(plan: EgressPlan): cloudwatch.IWidget[] {
  const byTenant = (metric: string, label: string) =>
    new cloudwatch.MathExpression({
      expression: `SELECT SUM(${metric}) FROM SCHEMA("${plan.hub.metricNamespace}", Tenant) GROUP BY Tenant ORDER BY SUM() DESC LIMIT 20`,
      label,
      period: Duration.minutes(5),
    });
  return [
    new cloudwatch.GraphWidget({ title: 'Tenants with metrics: requests', left: [byTenant('Requests', 'requests')], width: 8 }),
    new cloudwatch.GraphWidget({
      title: 'Tenants with metrics: bytes to clients',
      left: [byTenant('BytesOut', 'bytes out')],
      width: 8,
    }),
    new cloudwatch.GraphWidget({ title: 'Tenants with metrics: denied', left: [byTenant('DeniedRequests', 'denied')], width: 8 }),
  ];
}

export function groupWidget(asg: autoscaling.AutoScalingGroup): cloudwatch.IWidget {
  return new cloudwatch.GraphWidget({
    title: `Proxies in service (${asg.node.scope?.node.id ?? asg.node.id})`,
    left: ['GroupInServiceInstances', 'GroupDesiredCapacity'].map((metricName) => asgMetric(asg, metricName)),
    width: 8,
  });
}

export function natWidget(nat: ec2.CfnNatGateway, i: number): cloudwatch.IWidget {
  const natMetric = (metricName: string, statistic: string) =>
    new cloudwatch.Metric({ namespace: 'AWS/NATGateway', metricName, dimensionsMap: { NatGatewayId: nat.ref }, statistic });
  return new cloudwatch.GraphWidget({
    title: `NAT gateway ${i + 1}`,
    left: ['ActiveConnectionCount'].map((metricName) => natMetric(metricName, 'Maximum')),
    right: ['ErrorPortAllocation', 'PacketsDropCount'].map((metricName) => natMetric(metricName, 'Sum')),
    width: 8,
  });
}

/** single, multi-az: each fixed proxy's health signal (what the failover records follow). */
export function healthWidgets(plan: EgressPlan, healthSignals: readonly string[]): cloudwatch.IWidget[] {
  if (healthSignals.length === 0) return [];
  return [
    new cloudwatch.GraphWidget({
      title: 'Proxy health (1 = serving; multi-az answers the first healthy one)',
      left: healthSignals.map((p) => proxyHealthMetric(plan, p).with({ label: p })),
      leftYAxis: { min: 0, max: 1 },
      width: 8,
    }),
  ];
}
