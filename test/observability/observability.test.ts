import { readFileSync } from 'node:fs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  ACCESS_LOG_TRANSFORMER,
  deniedByTenantQuery,
  renderCloudWatchAgentConfig,
  TENANT_METRIC_FILTERS,
} from '../../src/hub/observability';
import { renderSquidConf } from '../../src/policy';
import { usageReport } from '../../src/usage';
import { validateTemplate } from '../support/cfn-registry';
import { nagFindings } from '../support/nag';
import { exampleConfig, planOf, synthOnce } from '../support/stack';
import { matches, metricValue, transform } from './emulate';

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
};
const scenario = (name: keyof typeof SCENARIOS) => synthOnce(`observability-${name}`, () => planOf(SCENARIOS[name]()));

/** Lines the lab's real Squid wrote (a sample of a benchmark run: two tenants, tunnels, aborted transfers, tenant=- lines). */
const LAB_LINES = readFileSync('test/usage/fixtures/lab-bench.log', 'utf8').split('\n').filter(Boolean);
/** Lines the lab's real Squid wrote while the matrix ran both example tenants: allowed and every kind of denial. */
const MATRIX_LINES = readFileSync('test/usage/fixtures/lab-matrix.log', 'utf8').split('\n').filter(Boolean);

describe('access-log metric filters, on real lab lines', () => {
  const lines = [...LAB_LINES, ...MATRIX_LINES];
  /** Metric name → tenant → sum, as CloudWatch would publish them (emulated transformer + pattern). */
  const published = new Map<string, Map<string, number>>();
  for (const line of lines) {
    const event = transform(line, ACCESS_LOG_TRANSFORMER);
    for (const f of TENANT_METRIC_FILTERS) {
      if (!matches(f.pattern, event)) continue;
      const v = metricValue(f.value, event);
      if (v === undefined) continue;
      const byTenant = published.get(f.metricName) ?? new Map<string, number>();
      byTenant.set(String(event.tenant), (byTenant.get(String(event.tenant)) ?? 0) + v);
      published.set(f.metricName, byTenant);
    }
  }
  const report = usageReport(lines);

  it('the transformer turns a lab line into typed fields', () => {
    const e = transform(LAB_LINES[0]!, ACCESS_LOG_TRANSFORMER);
    expect(e).toMatchObject({ tenant: expect.stringMatching(/^bench-|^-$/), decision: expect.any(String) });
    expect(typeof e.bytes_in).toBe('number');
    expect(typeof e.bytes_out).toBe('number');
    expect(e.client).toMatch(/^10\.0\.0\.\d+:\d+$/); // a value with ':' survives the split on '='
  });

  it('publishes per-tenant requests, bytes and denials equal to the usage report', () => {
    for (const t of report.tenants) {
      expect({ tenant: t.tenant, requests: published.get('Requests')?.get(t.tenant) }).toEqual({ tenant: t.tenant, requests: t.requests });
      expect(published.get('BytesIn')?.get(t.tenant)).toBe(t.bytesIn);
      expect(published.get('BytesOut')?.get(t.tenant)).toBe(t.bytesOut);
      expect(published.get('DeniedRequests')?.get(t.tenant) ?? 0).toBe(t.denied);
    }
    // Denials per tenant, counted on the raw text.
    const deniedIn = (tenant: string) => lines.filter((l) => l.includes(` tenant=${tenant} `) && l.includes(' decision=denied ')).length;
    expect([...(published.get('DeniedRequests')?.entries() ?? [])].sort()).toEqual([
      ['project-a', deniedIn('project-a')],
      ['project-b', deniedIn('project-b')],
    ]);
    expect(deniedIn('project-a')).toBeGreaterThan(0);
    // The lab's tenant=- lines (connections closed before a request) are nobody's usage: no metric, no series.
    expect(LAB_LINES.filter((l) => l.includes(' tenant=- ')).length).toBeGreaterThan(0);
    for (const byTenant of published.values()) expect(byTenant.has('-')).toBe(false);
    expect([...published.keys()].sort()).toEqual(['BytesIn', 'BytesOut', 'DeniedRequests', 'Requests']);
  });

  it('needs the transformer: on the raw line no pattern matches', () => {
    const raw = { '@message': LAB_LINES[0]! };
    for (const f of TENANT_METRIC_FILTERS) expect(matches(f.pattern, raw)).toBe(false);
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
        file_path: '/var/log/squid/access.log',
        log_group_name: '/egresshub/egresshub-hub/squid/access',
        log_stream_name: '{instance_id}',
        retention_in_days: -1,
      }),
      expect.objectContaining({
        file_path: '/var/log/squid/cache.log',
        log_group_name: '/egresshub/egresshub-hub/squid/cache',
        timestamp_format: '%Y/%m/%d %H:%M:%S',
      }),
    ]);
  });

  it('matches where the generated squid.conf writes its logs', () => {
    const conf = renderSquidConf(scenario('example').plan);
    expect(conf).toContain('access_log stdio:/var/log/squid/access.log ');
    expect(conf).toContain('cache_log /var/log/squid/cache.log');
  });

  it('the boot script installs and starts the agent with that config, after Squid listens', () => {
    const t = scenario('example').hub;
    const [[, lt]] = resourcesOf(t, 'AWS::EC2::LaunchTemplate') as [[string, Resources[string]]];
    const ud = JSON.stringify(lt.Properties.LaunchTemplateData);
    expect(ud).toContain('dnf install -y amazon-cloudwatch-agent');
    expect(ud).toContain(
      'amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/egresshub.json',
    );
    expect(ud).toContain('/egresshub/egresshub-hub/squid/access');
    expect(ud.indexOf('amazon-cloudwatch-agent-ctl')).toBeGreaterThan(ud.indexOf('ss -ltnH'));
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

  it('one transformer and four metric filters with a Tenant dimension, whatever the tenant count', () => {
    t.hasResourceProperties('AWS::Logs::Transformer', {
      TransformerConfig: Match.arrayWith([
        Match.objectLike({ ParseKeyValue: { Source: '@message', FieldDelimiter: ' ', KeyValueDelimiter: '=', OverwriteIfExists: true } }),
      ]),
    });
    const filters = resourcesOf(t, 'AWS::Logs::MetricFilter');
    expect(filters.map(([, f]) => (f.Properties.MetricTransformations as { MetricName: string }[])[0]!.MetricName).sort()).toEqual([
      'BytesIn',
      'BytesOut',
      'DeniedRequests',
      'Requests',
    ]);
    for (const [, f] of filters) {
      expect(f.Properties.ApplyOnTransformedLogs).toBe(true);
      expect(f.DependsOn?.some((d) => d.startsWith('HubObservabilityAccessLogTransformer'))).toBe(true);
      expect(f.Properties.MetricTransformations).toEqual([
        expect.objectContaining({ MetricNamespace: 'egresshub/egresshub', Dimensions: [{ Key: 'Tenant', Value: '$.tenant' }] }),
      ]);
    }
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
    // multi-az over two AZs: capacity and health for ProxyA and ProxyC, two NAT alarms, one denied-spike alarm.
    expect(alarms).toHaveLength(2 + 2 + 2 + 1);
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
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [Match.objectLike({ Expression: deniedByTenantQuery('egresshub/egresshub'), Period: 300 })],
      Threshold: 100,
    });
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

  it('a dashboard with the alarms, per-tenant graphs, fleet, proxy health, NAT and top denials', () => {
    const [[, d]] = resourcesOf(t, 'AWS::CloudWatch::Dashboard') as [[string, Resources[string]]];
    expect(d.Properties.DashboardName).toBe('egresshub-hub');
    const body = JSON.stringify(d.Properties.DashboardBody);
    for (const s of [
      'Alarms',
      'Requests by tenant',
      'Denied requests by tenant',
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
      Metrics: [Match.objectLike({ Expression: Match.stringLikeRegexp('DeniedRequests') })],
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
    // Three proxies (capacity + health each), two per NAT gateway, the denied-spike alarm.
    expect(resourcesOf(e, 'AWS::CloudWatch::Alarm')).toHaveLength(3 * 2 + 3 * 2 + 1);
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
