// What the platform team watches: Squid's access and cache logs in KMS-encrypted log groups (the agent's config is
// agent-config.ts), metrics from the access log that stay within CloudWatch's limits at any tenant count
// (log-pipeline.ts), alarms (proxy capacity and health, NAT gateway port allocation and drops, denied-request spikes,
// and the fleet mode's own through FleetModeMonitoring), an optional SNS topic and a dashboard (dashboard.ts). The
// constructor reads as that list: one method per concern.
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { EgressPlan } from '../../config/plan';
import { groupWidget, healthWidgets, hubTrafficWidgets, logTable, natWidget, tenantMetricWidgets } from './dashboard';
import {
  ACCESS_LOG_TRANSFORMER,
  HUB_METRIC_FILTERS,
  LOG_LOSS_FILTERS,
  SAVED_QUERIES,
  TOP_TENANT_RULES,
  tenantMetricFilters,
  topTenantsRuleBody,
  topTenantsRuleName,
} from './log-pipeline';
import { asgMetric, byId, deniedByTenantQuery, insightRuleMetric, proxyHealthMetric, ruleOf } from './metrics';

/**
 * What a fleet mode adds to the hub's monitoring (src/hub/fleet-modes): its own alarms and dashboard widgets.
 * Every mode answers both (nothing, for a mode whose proxies the hub's own alarms cover).
 */
export interface FleetModeMonitoring {
  /** Adds the mode's alarms to `observability` (constructs in its scope, each through addAlarm). */
  addAlarms(observability: HubObservability): void;
  /** The mode's dashboard widgets, shown after the proxies' groups and health signals. */
  dashboardWidgets(autoScalingGroups: readonly autoscaling.AutoScalingGroup[]): cloudwatch.IWidget[];
}
/** Properties of {@link HubObservability}. */
export interface HubObservabilityProps {
  /** The hub's plan: log groups, retention, alarm thresholds, tenants. */
  readonly plan: EgressPlan;
  /** The proxies' Auto Scaling groups (one today; one per AZ in HA modes): each gets a capacity alarm. */
  readonly autoScalingGroups: readonly autoscaling.AutoScalingGroup[];
  /** The proxies' instance roles (one per fleet): get only what the agent needs to write the two log groups. */
  readonly instanceRoles: readonly iam.IRole[];
  /** Encrypts the log groups; its policy must admit CloudWatch Logs for the hub's `/egresshub/<stack>/*` groups. */
  readonly encryptionKey: kms.IKey;
  /** The hub VPC: its NAT gateways get port-allocation and packet-drop alarms. */
  readonly vpc: ec2.IVpc;
  /**
   * Fixed proxies (plan ids) that publish the health signal (plan.hub.proxyHealth): an alarm each, which the
   * multi-az failover health checks read, and with two or more an alarm for "no healthy proxy at all".
   * @default - no health alarms
   */
  readonly healthSignals?: readonly string[];
  /**
   * The fleet mode's own alarms and dashboard widgets (nlb: the load balancer's).
   * @default - none beyond the hub's
   */
  readonly fleetMode?: FleetModeMonitoring;
  /**
   * Where alarms notify, given by the app as a CDK topic: used instead of the config's topicArn or email.
   * @default - the plan's hub.alarms
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Evaluation period of the denied-request spike alarm.
   * @default Duration.minutes(5)
   */
  readonly deniedPeriod?: Duration;
}

/** The hub's Squid logs in CloudWatch, their metrics and top-tenant rules, alarms and dashboard (docs/operations.md). */
export class HubObservability extends Construct {
  static readonly DEFAULT_DENIED_PERIOD = Duration.minutes(5);
  /** AWS's suggested PacketsDropCount threshold: 0.01 % of the gateway's packets. */
  static readonly NAT_DROP_PERCENT = 0.01;

  readonly accessLogGroup: logs.LogGroup;
  readonly cacheLogGroup: logs.LogGroup;
  readonly alarms: cloudwatch.AlarmBase[] = [];
  /**
   * Per fixed proxy (plan id): ALARM when its health signal is below 1 or missing. Plain metric alarms on a
   * standard-resolution metric with the Minimum statistic, as Route 53 health checks require.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-route53-healthcheck-alarmidentifier.html
   */
  readonly proxyHealthAlarms: ReadonlyMap<string, cloudwatch.Alarm>;
  /** With two or more fixed proxies: ALARM while every one of them is unhealthy. */
  readonly noHealthyProxyAlarm?: cloudwatch.CompositeAlarm;
  readonly topic?: sns.ITopic;
  readonly dashboard: cloudwatch.Dashboard;
  /** The Contributor Insights rules (TOP_TENANT_RULES), by rule id. */
  readonly topTenantRules: ReadonlyMap<string, cloudwatch.CfnInsightRule>;
  /** ALARM when a proxy lost access-log lines (full or failing log disk, agent away past the budget). */
  readonly logLossAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: HubObservabilityProps) {
    super(scope, id);
    const { plan } = props;
    const { hub } = plan;
    this.accessLogGroup = this.logGroup('AccessLogGroup', hub.logGroups.access, props);
    this.cacheLogGroup = this.logGroup('CacheLogGroup', hub.logGroups.cache, props);
    for (const role of props.instanceRoles) this.grantLogShipping(role);
    this.topTenantRules = this.accessLogPipeline(plan);
    this.topic = props.alarmTopic ?? this.alarmTopic(plan, props.encryptionKey);
    this.capacityAlarms(plan, props.autoScalingGroups);
    const health = this.healthAlarms(plan, props.healthSignals ?? []);
    this.proxyHealthAlarms = health.alarms;
    this.noHealthyProxyAlarm = health.none;
    // Every fleet mode's proxies run the egress check (fixed: in their health metric; nlb: behind the NLB's check).
    this.egressAlarm(plan);
    props.fleetMode?.addAlarms(this);
    const natGateways = this.natAlarms(plan, props.vpc);
    this.logLossAlarm = this.logLoss(plan);
    this.deniedAlarms(plan, props.deniedPeriod ?? HubObservability.DEFAULT_DENIED_PERIOD, ruleOf(this.topTenantRules, 'Denied'));
    this.dashboard = this.buildDashboard(plan, props, natGateways);
  }

  /** A Squid log group: the plan's retention, the hub's key, kept when the stack goes (usage feeds charge-back). */
  private logGroup(id: string, logGroupName: string, props: HubObservabilityProps): logs.LogGroup {
    return new logs.LogGroup(this, id, {
      logGroupName,
      retention: props.plan.hub.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** The access log's transformer, metric filters, Contributor Insights rules and saved queries; returns the rules. */
  private accessLogPipeline(plan: EgressPlan): Map<string, cloudwatch.CfnInsightRule> {
    const { hub } = plan;
    const ns = hub.metricNamespace;
    const transformer = new logs.CfnTransformer(this, 'AccessLogTransformer', {
      logGroupIdentifier: this.accessLogGroup.logGroupName,
      transformerConfig: ACCESS_LOG_TRANSFORMER,
    });
    transformer.node.addDependency(this.accessLogGroup);
    const metricTenants = plan.tenants.filter((t) => t.metrics).map((t) => t.name);
    for (const f of [...HUB_METRIC_FILTERS, ...tenantMetricFilters(metricTenants)]) {
      const filter = new logs.CfnMetricFilter(this, `${f.id}Filter`, {
        logGroupName: this.accessLogGroup.logGroupName,
        filterName: `${plan.name}-${f.dimensions ? 'tenant' : 'hub'}-${f.metricName}`,
        filterPattern: f.pattern,
        applyOnTransformedLogs: true,
        metricTransformations: [
          {
            metricNamespace: ns,
            metricName: f.metricName,
            metricValue: f.value,
            unit: f.unit,
            ...(f.dimensions ? { dimensions: Object.entries(f.dimensions).map(([key, value]) => ({ key, value })) } : {}),
          },
        ],
      });
      // A filter on transformed logs is only valid once the group has its transformer.
      filter.node.addDependency(transformer);
    }
    const rules = new Map<string, cloudwatch.CfnInsightRule>();
    for (const r of TOP_TENANT_RULES) {
      const rule = new cloudwatch.CfnInsightRule(this, `TopTenants${r.id}Rule`, {
        ruleName: topTenantsRuleName(plan, r),
        ruleState: 'ENABLED',
        ruleBody: topTenantsRuleBody(hub.logGroups.access, r),
        applyOnTransformedLogs: true,
      });
      rule.node.addDependency(transformer);
      rules.set(r.id, rule);
    }
    for (const q of SAVED_QUERIES) {
      new logs.CfnQueryDefinition(this, `${q.id}Query`, {
        name: `egresshub/${plan.name}/${q.name}`,
        queryString: q.lines.join('\n| '),
        logGroupNames: [this.accessLogGroup.logGroupName],
      });
    }
    return rules;
  }

  /** Metric filters for lost access-log lines (LOG_LOSS_FILTERS) and their alarm: any loss in 5 minutes. */
  private logLoss(plan: EgressPlan): cloudwatch.Alarm {
    const ns = plan.hub.metricNamespace;
    for (const f of LOG_LOSS_FILTERS) {
      const filter = new logs.CfnMetricFilter(this, `${f.id}Filter`, {
        logGroupName: this.cacheLogGroup.logGroupName,
        filterName: `${plan.name}-hub-${f.id}`,
        filterPattern: f.pattern,
        metricTransformations: [{ metricNamespace: ns, metricName: f.metricName, metricValue: f.value, unit: f.unit }],
      });
      filter.node.addDependency(this.cacheLogGroup);
    }
    const alarm = new cloudwatch.Metric({
      namespace: ns,
      metricName: 'AccessLogLinesLost',
      statistic: 'Sum',
      period: Duration.minutes(5),
    }).createAlarm(this, 'AccessLogLossAlarm', {
      alarmDescription: `egresshub ${plan.name}: a proxy lost access-log lines (log disk full or failing, or the CloudWatch agent away longer than the log budget); egress is not affected; see docs/operations.md`,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No report means nothing was lost.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.addAlarm(alarm);
    return alarm;
  }

  /** Where alarms notify: an existing topic, or a new one mailing the config's address; none without either. */
  private alarmTopic(plan: EgressPlan, encryptionKey: kms.IKey): sns.ITopic | undefined {
    const { hub } = plan;
    // Alarms notify an existing topic, or a new one mailing the config's address.
    if (hub.alarms.topicArn) {
      return sns.Topic.fromTopicArn(this, 'AlarmTopic', hub.alarms.topicArn);
    }
    if (hub.alarms.email) {
      const topic = new sns.Topic(this, 'AlarmTopic', {
        displayName: `egresshub ${plan.name} alarms`,
        masterKey: encryptionKey,
        enforceSSL: true,
      });
      topic.addSubscription(new subs.EmailSubscription(hub.alarms.email));
      // Alarms publish to an encrypted topic only if CloudWatch may use its key (the AWS-managed SNS key
      // cannot be granted, hence the hub's own key).
      // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
      encryptionKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AlarmsPublishToEncryptedTopic',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          // Only this account's alarms: no confused deputy through CloudWatch.
          // https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
          conditions: {
            StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
            ArnLike: {
              'aws:SourceArn': Stack.of(this).formatArn({
                service: 'cloudwatch',
                resource: 'alarm',
                resourceName: '*',
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              }),
            },
          },
        }),
      );
      return topic;
    }
    return undefined;
  }

  private capacityAlarms(plan: EgressPlan, autoScalingGroups: readonly autoscaling.AutoScalingGroup[]): void {
    // Capacity: instances in service below the desired count, from the group's own metrics (which are
    // only published once metrics collection is enabled on the group).
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-metrics.html
    autoScalingGroups.forEach((asg, i) => {
      (asg.node.defaultChild as autoscaling.CfnAutoScalingGroup).addPropertyOverride('MetricsCollection', [
        { Granularity: '1Minute', Metrics: ['GroupDesiredCapacity', 'GroupInServiceInstances'] },
      ]);
      const m = (metricName: string) => asgMetric(asg, metricName);
      const missing = new cloudwatch.MathExpression({
        expression: 'desired - inService',
        usingMetrics: { desired: m('GroupDesiredCapacity'), inService: m('GroupInServiceInstances') },
        label: 'proxies missing',
        period: Duration.minutes(1),
      });
      this.addAlarm(
        missing.createAlarm(this, `ProxyCapacityAlarm${i === 0 ? '' : i + 1}`, {
          alarmDescription: `egresshub ${plan.name}: fewer proxies in service than desired for 5 minutes (instance failing, or its replacement not yet healthy); see docs/operations.md`,
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 5,
          datapointsToAlarm: 5,
          // No data means the group's metrics stopped: as bad as a missing proxy.
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
      );
    });
  }

  private healthAlarms(
    plan: EgressPlan,
    healthSignals: readonly string[],
  ): { alarms: Map<string, cloudwatch.Alarm>; none?: cloudwatch.CompositeAlarm } {
    // Fixed proxies: the health signal each publishes every plan.hub.proxyHealth.intervalSeconds (1 = Squid
    // answered and the proxy is not draining). Minimum over a minute: one failed probe withdraws the proxy
    // (its peers are healthy, so a false withdrawal costs little). No data = the proxy is gone.
    const healthAlarms = new Map<string, cloudwatch.Alarm>();
    for (const proxy of healthSignals) {
      const alarm = proxyHealthMetric(plan, proxy).createAlarm(this, `${proxy}HealthAlarm`, {
        alarmDescription: `egresshub ${plan.name}: proxy ${proxy} is unhealthy (Squid did not answer its probe, its own egress failed while another proxy's works, it is draining, or it stopped reporting); in multi-az mode the failover name stops answering it; see docs/ha.md`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      healthAlarms.set(proxy, alarm);
      this.addAlarm(alarm);
    }
    if (healthAlarms.size >= 2) {
      const none = new cloudwatch.CompositeAlarm(this, 'NoHealthyProxyAlarm', {
        alarmDescription: `egresshub ${plan.name}: no proxy is healthy (${[...healthAlarms.keys()].join(', ')} all in alarm): tenants' egress is down`,
        alarmRule: cloudwatch.AlarmRule.allOf(
          ...[...healthAlarms.values()].map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM)),
        ),
      });
      this.addAlarm(none);
      return { alarms: healthAlarms, none };
    }
    return { alarms: healthAlarms };
  }

  /** Port-allocation and drop alarms per NAT gateway of the hub VPC; returns the gateways (the dashboard graphs them). */
  private natAlarms(plan: EgressPlan, vpc: ec2.IVpc): ec2.CfnNatGateway[] {
    // NAT gateways: port allocation errors (too many connections to one destination) and dropped packets.
    // https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway-cloudwatch.html
    const natGateways = vpc.node.findAll().filter((c): c is ec2.CfnNatGateway => c instanceof ec2.CfnNatGateway);
    const natMetric = (natId: string, metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/NATGateway',
        metricName,
        dimensionsMap: { NatGatewayId: natId },
        statistic: 'Sum',
        period: Duration.minutes(1),
      });
    natGateways.forEach((nat, i) => {
      const n = i + 1;
      this.addAlarm(
        natMetric(nat.ref, 'ErrorPortAllocation').createAlarm(this, `NatPortAllocationAlarm${n}`, {
          alarmDescription: `egresshub ${plan.name}: NAT gateway ${n} could not allocate a source port (55,000 connections per destination per IP reached)`,
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
      const drops = new cloudwatch.MathExpression({
        expression: '100 * drops / (fromSource + fromDestination)',
        usingMetrics: {
          drops: natMetric(nat.ref, 'PacketsDropCount'),
          fromSource: natMetric(nat.ref, 'PacketsInFromSource'),
          fromDestination: natMetric(nat.ref, 'PacketsInFromDestination'),
        },
        label: 'dropped packets %',
        period: Duration.minutes(1),
      });
      this.addAlarm(
        drops.createAlarm(this, `NatPacketDropAlarm${n}`, {
          alarmDescription: `egresshub ${plan.name}: NAT gateway ${n} dropped more than ${HubObservability.NAT_DROP_PERCENT}% of its packets`,
          threshold: HubObservability.NAT_DROP_PERCENT,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 5,
          datapointsToAlarm: 3,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    });
    return natGateways;
  }

  private deniedAlarms(plan: EgressPlan, deniedPeriod: Duration, deniedRule: cloudwatch.CfnInsightRule): void {
    const { hub } = plan;
    const ns = hub.metricNamespace;
    const metricTenants = plan.tenants.filter((t) => t.metrics).map((t) => t.name);
    // One alarm for every tenant, with no metric per tenant: the largest contributor of the denied-requests
    // Contributor Insights rule in each period. The notification cannot carry the contributor's name: the rule's
    // report (and `egresshub usage`) names the tenant. Tenants with metrics of their own also get an alarm whose
    // contributors are the tenants themselves.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContributorInsights-GraphReportData.html
    const deniedRuleName = deniedRule.ruleName;
    const threshold = hub.alarms.deniedRequestsPer5Minutes;
    const deniedSpike = new cloudwatch.MathExpression({
      expression: insightRuleMetric(deniedRuleName, 'MaxContributorValue'),
      label: 'denied requests of the top tenant',
      period: deniedPeriod,
    }).createAlarm(this, 'DeniedSpikeAlarm', {
      alarmDescription: `egresshub ${plan.name}: a tenant had more than ${threshold} denied requests in ${deniedPeriod.toMinutes()} minutes (misconfigured client, or something probing); the Contributor Insights rule ${deniedRuleName} names it, and egresshub usage lists its top denials`,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    deniedSpike.node.addDependency(deniedRule);
    this.addAlarm(deniedSpike);
    if (metricTenants.length > 0) {
      // A Metrics Insights query grouped by Tenant makes each opted-in tenant a contributor with its own state.
      // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Metrics_Insights_Alarm.html
      this.addAlarm(
        new cloudwatch.MathExpression({
          expression: deniedByTenantQuery(ns),
          label: 'denied requests by tenant',
          period: deniedPeriod,
        }).createAlarm(this, 'TenantDeniedSpikeAlarm', {
          alarmDescription: `egresshub ${plan.name}: one of the tenants with metrics (${metricTenants.join(', ')}) had more than ${threshold} denied requests in ${deniedPeriod.toMinutes()} minutes; the alarm's contributor names it`,
          threshold,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
  }

  /**
   * What the CloudWatch agent needs to write into the two Squid log groups CloudFormation made: no
   * CreateLogGroup or retention rights.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/create-iam-roles-for-cloudwatch-agent.html
   */
  grantLogShipping(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ShipSquidLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [this.accessLogGroup.logGroupArn, this.cacheLogGroup.logGroupArn],
      }),
    );
  }

  /**
   * ALARM while no proxy's egress check succeeds (publish-health.sh): the proxies then fail open (none is withdrawn
   * for its egress, since none is better off), and this says why tenants' requests fail. Missing data counts: a
   * proxy that cannot reach CloudWatch either (no monitoring endpoint in the hub VPC: the API call leaves through the
   * same NAT gateway) publishes nothing. Two minutes, so that one proxy's failure while another recovers does not page.
   */
  private egressAlarm(plan: EgressPlan): void {
    const e = plan.hub.proxyHealth.egress;
    const alarm = new cloudwatch.Metric({
      namespace: plan.hub.proxyHealth.namespace,
      metricName: e.metricName,
      dimensionsMap: { [e.dimension]: e.dimensionValue },
      statistic: 'Maximum',
      period: Duration.minutes(1),
    }).createAlarm(this, 'NoProxyEgressAlarm', {
      alarmDescription: `egresshub ${plan.name}: no proxy reaches ${e.host}:${e.port} (name through the VPC resolver, connection through its NAT gateway or Elastic IP) for 2 minutes; none is withdrawn for it (fail open), tenants' requests to the internet fail; check the NAT gateways, the route tables, the VPC resolver and ${e.host}; see docs/ha.md`,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.addAlarm(alarm);
  }

  /** Adds `a` to the hub's alarms: it notifies the alarm topic and shows on the dashboard's alarm widget. */
  addAlarm(a: cloudwatch.AlarmBase): void {
    if (this.topic) {
      a.addAlarmAction(new cwActions.SnsAction(this.topic));
      a.addOkAction(new cwActions.SnsAction(this.topic));
    }
    this.alarms.push(a);
  }

  /**
   * One screen per hub: alarms, hub-wide traffic and the largest tenants, the fleet (groups, health, NLB, NAT), then
   * the Logs Insights tables (denials; would-deny when a tenant audits). Widgets are made by the functions below.
   */
  private buildDashboard(plan: EgressPlan, props: HubObservabilityProps, natGateways: readonly ec2.CfnNatGateway[]): cloudwatch.Dashboard {
    const logGroup = this.accessLogGroup.logGroupName;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${plan.name}-hub`,
      defaultInterval: Duration.days(1),
    });
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 3 }));
    dashboard.addWidgets(...hubTrafficWidgets(plan));
    dashboard.addWidgets(
      logTable(
        'Top tenants by bytes to clients',
        logGroup,
        byId(SAVED_QUERIES, 'TopTenants').lines.map((l) => (l.startsWith('limit') ? 'limit 20' : l)),
      ),
    );
    if (plan.tenants.some((t) => t.metrics)) dashboard.addWidgets(...tenantMetricWidgets(plan));
    dashboard.addWidgets(
      ...props.autoScalingGroups.map(groupWidget),
      ...healthWidgets(plan, props.healthSignals ?? []),
      ...(props.fleetMode?.dashboardWidgets(props.autoScalingGroups) ?? []),
      ...natGateways.map(natWidget),
    );
    // Logs Insights sees the transformed fields, so the query reads them by name.
    dashboard.addWidgets(
      logTable('Top denials (host, rule) by tenant', logGroup, [
        'filter decision = "denied"',
        'stats count(*) as denied by tenant, host, rule',
        'sort denied desc',
        'limit 20',
      ]),
    );
    // Audit-mode tenants: what enforcement would refuse, from the log (no metric per tenant; docs/policy.md, "Audit
    // mode"). The SNI column names what a refused ClientHello asked for.
    if (plan.tenants.some((t) => t.mode === 'audit')) {
      dashboard.addWidgets(
        logTable('Would-deny in audit mode (tenant, host, SNI, rule)', logGroup, [
          'filter decision = "would-deny"',
          'stats count(*) as wouldDeny by tenant, host, sni, rule',
          'sort wouldDeny desc',
          'limit 50',
        ]),
      );
    }
    return dashboard;
  }
}
