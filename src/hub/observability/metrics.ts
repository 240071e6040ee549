// Metrics and expressions the alarms and the dashboard share.
import { Duration } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { EgressPlan } from '../../config/plan';

/**
 * A Contributor Insights rule's statistic as a metric-math expression (MaxContributorValue: the top contributor's
 * value in each period, whoever it is; UniqueContributors: how many there were).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 */
export function insightRuleMetric(ruleName: string, statistic: 'MaxContributorValue' | 'UniqueContributors' | 'Sum'): string {
  return `INSIGHT_RULE_METRIC("${ruleName}", "${statistic}")`;
}

/** The Metrics Insights query behind the opted-in tenants' denied-spike alarm: one series (contributor) per tenant. */
export function deniedByTenantQuery(namespace: string): string {
  return `SELECT SUM(DeniedRequests) FROM SCHEMA("${namespace}", Tenant) GROUP BY Tenant ORDER BY SUM() DESC`;
}

/**
 * A fixed proxy's health signal (1 healthy, 0 not), the minimum per minute. No label: a labelled metric
 * renders as a `Metrics` query in an alarm, and Route 53 health checks read only plain metric alarms.
 */
export function proxyHealthMetric(plan: EgressPlan, proxy: string): cloudwatch.Metric {
  const h = plan.hub.proxyHealth;
  return new cloudwatch.Metric({
    namespace: h.namespace,
    metricName: h.metricName,
    dimensionsMap: { [h.dimension]: proxy },
    statistic: 'Minimum',
    period: Duration.minutes(1),
  });
}

/** A group metric at one-minute resolution (published once MetricsCollection is on), minimum per minute. */
export function asgMetric(asg: autoscaling.AutoScalingGroup, metricName: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/AutoScaling',
    metricName,
    dimensionsMap: { AutoScalingGroupName: asg.autoScalingGroupName },
    statistic: 'Minimum',
    period: Duration.minutes(1),
  });
}

/** The entry of `id` in one of this module's tables (a programming error if absent). */
export function byId<T extends { readonly id: string }>(table: readonly T[], id: string): T {
  const found = table.find((x) => x.id === id);
  if (!found) throw new Error(`no entry ${id}`);
  return found;
}

export function ruleOf(rules: ReadonlyMap<string, cloudwatch.CfnInsightRule>, id: string): cloudwatch.CfnInsightRule {
  const rule = rules.get(id);
  if (!rule) throw new Error(`no Contributor Insights rule ${id}`);
  return rule;
}
