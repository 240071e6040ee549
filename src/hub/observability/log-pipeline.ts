// The access log's pipeline in CloudWatch Logs, as tables: the transformer that parses its key=value lines, the
// metric filters (hub-wide, per opted-in tenant, lost lines), the top-tenant Contributor Insights rules and the
// saved queries. HubObservability builds them; the lab's usage tests read the same tables.
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { EgressPlan } from '../../config/plan';

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
