import { readFileSync } from 'node:fs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  ACCESS_LOG_TRANSFORMER,
  deniedByTenantQuery,
  HUB_METRIC_FILTERS,
  insightRuleMetric,
  LOG_LOSS_FILTERS,
  renderCloudWatchAgentConfig,
  SAVED_QUERIES,
  tenantMetricFilters,
  TOP_TENANT_RULES,
  topTenantsRuleBody,
} from '../../src/hub/observability';
import { MAX_METRIC_TENANTS } from '../../src/config/schema';
import { LOG_DAEMON_SOURCE, logDaemonReportFile, renderSquidConf } from '../../src/policy';
import { policyObjectText } from '../../src/hub/policy-rollout';
import { usageReport } from '../../src/usage';
import { validateTemplate } from '../support/cfn-registry';
import { nagFindings } from '../support/nag';
import { exampleConfig, planOf, shellFunctionBody, synthOnce, userDataOf } from '../support/stack';
import { contributions, matches, metricValue, transform } from './emulate';

interface Statement {
  Action: string | string[];
  Condition?: unknown;
}
type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }>;
const resourcesOf = (t: Template, type: string) => Object.entries(t.toJSON().Resources as Resources).filter(([, r]) => r.Type === type);

const withHub = (hub: Record<string, unknown>) => () => {
  const c = exampleConfig();
  return { ...c, hub: { ...(c.hub as object), ...hub } };
};
const SCENARIOS = {
  example: exampleConfig,
  email: withHub({ alarms: { email: 'platform@example.com', deniedRequestsPer5Minutes: 25 } }),
  topic: withHub({ alarms: { topicArn: 'arn:aws:sns:ap-northeast-1:111111111111:egress-alarms' } }),
  'per-az-nat': withHub({ natGateways: 'per-az', availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'] }),
  audit: () => {
    const c = exampleConfig();
    const [first, ...rest] = c.tenants as Record<string, unknown>[];
    return { ...c, tenants: [{ ...first, mode: 'audit' }, ...rest] };
  },
  'tenant-metrics': () => {
    const c = exampleConfig();
    const [first, ...rest] = c.tenants as Record<string, unknown>[];
    return { ...c, tenants: [{ ...first, metrics: true }, ...rest] };
  },
};
const scenario = (name: keyof typeof SCENARIOS) => synthOnce(`observability-${name}`, () => planOf(SCENARIOS[name]()));

/** Lines the lab's real Squid wrote (a sample of a benchmark run: two tenants, tunnels, aborted transfers, tenant=- lines). */
const LAB_LINES = readFileSync('test/usage/fixtures/lab-bench.log', 'utf8').split('\n').filter(Boolean);
/** Lines the lab's real Squid wrote while the matrix ran both example tenants: allowed and every kind of denial. */
const MATRIX_LINES = readFileSync('test/usage/fixtures/lab-matrix.log', 'utf8').split('\n').filter(Boolean);

describe('access-log metrics and contributor rules, on real lab lines', () => {
  const lines = [...LAB_LINES, ...MATRIX_LINES];
  const events = lines.map((l) => transform(l, ACCESS_LOG_TRANSFORMER));
  const report = usageReport(lines);
  const tenants = report.tenants.map((t) => t.tenant);
  /** Metric name → dimension value ('' for none) → sum, as CloudWatch would publish them (emulated transformer + pattern). */
  const publish = (
    filters: readonly { metricName: string; pattern: string; value: string; dimensions?: Readonly<Record<string, string>> }[],
  ) => {
    const out = new Map<string, Map<string, number>>();
    for (const event of events) {
      for (const f of filters) {
        if (!matches(f.pattern, event)) continue;
        const v = metricValue(f.value, event);
        if (v === undefined) continue;
        const dim = f.dimensions ? String(event[f.dimensions.Tenant!.slice(2)]) : '';
        const byDim = out.get(f.metricName) ?? new Map<string, number>();
        byDim.set(dim, (byDim.get(dim) ?? 0) + v);
        out.set(f.metricName, byDim);
      }
    }
    return out;
  };
  const sum = (pick: (t: (typeof report.tenants)[number]) => number) => report.tenants.reduce((a, t) => a + pick(t), 0);

  it('the transformer turns a lab line into typed fields', () => {
    const e = events[0]!;
    expect(e).toMatchObject({ tenant: expect.stringMatching(/^bench-|^-$/), decision: expect.any(String) });
    expect(typeof e.bytes_in).toBe('number');
    expect(typeof e.bytes_out).toBe('number');
    expect(e.client).toMatch(/^10\.0\.0\.\d+:\d+$/); // a value with ':' survives the split on '='
  });

  it('hub-wide metrics: one series each, the totals of the usage report, nothing for tenant=- lines', () => {
    const hub = publish(HUB_METRIC_FILTERS);
    expect([...hub.keys()].sort()).toEqual(['BytesIn', 'BytesOut', 'DeniedRequests', 'Requests']);
    for (const byDim of hub.values()) expect([...byDim.keys()]).toEqual(['']);
    expect(hub.get('Requests')!.get('')).toBe(sum((t) => t.requests));
    expect(hub.get('DeniedRequests')!.get('')).toBe(sum((t) => t.denied));
    expect(hub.get('BytesIn')!.get('')).toBe(sum((t) => t.bytesIn));
    expect(hub.get('BytesOut')!.get('')).toBe(sum((t) => t.bytesOut));
    // The lab's tenant=- lines (connections closed before a request) exist and are nobody's usage.
    expect(LAB_LINES.filter((l) => l.includes(' tenant=- ')).length).toBeGreaterThan(0);
    expect(hub.get('Requests')!.get('')).toBeLessThan(lines.length);
  });

  it('per-tenant metrics only for the tenants that opted in, equal to the usage report', () => {
    const [optedIn, other] = ['project-a', 'project-b'];
    expect(tenants).toEqual(expect.arrayContaining([optedIn, other]));
    const published = publish(tenantMetricFilters([optedIn]));
    for (const byDim of published.values()) expect([...byDim.keys()]).toEqual([optedIn]);
    const t = report.tenants.find((x) => x.tenant === optedIn)!;
    expect(t.denied).toBeGreaterThan(0);
    expect(['Requests', 'DeniedRequests', 'BytesIn', 'BytesOut'].map((m) => published.get(m)?.get(optedIn) ?? 0)).toEqual([
      t.requests,
      t.denied,
      t.bytesIn,
      t.bytesOut,
    ]);
  });

  it('the Contributor Insights rules rank every tenant by the usage report\'s numbers, and never "-"', () => {
    const expected: Record<string, (t: (typeof report.tenants)[number]) => number> = {
      Requests: (t) => t.requests,
      Denied: (t) => t.denied,
      BytesOut: (t) => t.bytesOut,
      BytesIn: (t) => t.bytesIn,
    };
    expect(TOP_TENANT_RULES.map((r) => r.id).sort()).toEqual(Object.keys(expected).sort());
    for (const rule of TOP_TENANT_RULES) {
      const got = contributions(topTenantsRuleBody('/egresshub/x/squid/access', rule), events);
      expect(got.has('-')).toBe(false);
      const want = new Map(report.tenants.map((t) => [t.tenant, expected[rule.id]!(t)] as const).filter(([, v]) => v > 0));
      expect({ rule: rule.id, got: [...got].sort() }).toEqual({ rule: rule.id, got: [...want].sort() });
    }
  });

  it('needs the transformer: on the raw line no pattern matches and no rule counts', () => {
    const raw = { '@message': LAB_LINES[0]! };
    for (const f of [...HUB_METRIC_FILTERS, ...tenantMetricFilters(['project-a'])]) expect(matches(f.pattern, raw)).toBe(false);
    for (const r of TOP_TENANT_RULES) expect(contributions(topTenantsRuleBody('g', r), [raw]).size).toBe(0);
  });

  it("the opted-in pattern stays within a filter pattern's 1,024 characters at the most tenants of the longest names", () => {
    const longest = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}${'x'.repeat(21)}`);
    expect(longest.every((n) => n.length === 24)).toBe(true);
    for (const f of tenantMetricFilters(longest)) expect(f.pattern.length).toBeLessThanOrEqual(1024);
  });
});

describe('CloudWatch agent config', () => {
  it('ships both Squid logs to the plan groups, one stream per instance, retention left to CloudFormation', () => {
    const plan = scenario('example').plan;
    const cfg = JSON.parse(renderCloudWatchAgentConfig(plan.hub.logGroups)) as {
      logs: { logs_collected: { files: { collect_list: Record<string, unknown>[] } } };
    };
    expect(cfg.logs.logs_collected.files.collect_list).toEqual([
      expect.objectContaining({
        // The log daemon's size-rotated files; the agent removes each once read and a newer one exists.
        file_path: '/var/log/squid/access.*.log',
        log_group_name: '/egresshub/egresshub-hub/squid/access',
        log_stream_name: '{instance_id}',
        auto_removal: true,
        retention_in_days: -1,
      }),
      expect.objectContaining({
        file_path: '/var/log/squid/cache.log',
        log_group_name: '/egresshub/egresshub-hub/squid/cache',
        timestamp_format: '%Y/%m/%d %H:%M:%S',
      }),
      expect.objectContaining({
        file_path: '/dev/shm/egresshub-logd/*.jsonl',
        log_group_name: '/egresshub/egresshub-hub/squid/cache',
        log_stream_name: '{instance_id}-logd',
      }),
    ]);
  });

  it('matches where the generated squid.conf and its log daemon write', () => {
    const conf = renderSquidConf(scenario('example').plan);
    expect(conf).toContain('\naccess_log daemon:/var/log/squid/access.log ');
    expect(conf).toContain('cache_log /var/log/squid/cache.log');
    // The daemon's files for /var/log/squid/access.log match the agent's wildcard; its report file, the reports'.
    const logd = readFileSync(LOG_DAEMON_SOURCE, 'utf8');
    expect(logd).toContain('name = "access.%s.%d.log" % (stamp, n)');
    expect(logDaemonReportFile('/var/log/squid/access.log')).toBe('/dev/shm/egresshub-logd/var-log-squid-access.log.jsonl');
  });

  it("lost lines: the log daemon's report line and Squid's queue warning both reach AccessLogLinesLost", () => {
    const report =
      '{"egresshub":"access-log-loss","lost":51,"dropped":50,"evicted":1,"reason":"ENOSPC","log":"/var/log/squid/access.log","pid":7,"time":"2026-12-07T19:11:29Z"}';
    const [fromReport, fromSquid] = LOG_LOSS_FILTERS;
    const event = JSON.parse(report) as Record<string, string | number>;
    expect(matches(fromReport!.pattern, event)).toBe(true);
    expect(event[fromReport!.value.slice(2)]).toBe(51);
    expect(matches(fromReport!.pattern, { egresshub: 'other' })).toBe(false);
    // Squid 5.7's words (src/log/ModDaemon.cc), as a term pattern: the quoted phrase must occur in the message.
    const squidLine =
      '2026/12/07 19:11:29 kid1| Logfile: daemon:/var/log/squid/access.log: queue is too large; some log messages have been lost.';
    expect(squidLine).toContain(JSON.parse(fromSquid!.pattern) as string);
    expect(fromSquid!.value).toBe('1');
  });

  it('the boot script installs and starts the agent with that config (from the policy object), after Squid listens', () => {
    const ud = userDataOf(scenario('example').hub);
    expect(ud).toContain("\nCWAGENT_CONFIG_FILE='/etc/egresshub/cloudwatch-agent.json'\n");
    expect(ud).not.toContain('"log_group_name"');
    const plan = scenario('example').plan;
    const object = policyObjectText(renderSquidConf(plan), renderCloudWatchAgentConfig(plan.hub.logGroups));
    expect(/^#cwagent: (.*)$/m.exec(object)?.[1]).toBe(JSON.stringify(JSON.parse(renderCloudWatchAgentConfig(plan.hub.logGroups))));
    const agent = shellFunctionBody(ud, 'start_cloudwatch_agent');
    expect(agent).toContain('dnf install -y amazon-cloudwatch-agent');
    expect(agent).toContain('amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c "file:$CWAGENT_CONFIG_FILE"');
    const boot = shellFunctionBody(ud, 'proxy_boot');
    expect(boot.indexOf('start_cloudwatch_agent')).toBeGreaterThan(boot.indexOf('wait_listening 30'));
  });
});

describe('HubObservability in the hub template', () => {
  const t = scenario('example').hub;

  it('log groups: retention from the plan, encrypted with the hub log key, retained', () => {
    for (const name of ['/egresshub/egresshub-hub/squid/access', '/egresshub/egresshub-hub/squid/cache']) {
      t.hasResource('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: name, RetentionInDays: 90, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HubLogKey'), 'Arn'] } },
        DeletionPolicy: 'Retain',
      });
    }
    // The key admits CloudWatch Logs for the hub's own groups only (flow logs and Squid's).
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Condition: {
              ArnLike: {
                'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:ap-northeast-1:111111111111:log-group:/egresshub/egresshub-hub/*',
              },
            },
          }),
        ]),
      },
    });
  });

  it('one transformer, four hub-wide metric filters with no dimension, four contributor rules and the saved queries', () => {
    t.hasResourceProperties('AWS::Logs::Transformer', {
      TransformerConfig: Match.arrayWith([
        Match.objectLike({ ParseKeyValue: { Source: '@message', FieldDelimiter: ' ', KeyValueDelimiter: '=', OverwriteIfExists: true } }),
      ]),
    });
    const all = resourcesOf(t, 'AWS::Logs::MetricFilter');
    // The lost-line filters read the cache log group (untransformed); the traffic ones, the transformed access log.
    const lossFilters = all.filter(([, f]) => JSON.stringify(f.Properties.LogGroupName).includes('CacheLogGroup'));
    expect(
      lossFilters.map(([, f]) => [
        f.Properties.FilterPattern,
        (f.Properties.MetricTransformations as { MetricValue: string }[])[0]!.MetricValue,
      ]),
    ).toEqual([
      ['{ $.egresshub = "access-log-loss" }', '$.lost'],
      ['"queue is too large; some log messages have been lost"', '1'],
    ]);
    const filters = all.filter((f) => !lossFilters.includes(f));
    expect(filters.map(([, f]) => (f.Properties.MetricTransformations as { MetricName: string }[])[0]!.MetricName).sort()).toEqual([
      'BytesIn',
      'BytesOut',
      'DeniedRequests',
      'Requests',
    ]);
    for (const [, f] of filters) {
      expect(f.Properties.ApplyOnTransformedLogs).toBe(true);
      expect(f.Properties.FilterName).toMatch(/^egresshub-hub-/);
      expect(f.DependsOn?.some((d) => d.startsWith('HubObservabilityAccessLogTransformer'))).toBe(true);
      expect(f.Properties.MetricTransformations).toEqual([expect.objectContaining({ MetricNamespace: 'egresshub/egresshub' })]);
      expect((f.Properties.MetricTransformations as Record<string, unknown>[])[0]).not.toHaveProperty('Dimensions');
    }
    const rules = resourcesOf(t, 'AWS::CloudWatch::InsightRule');
    expect(rules.map(([, r]) => r.Properties.RuleName).sort()).toEqual(
      ['bytes-in', 'bytes-out', 'denied', 'requests'].map((x) => `egresshub-top-tenants-${x}`),
    );
    for (const [, r] of rules) {
      expect(r.Properties).toMatchObject({ RuleState: 'ENABLED', ApplyOnTransformedLogs: true });
      const body = JSON.parse(r.Properties.RuleBody as string) as { LogGroupNames: string[]; Contribution: { Keys: string[] } };
      expect(body.LogGroupNames).toEqual(['/egresshub/egresshub-hub/squid/access']);
      expect(body.Contribution.Keys).toEqual(['$.tenant']);
      expect(r.DependsOn?.some((d) => d.startsWith('HubObservabilityAccessLogTransformer'))).toBe(true);
    }
    const queries = resourcesOf(t, 'AWS::Logs::QueryDefinition');
    expect(queries.map(([, q]) => q.Properties.Name).sort()).toEqual(SAVED_QUERIES.map((q) => `egresshub/egresshub/${q.name}`).sort());
    for (const [, q] of queries)
      expect(q.Properties.LogGroupNames).toEqual([{ Ref: expect.stringMatching(/^HubObservabilityAccessLogGroup/) }]);
  });

  it('tenant metrics: four more filters whose Tenant dimension can only take the opted-in names, and their own alarm', () => {
    const m = scenario('tenant-metrics').hub;
    const perTenant = resourcesOf(m, 'AWS::Logs::MetricFilter').filter(([, f]) => JSON.stringify(f.Properties).includes('Dimensions'));
    expect(perTenant).toHaveLength(4);
    for (const [, f] of perTenant) {
      expect(f.Properties.FilterName).toMatch(/^egresshub-tenant-/);
      expect(f.Properties.FilterPattern).toMatch(/^\{ \(?\$\.tenant = "project-a"\)? /);
      expect(f.Properties.FilterPattern).not.toContain('project-b');
      expect((f.Properties.MetricTransformations as { Dimensions: unknown }[])[0]!.Dimensions).toEqual([
        { Key: 'Tenant', Value: '$.tenant' },
      ]);
    }
    m.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [Match.objectLike({ Expression: deniedByTenantQuery('egresshub/egresshub'), Period: 300 })],
      AlarmDescription: Match.stringLikeRegexp('project-a'),
    });
  });

  it('the instance roles may only write Squid logs into the two groups, and metrics only into the hub namespace', () => {
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'ShipSquidLogs',
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
            Resource: [
              { 'Fn::GetAtt': [Match.stringLikeRegexp('^HubObservabilityAccessLogGroup'), 'Arn'] },
              { 'Fn::GetAtt': [Match.stringLikeRegexp('^HubObservabilityCacheLogGroup'), 'Arn'] },
            ],
          },
        ]),
      },
    });
    const policies = resourcesOf(t, 'AWS::IAM::Policy').map(([, p]) => p.Properties.PolicyDocument as { Statement: Statement[] });
    expect(JSON.stringify(policies)).not.toMatch(/logs:CreateLogGroup|logs:PutRetentionPolicy|logs:\*/);
    // The health signal (fixed proxies) is the only metric the instances publish themselves, in the hub namespace.
    const putMetric = policies.flatMap((p) => p.Statement).filter((st) => JSON.stringify(st.Action).includes('cloudwatch:PutMetricData'));
    expect(putMetric.length).toBeGreaterThan(0);
    for (const st of putMetric) expect(st.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'egresshub/egresshub' } });
  });

  it('alarms: proxy capacity and health per proxy, NAT port allocation and drops, one denied-spike alarm for all tenants', () => {
    const alarms = resourcesOf(t, 'AWS::CloudWatch::Alarm');
    // multi-az over two AZs: capacity and health for ProxyA and ProxyC, two NAT alarms, one denied-spike alarm, the
    // hub's no-egress alarm and one for lost access-log lines.
    expect(alarms).toHaveLength(2 + 2 + 2 + 1 + 1 + 1);
    // No proxy reaches the egress check's target for 2 minutes (missing data too): it says why nothing is withdrawn.
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'egresshub/egresshub',
      MetricName: 'EgressOk',
      Dimensions: [{ Name: 'Hub', Value: 'egresshub' }],
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 2,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmDescription: Match.stringLikeRegexp(
        'no proxy reaches sts\\.ap-northeast-1\\.amazonaws\\.com:443 .*none is withdrawn for it \\(fail open\\)',
      ),
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'egresshub/egresshub',
      MetricName: 'AccessLogLinesLost',
      Statistic: 'Sum',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      TreatMissingData: 'notBreaching',
    });
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MetricsCollection: [{ Granularity: '1Minute', Metrics: ['GroupDesiredCapacity', 'GroupInServiceInstances'] }],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'desired - inService' })]),
      Threshold: 0,
      EvaluationPeriods: 5,
      TreatMissingData: 'breaching',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/NATGateway',
      MetricName: 'ErrorPortAllocation',
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: '100 * drops / (fromSource + fromDestination)' })]),
      Threshold: 0.01,
    });
    // The top contributor of the denied rule, whatever the tenant count; no Metrics Insights query over a Tenant dimension.
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [Match.objectLike({ Expression: insightRuleMetric('egresshub-top-tenants-denied', 'MaxContributorValue'), Period: 300 })],
      Threshold: 100,
      AlarmDescription: Match.stringLikeRegexp('Contributor Insights rule egresshub-top-tenants-denied names it'),
    });
    expect(JSON.stringify(alarms)).not.toMatch(/SCHEMA\(|"Name":"Tenant"/);
    // No topic configured: the alarms notify nobody (state only, visible on the dashboard).
    for (const [, a] of alarms) expect(a.Properties.AlarmActions).toBeUndefined();
    t.resourceCountIs('AWS::SNS::Topic', 0);
  });

  it('multi-az: a health alarm per proxy on its ProxyHealthy signal (Minimum < 1, missing = unhealthy), and one for no healthy proxy', () => {
    const health = resourcesOf(t, 'AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.MetricName === 'ProxyHealthy');
    expect(health.map(([, a]) => (a.Properties.Dimensions as { Name: string; Value: string }[])[0])).toEqual([
      { Name: 'Proxy', Value: 'ProxyA' },
      { Name: 'Proxy', Value: 'ProxyC' },
    ]);
    for (const [, a] of health) {
      // What Route 53 health checks accept: a standard-resolution metric, a simple statistic, no metric math.
      expect(a.Properties).toMatchObject({
        Namespace: 'egresshub/egresshub',
        Statistic: 'Minimum',
        Period: 60,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'breaching',
      });
    }
    const [[, composite]] = resourcesOf(t, 'AWS::CloudWatch::CompositeAlarm') as [[string, Resources[string]]];
    const rule = JSON.stringify(composite.Properties.AlarmRule);
    for (const [id] of health) expect(rule).toContain(id);
    expect(rule).toContain(' AND ');
  });

  it('a dashboard with the alarms, hub-wide and top-tenant graphs, fleet, proxy health, NAT and top denials', () => {
    const [[, d]] = resourcesOf(t, 'AWS::CloudWatch::Dashboard') as [[string, Resources[string]]];
    expect(d.Properties.DashboardName).toBe('egresshub-hub');
    const body = JSON.stringify(d.Properties.DashboardBody);
    for (const s of [
      'Alarms',
      'Hub: requests and denials (all tenants)',
      'Largest tenant per 5 minutes',
      'INSIGHT_RULE_METRIC',
      'Top tenants by bytes to clients',
      'Proxies in service (ProxyA)',
      'Proxies in service (ProxyC)',
      'Proxy health',
      'NAT gateway 1',
      'Top denials',
      'decision = \\\\\\"denied\\\\\\"',
    ])
      expect(body).toContain(s);
    // Would-deny only shows when a tenant audits: it reads the log, so it adds no metric per tenant.
    expect(body).not.toContain('Would-deny');
    // Per-tenant graphs only for tenants with metrics of their own.
    expect(body).not.toContain('SCHEMA(');
    const [[, withMetrics]] = resourcesOf(scenario('tenant-metrics').hub, 'AWS::CloudWatch::Dashboard') as [[string, Resources[string]]];
    expect(JSON.stringify(withMetrics.Properties.DashboardBody)).toContain('Tenants with metrics: requests');
    const [[, audited]] = resourcesOf(scenario('audit').hub, 'AWS::CloudWatch::Dashboard') as [[string, Resources[string]]];
    const auditBody = JSON.stringify(audited.Properties.DashboardBody);
    expect(auditBody).toContain('Would-deny in audit mode (tenant, host, SNI, rule)');
    expect(auditBody).toContain('would-deny');
    expect(resourcesOf(scenario('audit').hub, 'AWS::Logs::MetricFilter')).toHaveLength(resourcesOf(t, 'AWS::Logs::MetricFilter').length);
  });

  it('email: an encrypted, TLS-only topic with the subscription; alarms and OK notify it; threshold from config', () => {
    const e = scenario('email').hub;
    e.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HubLogKey'), 'Arn'] } });
    e.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'platform@example.com' });
    e.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    e.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'AlarmsPublishToEncryptedTopic', Principal: { Service: 'cloudwatch.amazonaws.com' } }),
        ]),
      },
    });
    for (const [, a] of [...resourcesOf(e, 'AWS::CloudWatch::Alarm'), ...resourcesOf(e, 'AWS::CloudWatch::CompositeAlarm')]) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^HubObservabilityAlarmTopic/) }]);
      expect(a.Properties.OKActions).toEqual(a.Properties.AlarmActions);
    }
    e.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [Match.objectLike({ Expression: Match.stringLikeRegexp('top-tenants-denied') })],
      Threshold: 25,
    });
  });

  it('topicArn: no new topic, alarms notify the existing one', () => {
    const e = scenario('topic').hub;
    e.resourceCountIs('AWS::SNS::Topic', 0);
    for (const [, a] of resourcesOf(e, 'AWS::CloudWatch::Alarm'))
      expect(a.Properties.AlarmActions).toEqual(['arn:aws:sns:ap-northeast-1:111111111111:egress-alarms']);
  });

  it('per-az NAT: two alarms and a graph per NAT gateway', () => {
    const e = scenario('per-az-nat').hub;
    e.resourceCountIs('AWS::EC2::NatGateway', 3);
    // Three proxies (capacity + health each), two per NAT gateway, the denied-spike, no-egress and lost-log-lines alarms.
    expect(resourcesOf(e, 'AWS::CloudWatch::Alarm')).toHaveLength(3 * 2 + 3 * 2 + 1 + 1 + 1);
    const natIds = resourcesOf(e, 'AWS::EC2::NatGateway').map(([id]) => id);
    const alarmed = resourcesOf(e, 'AWS::CloudWatch::Alarm')
      .filter(([, a]) => a.Properties.MetricName === 'ErrorPortAllocation')
      .map(([, a]) => (a.Properties.Dimensions as { Value: { Ref: string } }[])[0]!.Value.Ref);
    expect(alarmed.sort()).toEqual(natIds.sort());
  });

  for (const name of Object.keys(SCENARIOS) as (keyof typeof SCENARIOS)[]) {
    it(`${name}: every template passes the registry and cdk-nag`, () => {
      const s = scenario(name);
      for (const [id, tpl] of s.templates) expect({ id, problems: validateTemplate(tpl.toJSON()) }).toEqual({ id, problems: [] });
      expect(nagFindings(s.app)).toEqual([]);
    });
  }
});

describe('config: hub.alarms', () => {
  it('fails when the email is not an address', () => {
    expect(() => planOf(withHub({ alarms: { email: 'platform-team' } })())).toThrow(/hub\.alarms\.email: expected an email address/);
  });
  it('fails when the topic ARN is not an SNS ARN', () => {
    expect(() => planOf(withHub({ alarms: { topicArn: 'arn:aws:sqs:ap-northeast-1:111111111111:q' } })())).toThrow(
      /hub\.alarms\.topicArn: expected an SNS topic ARN/,
    );
  });
  it('fails when the denied threshold is below 1', () => {
    expect(() => planOf(withHub({ alarms: { deniedRequestsPer5Minutes: 0 } })())).toThrow(/at least 1 request per 5 minutes/);
  });
  it('defaults: no topic, 100 denied requests per 5 minutes', () => {
    expect(planOf(exampleConfig()).hub.alarms).toEqual({ deniedRequestsPer5Minutes: 100 });
  });
});

describe('config: tenant metrics', () => {
  const withMetricTenants = (n: number) => {
    const c = exampleConfig();
    const base = (c.tenants as Record<string, unknown>[])[0]!;
    const tenants = Array.from({ length: n }, (_, i) => ({ ...base, name: `t${i + 1}`, port: 20000 + i, metrics: true }));
    return { ...c, tenants, spokes: [] };
  };
  it(`admits ${MAX_METRIC_TENANTS} tenants with metrics and refuses one more, naming it`, () => {
    expect(planOf(withMetricTenants(MAX_METRIC_TENANTS)).tenants.filter((t) => t.metrics)).toHaveLength(MAX_METRIC_TENANTS);
    expect(() => planOf(withMetricTenants(MAX_METRIC_TENANTS + 1))).toThrow(
      new RegExp(
        `tenants\\[${MAX_METRIC_TENANTS}\\]\\.metrics: ${MAX_METRIC_TENANTS + 1} tenants set metrics: true; at most ${MAX_METRIC_TENANTS}`,
      ),
    );
  });
  it('defaults to off', () => {
    expect(planOf(exampleConfig()).tenants.map((t) => t.metrics)).toEqual([false, false]);
  });
});
