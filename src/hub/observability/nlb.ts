// nlb mode's monitoring: alarms on target groups without a healthy proxy or with an unhealthy one, and the NLB's
// dashboard widgets. The nlb fleet mode (src/hub/fleet-modes/nlb.ts) adds them to the hub's observability.
import { Duration } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { EgressPlan } from '../../config/plan';
import type { HubObservability } from './hub-observability';

/**
 * The NLB's two alarms, in `observability` (their IDs are logical IDs). `perAz`: the group keeps a proxy in every
 * AZ (scaling min >= AZs), so an AZ without a healthy proxy alarms too; otherwise an AZ may rightly be empty.
 */
export function addNlbAlarms(
  observability: HubObservability,
  plan: EgressPlan,
  loadBalancer: elbv2.NetworkLoadBalancer,
  perAz: boolean,
): void {
  // One Metrics Insights alarm per condition whatever the tenant count; every target group (and AZ) is a
  // contributor with its own state.
  // https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html
  const lb = loadBalancer.loadBalancerFullName;
  observability.addAlarm(
    new cloudwatch.MathExpression({
      expression: nlbHostsQuery('MIN', 'HealthyHostCount', lb, perAz),
      label: 'healthy proxies',
      period: Duration.minutes(1),
    }).createAlarm(observability, 'NlbNoHealthyTargetAlarm', {
      alarmDescription: `egresshub ${plan.name}: a tenant port's target group has no healthy proxy${perAz ? ' in an AZ' : ''} for 2 minutes (Squid down, or the scaling group cannot launch); see docs/operations.md`,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      // The NLB reports every minute; silence means it (or the metric) is gone.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    }),
  );
  observability.addAlarm(
    new cloudwatch.MathExpression({
      expression: nlbHostsQuery('MAX', 'UnHealthyHostCount', lb, false),
      label: 'unhealthy proxies',
      period: Duration.minutes(1),
    }).createAlarm(observability, 'NlbUnhealthyTargetAlarm', {
      alarmDescription: `egresshub ${plan.name}: a proxy fails the NLB health check (no TCP accept on its health listener) for 5 minutes; the scaling group should have replaced it`,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
  );
}

/** nlb: healthy targets per tenant port, flows and bytes, and the scaling group's CPU (its target). */
export function nlbWidgets(lb: elbv2.NetworkLoadBalancer, groups: readonly autoscaling.AutoScalingGroup[]): cloudwatch.IWidget[] {
  const nlbMetric = (metricName: string, statistic: string) =>
    new cloudwatch.Metric({
      namespace: 'AWS/NetworkELB',
      metricName,
      dimensionsMap: { LoadBalancer: lb.loadBalancerFullName },
      statistic,
      period: Duration.minutes(1),
    });
  return [
    new cloudwatch.GraphWidget({
      title: 'NLB: healthy proxies per tenant port (lowest)',
      left: [
        new cloudwatch.MathExpression({
          expression: nlbHostsQuery('MIN', 'HealthyHostCount', lb.loadBalancerFullName, false),
          label: 'healthy',
          period: Duration.minutes(1),
        }),
      ],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'NLB: flows and bytes',
      left: [nlbMetric('ActiveFlowCount', 'Average'), nlbMetric('NewFlowCount', 'Sum')],
      right: [nlbMetric('ProcessedBytes', 'Sum')],
      width: 8,
    }),
    ...groups.map(
      (asg) =>
        new cloudwatch.GraphWidget({
          title: `Proxy CPU (${asg.node.scope?.node.id ?? asg.node.id}; the scaling target)`,
          left: [
            new cloudwatch.Metric({
              namespace: 'AWS/EC2',
              metricName: 'CPUUtilization',
              dimensionsMap: { AutoScalingGroupName: asg.autoScalingGroupName },
              statistic: 'Average',
              period: Duration.minutes(1),
            }),
          ],
          leftYAxis: { min: 0, max: 100 },
          width: 8,
        }),
    ),
  ];
}

/**
 * Metrics Insights over the NLB's target groups: one series per target group (and AZ), so the alarm has a
 * contributor per tenant port without a resource per tenant. `loadBalancer` is the NLB's full name
 * (`net/<name>/<id>`), the value of its LoadBalancer dimension.
 */
export function nlbHostsQuery(fn: 'MIN' | 'MAX', metric: string, loadBalancer: string, perAz: boolean): string {
  const dims = perAz ? 'AvailabilityZone, LoadBalancer, TargetGroup' : 'LoadBalancer, TargetGroup';
  const by = perAz ? 'TargetGroup, AvailabilityZone' : 'TargetGroup';
  return `SELECT ${fn}(${metric}) FROM SCHEMA("AWS/NetworkELB", ${dims}) WHERE LoadBalancer = '${loadBalancer}' GROUP BY ${by}`;
}
