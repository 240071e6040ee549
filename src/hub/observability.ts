// What the platform team watches: the CloudWatch agent's config (Squid's access and cache logs to KMS-encrypted log
// groups), metrics from the access log that stay within CloudWatch's limits at any tenant count (hub-wide ones,
// top-tenant Contributor Insights rules, saved queries, per-tenant metrics only for tenants that opt in), alarms
// (proxy capacity and health per fleet mode, NAT gateway port allocation and drops, denied-request spikes), an
// optional SNS topic and a dashboard. The constructor reads as that list: one method per concern.
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { EgressPlan } from '../config/plan';
import { LOG_DAEMON_REPORT_DIR } from '../policy/log-daemon';

/**
 * Where Squid's logs are on the proxies (renderSquidConf's default log directory). The log daemon (src/policy/logd.py)
 * writes the access log as size-rotated files `access.<UTC time>.<n>.log` (access.log is a symlink to the newest);
 * cache.log is Squid's own.
 */
export const SQUID_ACCESS_LOGS = '/var/log/squid/access.*.log';
export const SQUID_CACHE_LOG = '/var/log/squid/cache.log';
/** The log daemon's reports of lines it lost (tmpfs: a full log disk cannot silence them). */
export const LOG_DAEMON_REPORTS = `${LOG_DAEMON_REPORT_DIR}/*.jsonl`;

/**
 * The unified CloudWatch agent's configuration: both Squid logs, one stream per instance, and the log daemon's loss
 * reports beside cache.log (their own stream). The access log's `ts=` is epoch seconds, which the agent's
 * timestamp_format cannot express, so its events carry the time the agent read them (seconds later); the usage
 * report reads `ts=` from the message itself. cache.log starts each entry with `YYYY/MM/DD HH:MM:SS`, also the start
 * of a multi-line entry.
 * Rotation: with a wildcard `file_path` the agent follows the most recently modified file; `auto_removal` makes it
 * delete a file once it has read it to the end and a newer one exists. So the daemon never renames a file the agent
 * reads (it starts a new one), the agent finishes the old one first, and a file still on disk was not read to its
 * end: the budget deletes those (counted as `evicted`). Read in the agent's source (plugins/inputs/logfile:
 * getTargetFiles picks the newest match, StopAtEOF + auto_removal; files are read from the start when no state).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-Configuration-File-Details.html
 */
export function renderCloudWatchAgentConfig(groups: { readonly access: string; readonly cache: string }): string {
  const config = {
    agent: { run_as_user: 'root', logfile: '/opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log' },
    logs: {
      force_flush_interval: 5,
      logs_collected: {
        files: {
          collect_list: [
            // retention_in_days -1: leave the group's retention to CloudFormation (the agent would otherwise set it).
            {
              file_path: SQUID_ACCESS_LOGS,
              log_group_name: groups.access,
              log_stream_name: '{instance_id}',
              auto_removal: true,
              retention_in_days: -1,
            },
            {
              file_path: SQUID_CACHE_LOG,
              log_group_name: groups.cache,
              log_stream_name: '{instance_id}',
              timestamp_format: '%Y/%m/%d %H:%M:%S',
              multi_line_start_pattern: '{timestamp_format}',
              retention_in_days: -1,
            },
            { file_path: LOG_DAEMON_REPORTS, log_group_name: groups.cache, log_stream_name: '{instance_id}-logd', retention_in_days: -1 },
          ],
        },
      },
    },
  };
  return JSON.stringify(config, null, 2);
}

/**
 * The access log's key=value line parsed into fields at ingestion (parseKeyValue, space-delimited), with
 * the counters made integers so metric filters can publish them as values. Metric filters that set
 * applyOnTransformedLogs then match `$.field` like JSON, and can take a dimension from `$.tenant`.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CloudWatch-Logs-Transformation.html
 */
export const ACCESS_LOG_TRANSFORMER: logs.CfnTransformer.ProcessorProperty[] = [
  { parseKeyValue: { source: '@message', fieldDelimiter: ' ', keyValueDelimiter: '=', overwriteIfExists: true } },
  {
    typeConverter: {
      entries: ['bytes_in', 'bytes_out', 'duration_ms', 'status'].map((key) => ({ key, type: 'integer' })),
    },
  },
];

/**
 * Lines without a tenant (`tenant=-`: a connection closed before it sent a request) are nobody's usage: they
 * are left out of every metric and contributor count.
 */
const ATTRIBUTED = '$.tenant != "-"';

/** One metric the access log feeds: its name, filter pattern and value. */
export interface AccessLogMetricFilter {
  readonly id: string;
  readonly metricName: string;
  readonly pattern: string;
  /** `1` (count the line) or `$.field` (publish the field's value). */
  readonly value: string;
  readonly unit: cloudwatch.Unit;
  /** Dimensions taken from the line's fields; none for the hub-wide metrics. */
  readonly dimensions?: Readonly<Record<string, string>>;
}

/** The four access-log metrics: what each counts (beyond "the line has a tenant") and what it publishes. */
const ACCESS_LOG_METRICS: readonly { id: string; metricName: string; when?: string; value: string; unit: cloudwatch.Unit }[] = [
  { id: 'Requests', metricName: 'Requests', value: '1', unit: cloudwatch.Unit.COUNT },
  { id: 'Denied', metricName: 'DeniedRequests', when: '$.decision = "denied"', value: '1', unit: cloudwatch.Unit.COUNT },
  { id: 'BytesIn', metricName: 'BytesIn', when: '$.bytes_in >= 0', value: '$.bytes_in', unit: cloudwatch.Unit.BYTES },
  { id: 'BytesOut', metricName: 'BytesOut', when: '$.bytes_out >= 0', value: '$.bytes_out', unit: cloudwatch.Unit.BYTES },
];

const patternOf = (who: string, when?: string) => (when ? `{ (${who}) && (${when}) }` : `{ ${who} }`);

/**
 * Hub-wide metrics: four filters with no dimension, so four custom metrics whatever the tenant count. A filter
 * taking a dimension from `$.tenant` would make a metric per tenant, and CloudWatch disables a filter that makes
 * 1,000 distinct dimension values within a short time: a hub of 2,000 tenants would lose its metrics.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-logs-metricfilter-dimension.html
 */
export const HUB_METRIC_FILTERS: readonly AccessLogMetricFilter[] = ACCESS_LOG_METRICS.map((m) => ({
  id: `Hub${m.id}`,
  metricName: m.metricName,
  pattern: patternOf(ATTRIBUTED, m.when),
  value: m.value,
  unit: m.unit,
}));

/**
 * Metrics of their own for the tenants that opted in (`metrics: true`, at most MAX_METRIC_TENANTS): the pattern
 * names each of them, so the `Tenant` dimension takes no value outside that list. Same metric names as the
 * hub-wide ones, told apart by the dimension. Patterns hold at most 1,024 characters (PutMetricFilter).
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html
 */
export function tenantMetricFilters(tenants: readonly string[]): AccessLogMetricFilter[] {
  if (tenants.length === 0) return [];
  const who = tenants.map((t) => `$.tenant = "${t}"`).join(' || ');
  return ACCESS_LOG_METRICS.map((m) => ({
    id: m.id,
    metricName: m.metricName,
    pattern: patternOf(who, m.when),
    value: m.value,
    unit: m.unit,
    dimensions: { Tenant: '$.tenant' },
  }));
}

/**
 * Access-log lines lost, on the cache log group: the log daemon's reports (JSON lines; `lost` = lines it could not
 * write + lines the budget deleted unread), and 1 for each of Squid's own warnings that it discarded lines because
 * the daemon fell 4 MiB behind (Squid counts none; ModDaemon.cc warns at most every 30 s).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
 */
export const LOG_LOSS_FILTERS: readonly AccessLogMetricFilter[] = [
  {
    id: 'AccessLogLoss',
    metricName: 'AccessLogLinesLost',
    pattern: '{ $.egresshub = "access-log-loss" }',
    value: '$.lost',
    unit: cloudwatch.Unit.COUNT,
  },
  {
    id: 'AccessLogQueueOverflow',
    metricName: 'AccessLogLinesLost',
    pattern: '"queue is too large; some log messages have been lost"',
    value: '1',
    unit: cloudwatch.Unit.COUNT,
  },
];

/** A Contributor Insights rule over the access log: tenants ranked by one measure, however many there are. */
export interface TopTenantsRule {
  readonly id: string;
  /** Appended to `<name>-top-tenants-`: the rule's name. */
  readonly suffix: string;
  readonly title: string;
  readonly aggregateOn: 'Count' | 'Sum';
  readonly value?: string;
  readonly filters: readonly { readonly Match: string; readonly In?: readonly string[]; readonly NotIn?: readonly string[] }[];
}

/**
 * "Top tenants by requests, denials and bytes" for any tenant count: a rule keeps the top contributors of each
 * period, with no metric per tenant. The rules read the transformed log (ApplyOnTransformedLogs), so `$.tenant`
 * and the integer byte counts are JSON fields to them.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContributorInsights-RuleSyntax.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutInsightRule.html
 */
export const TOP_TENANT_RULES: readonly TopTenantsRule[] = [
  { id: 'Requests', suffix: 'requests', title: 'requests', aggregateOn: 'Count', filters: [] },
  { id: 'Denied', suffix: 'denied', title: 'denied requests', aggregateOn: 'Count', filters: [{ Match: '$.decision', In: ['denied'] }] },
  { id: 'BytesOut', suffix: 'bytes-out', title: 'bytes to clients', aggregateOn: 'Sum', value: '$.bytes_out', filters: [] },
  { id: 'BytesIn', suffix: 'bytes-in', title: 'bytes from clients', aggregateOn: 'Sum', value: '$.bytes_in', filters: [] },
];

export const topTenantsRuleName = (plan: EgressPlan, rule: TopTenantsRule) => `${plan.name}-top-tenants-${rule.suffix}`;

/** The rule's definition (the CloudWatchLogRule schema), JSON as PutInsightRule takes it. */
export function topTenantsRuleBody(logGroupName: string, rule: TopTenantsRule): string {
  return JSON.stringify({
    Schema: { Name: 'CloudWatchLogRule', Version: 1 },
    LogGroupNames: [logGroupName],
    LogFormat: 'JSON',
    Contribution: {
      Keys: ['$.tenant'],
      ...(rule.value ? { ValueOf: rule.value } : {}),
      Filters: [{ Match: '$.tenant', NotIn: ['-'] }, ...rule.filters],
    },
    AggregateOn: rule.aggregateOn,
  });
}

/**
 * Saved Logs Insights queries for drilling into one tenant (replace TENANT) and for ranking all of them; saved
 * queries cost nothing until run (a run is billed per GB scanned).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_Insights-Saving-Queries.html
 */
export const SAVED_QUERIES: readonly { readonly id: string; readonly name: string; readonly lines: readonly string[] }[] = [
  {
    id: 'TenantTraffic',
    name: 'tenant traffic over time (replace TENANT)',
    lines: ['filter tenant = "TENANT"', 'stats count(*) as requests, sum(bytes_in) as bytesIn, sum(bytes_out) as bytesOut by bin(5m)'],
  },
  {
    id: 'TenantHosts',
    name: 'tenant top hosts (replace TENANT)',
    lines: [
      'filter tenant = "TENANT"',
      'stats count(*) as requests, sum(bytes_out) as bytesOut by host, decision',
      'sort requests desc',
      'limit 50',
    ],
  },
  {
    id: 'TenantDenials',
    name: 'tenant denials by host and rule (replace TENANT)',
    lines: [
      'filter tenant = "TENANT" and decision = "denied"',
      'stats count(*) as denied by host, sni, rule',
      'sort denied desc',
      'limit 50',
    ],
  },
  {
    id: 'TopTenants',
    name: 'top tenants by bytes to clients',
    lines: [
      'filter tenant != "-"',
      'stats count(*) as requests, sum(bytes_out) as bytesOut, sum(bytes_in) as bytesIn by tenant',
      'sort bytesOut desc',
      'limit 50',
    ],
  },
];

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
   * nlb mode: the NLB in front of the fleet: alarms on targets that are unhealthy or missing.
   * @default - no load balancer alarms
   */
  readonly loadBalancer?: elbv2.NetworkLoadBalancer;
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
  /** The unified CloudWatch agent's JSON config, for the boot script. */
  readonly agentConfig: string;
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
    this.agentConfig = renderCloudWatchAgentConfig(hub.logGroups);
    for (const role of props.instanceRoles) this.grantLogShipping(role);
    this.topTenantRules = this.accessLogPipeline(plan);
    this.topic = props.alarmTopic ?? this.alarmTopic(plan, props.encryptionKey);
    this.capacityAlarms(plan, props.autoScalingGroups);
    const health = this.healthAlarms(plan, props.healthSignals ?? []);
    this.proxyHealthAlarms = health.alarms;
    this.noHealthyProxyAlarm = health.none;
    // Every fleet mode's proxies run the egress check (fixed: in their health metric; nlb: behind the NLB's check).
    this.egressAlarm(plan);
    if (props.loadBalancer) this.nlbAlarms(plan, props.loadBalancer);
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
    this.alarm(alarm);
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
      this.alarm(
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
      this.alarm(alarm);
    }
    if (healthAlarms.size >= 2) {
      const none = new cloudwatch.CompositeAlarm(this, 'NoHealthyProxyAlarm', {
        alarmDescription: `egresshub ${plan.name}: no proxy is healthy (${[...healthAlarms.keys()].join(', ')} all in alarm): tenants' egress is down`,
        alarmRule: cloudwatch.AlarmRule.allOf(
          ...[...healthAlarms.values()].map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM)),
        ),
      });
      this.alarm(none);
      return { alarms: healthAlarms, none };
    }
    return { alarms: healthAlarms };
  }

  private nlbAlarms(plan: EgressPlan, loadBalancer: elbv2.NetworkLoadBalancer): void {
    const { hub } = plan;
    // nlb: one Metrics Insights alarm per condition whatever the tenant count; every target group (and AZ)
    // is a contributor with its own state.
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html
    const lb = loadBalancer.loadBalancerFullName;
    // Per AZ only when the group keeps a proxy in every AZ (min >= AZs); otherwise an AZ may rightly be empty.
    const perAz = (hub.proxy.mode === 'nlb' ? hub.proxy.scaling.min : 0) >= hub.availabilityZones.length;
    this.alarm(
      new cloudwatch.MathExpression({
        expression: nlbHostsQuery('MIN', 'HealthyHostCount', lb, perAz),
        label: 'healthy proxies',
        period: Duration.minutes(1),
      }).createAlarm(this, 'NlbNoHealthyTargetAlarm', {
        alarmDescription: `egresshub ${plan.name}: a tenant port's target group has no healthy proxy${perAz ? ' in an AZ' : ''} for 2 minutes (Squid down, or the scaling group cannot launch); see docs/operations.md`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        // The NLB reports every minute; silence means it (or the metric) is gone.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    );
    this.alarm(
      new cloudwatch.MathExpression({
        expression: nlbHostsQuery('MAX', 'UnHealthyHostCount', lb, false),
        label: 'unhealthy proxies',
        period: Duration.minutes(1),
      }).createAlarm(this, 'NlbUnhealthyTargetAlarm', {
        alarmDescription: `egresshub ${plan.name}: a proxy fails the NLB health check (no TCP accept on its health listener) for 5 minutes; the scaling group should have replaced it`,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
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
      this.alarm(
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
      this.alarm(
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
    this.alarm(deniedSpike);
    if (metricTenants.length > 0) {
      // A Metrics Insights query grouped by Tenant makes each opted-in tenant a contributor with its own state.
      // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Metrics_Insights_Alarm.html
      this.alarm(
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
    this.alarm(alarm);
  }

  private alarm(a: cloudwatch.AlarmBase): void {
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
      ...(props.loadBalancer ? nlbWidgets(props.loadBalancer, props.autoScalingGroups) : []),
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

// ---------------------------------------------------------------- dashboard widgets

/** A full-width Logs Insights table over the access log. */
function logTable(title: string, logGroupName: string, queryLines: string[]): cloudwatch.LogQueryWidget {
  return new cloudwatch.LogQueryWidget({ title, logGroupNames: [logGroupName], queryLines, width: 24 });
}

/** Hub-wide requests, denials and bytes, and the largest tenant of each (named by the Contributor Insights rules). */
function hubTrafficWidgets(plan: EgressPlan): cloudwatch.IWidget[] {
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
function tenantMetricWidgets(plan: EgressPlan): cloudwatch.IWidget[] {
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

function groupWidget(asg: autoscaling.AutoScalingGroup): cloudwatch.IWidget {
  return new cloudwatch.GraphWidget({
    title: `Proxies in service (${asg.node.scope?.node.id ?? asg.node.id})`,
    left: ['GroupInServiceInstances', 'GroupDesiredCapacity'].map((metricName) => asgMetric(asg, metricName)),
    width: 8,
  });
}

function natWidget(nat: ec2.CfnNatGateway, i: number): cloudwatch.IWidget {
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
function healthWidgets(plan: EgressPlan, healthSignals: readonly string[]): cloudwatch.IWidget[] {
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

/** nlb: healthy targets per tenant port, flows and bytes, and the scaling group's CPU (its target). */
function nlbWidgets(lb: elbv2.NetworkLoadBalancer, groups: readonly autoscaling.AutoScalingGroup[]): cloudwatch.IWidget[] {
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

/** A group metric at one-minute resolution (published once MetricsCollection is on), minimum per minute. */
function asgMetric(asg: autoscaling.AutoScalingGroup, metricName: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/AutoScaling',
    metricName,
    dimensionsMap: { AutoScalingGroupName: asg.autoScalingGroupName },
    statistic: 'Minimum',
    period: Duration.minutes(1),
  });
}

/** The entry of `id` in one of this module's tables (a programming error if absent). */
function byId<T extends { readonly id: string }>(table: readonly T[], id: string): T {
  const found = table.find((x) => x.id === id);
  if (!found) throw new Error(`no entry ${id}`);
  return found;
}

function ruleOf(rules: ReadonlyMap<string, cloudwatch.CfnInsightRule>, id: string): cloudwatch.CfnInsightRule {
  const rule = rules.get(id);
  if (!rule) throw new Error(`no Contributor Insights rule ${id}`);
  return rule;
}
