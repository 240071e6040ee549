// The proxy fleet modes (single, multi-az with DNS failover, nlb) and egress (nat, public), each synthesized
// from a config: what each builds, the security-group chain, and that switching modes or egress never
// replaces the gateway, a resource configuration or a spoke endpoint.
import { Duration, type Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { spokeStackId } from '../../src/app';
import { diffApps, handoffsOf, snapshotOf as diffSnapshotOf } from '../../src/diff';
import { NLB_HEALTH_PORT } from '../../src/config';
import { FailoverDns, MATCH_NO_TRAFFIC, NlbFront } from '../../src/hub';
import { renderSquidConf } from '../../src/policy';
import { validateTemplate } from '../support/cfn-registry';
import { nagFindings } from '../support/nag';
import { exampleConfig, planOf, synthOnce, testStack, type Synthesized } from '../support/stack';
import {
  allowedActions,
  bootParameters,
  countChanges,
  listChanges,
  outputNames,
  statefulIds,
  USER_DATA_HEADROOM_FLOOR,
  userDataHeadroom,
  wildcardResourceGrants,
} from '../support/template-facts';

interface Res {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
}
type Resources = Record<string, Res>;
const resourcesOf = (t: Template, type: string): [string, Res][] =>
  Object.entries(t.toJSON().Resources as Resources).filter(([, r]) => r.Type === type);
const idOf = (t: Template, type: string, prefix: string): string => {
  const ids = resourcesOf(t, type)
    .map(([k]) => k)
    .filter((k) => k.startsWith(prefix));
  expect(ids, `${type} ${prefix}*`).toHaveLength(1);
  return ids[0]!;
};
const getAtt = (id: string, attr: string) => ({ 'Fn::GetAtt': [id, attr] });
/** A stack output by construct-path prefix (CfnOutput logical IDs carry a hash suffix). */
const output = (t: Template, prefix: string): { Value: unknown } | undefined =>
  Object.entries(t.toJSON().Outputs as Record<string, { Value: unknown }>).find(([k]) => k.startsWith(prefix))?.[1];

const AZ3 = ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'];
/** The example config (two AZs, two tenants on 3201-3202) with hub keys replaced. */
const withHub = (hub: Record<string, unknown>) => () => {
  const c = exampleConfig();
  const h: Record<string, unknown> = { ...(c.hub as object), ...hub };
  if (h.egress === 'public') delete h.natGateways;
  return { ...c, hub: h };
};
const MODES = {
  single: withHub({ proxy: { mode: 'single' } }),
  'multi-az': exampleConfig,
  'multi-az-3az': withHub({ availabilityZones: AZ3 }),
  nlb: withHub({ proxy: { mode: 'nlb', scaling: { min: 2, max: 6, targetCpuPercent: 60 } } }),
  'public-single': withHub({ egress: 'public', proxy: { mode: 'single' } }),
  'public-multi-az': withHub({ egress: 'public' }),
};
type Mode = keyof typeof MODES;
const mode = (name: Mode): Synthesized => synthOnce(`mode-${name}`, () => planOf(MODES[name]()));
const tenants = (s: Synthesized) => s.templates.get('Tenants-3200')!;

/** The security-group rules of a template as [group, peer, from, to] (peer: group logical ID or CIDR). */
function rules(t: Template) {
  const ref = (v: unknown) => (v as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return {
    ingress: resourcesOf(t, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => [
      ref(r.Properties.GroupId),
      ref(r.Properties.SourceSecurityGroupId),
      r.Properties.FromPort,
      r.Properties.ToPort,
    ]),
    egress: resourcesOf(t, 'AWS::EC2::SecurityGroupEgress').map(([, r]) => [
      ref(r.Properties.GroupId),
      ref(r.Properties.DestinationSecurityGroupId),
      r.Properties.FromPort,
      r.Properties.ToPort,
    ]),
  };
}

describe('single: one fixed proxy in the first AZ, targeted by its ENI address', () => {
  const s = mode('single');
  const t = s.hub;

  it('runs one self-healing proxy whose fixed ENI lives in the first private subnet', () => {
    expect(resourcesOf(t, 'AWS::AutoScaling::AutoScalingGroup')).toHaveLength(1);
    const eni = idOf(t, 'AWS::EC2::NetworkInterface', 'HubProxyA');
    t.hasResourceProperties('AWS::EC2::NetworkInterface', { SubnetId: { Ref: Match.stringLikeRegexp('privateSubnet1') } });
    tenants(s).hasResourceProperties('AWS::VpcLattice::ResourceConfiguration', {
      ResourceConfigurationDefinition: {
        IpResource: { 'Fn::GetStackOutput': Match.objectLike({ OutputName: Match.stringLikeRegexp(`${eni}PrimaryPrivateIpAddress`) }) },
      },
    });
    for (const type of ['AWS::Route53::HostedZone', 'AWS::Route53::HealthCheck', 'AWS::ElasticLoadBalancingV2::LoadBalancer'])
      t.resourceCountIs(type, 0);
    expect(output(t, 'HubProxyTargetIp')).toBeDefined();
  });

  it("alarms on the proxy's health signal, with no 'no healthy proxy' alarm (it would be the same alarm)", () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ProxyHealthy', Dimensions: [{ Name: 'Proxy', Value: 'ProxyA' }] });
    t.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 0);
  });
});

describe('multi-az: one fixed proxy per AZ behind a Route 53 failover name', () => {
  const s = mode('multi-az');
  const t = s.hub;
  const zone = 'egresshub-hub.egresshub.internal';

  it('targets the failover name (a DNS resource the gateway resolves IN_VPC)', () => {
    tenants(s).hasResourceProperties('AWS::VpcLattice::ResourceConfiguration', {
      ResourceConfigurationDefinition: { DnsResource: { DomainName: `proxy.${zone}`, IpAddressType: 'IPV4' } },
    });
    t.hasResourceProperties('AWS::VpcLattice::ResourceGateway', { ResourceConfigDnsResolution: 'IN_VPC' });
    expect(output(t, 'HubProxyTargetName')?.Value).toBe(`proxy.${zone}`);
  });

  it('answers from a private hosted zone associated with the hub VPC', () => {
    const vpc = idOf(t, 'AWS::EC2::VPC', 'HubVpc');
    t.hasResourceProperties('AWS::Route53::HostedZone', { Name: `${zone}.`, VPCs: [{ VPCId: { Ref: vpc }, VPCRegion: 'ap-northeast-1' }] });
  });

  it("health-checks each proxy through its ProxyHealthy alarm (private IPs are out of the checkers' reach); no data = unhealthy", () => {
    for (const proxy of ['ProxyA', 'ProxyC']) {
      const alarm = idOf(t, 'AWS::CloudWatch::Alarm', `HubObservability${proxy}HealthAlarm`);
      expect(t.toJSON().Resources[alarm].Properties).toMatchObject({
        MetricName: 'ProxyHealthy',
        Dimensions: [{ Name: 'Proxy', Value: proxy }],
        Statistic: 'Minimum',
        Threshold: 1,
        TreatMissingData: 'breaching',
      });
      t.hasResourceProperties('AWS::Route53::HealthCheck', {
        HealthCheckConfig: {
          Type: 'CLOUDWATCH_METRIC',
          AlarmIdentifier: { Name: { Ref: alarm }, Region: 'ap-northeast-1' },
          InsufficientDataHealthStatus: 'Unhealthy',
        },
      });
    }
  });

  it('answers ProxyA (first AZ) while it is healthy, else ProxyC: one address at a time, TTL from the plan', () => {
    const records = resourcesOf(t, 'AWS::Route53::RecordSet').map(([, r]) => r.Properties);
    const eniIp = (p: string) => getAtt(idOf(t, 'AWS::EC2::NetworkInterface', `Hub${p}`), 'PrimaryPrivateIpAddress');
    const check = (p: string) => getAtt(idOf(t, 'AWS::Route53::HealthCheck', `HubFailoverDns${p}HealthCheck`), 'HealthCheckId');
    expect(records).toEqual(
      expect.arrayContaining(
        [
          ['ProxyA', 'PRIMARY'],
          ['ProxyC', 'SECONDARY'],
        ].map(([p, failover]): unknown =>
          expect.objectContaining({
            Name: `proxy.${zone}`,
            Type: 'A',
            TTL: String(s.plan.hub.proxy.mode === 'multi-az' && s.plan.hub.proxy.failoverName.ttlSeconds),
            ResourceRecords: [eniIp(p!)],
            SetIdentifier: p,
            Failover: failover,
            HealthCheckId: check(p!),
          }),
        ),
      ),
    );
    expect(records).toHaveLength(2);
  });

  it('rolls the proxies one after the other: ProxyC waits for ProxyA (DependsOn), so an update never replaces both', () => {
    const a = idOf(t, 'AWS::AutoScaling::AutoScalingGroup', 'HubProxyA');
    const c = idOf(t, 'AWS::AutoScaling::AutoScalingGroup', 'HubProxyC');
    expect(t.toJSON().Resources[c].DependsOn).toContain(a);
    expect(t.toJSON().Resources[a].DependsOn ?? []).not.toContain(c);
  });

  it('lets the gateway reach each proxy listener on tenant ports only', () => {
    const gateway = idOf(t, 'AWS::EC2::SecurityGroup', 'HubGatewaySecurityGroup');
    const listeners = ['ProxyA', 'ProxyC'].map((p) => idOf(t, 'AWS::EC2::SecurityGroup', `Hub${p}ListenerSecurityGroup`));
    const r = rules(t);
    expect(r.ingress).toEqual(listeners.map((l) => [l, gateway, 3201, 3202]));
    expect(r.egress).toEqual(listeners.map((l) => [gateway, l, 3201, 3202]));
  });
});

describe('multi-az over three AZs: a chain of failover pairs', () => {
  const s = mode('multi-az-3az');
  const t = s.hub;
  const zone = 'egresshub-hub.egresshub.internal';

  it('answers ProxyA, else the nested name standby-1 (ProxyC, else ProxyD)', () => {
    const records = Object.fromEntries(
      resourcesOf(t, 'AWS::Route53::RecordSet').map(([id, r]) => [
        `${r.Properties.Name as string} ${r.Properties.SetIdentifier as string}`,
        { id, ...r },
      ]),
    );
    expect(Object.keys(records).sort()).toEqual([
      `proxy.${zone} ProxyA`,
      `proxy.${zone} standby-1`,
      `standby-1.${zone} ProxyC`,
      `standby-1.${zone} ProxyD`,
    ]);
    const zoneId = idOf(t, 'AWS::Route53::HostedZone', 'HubFailoverDnsZone');
    expect(records[`proxy.${zone} ProxyA`]!.Properties.Failover).toBe('PRIMARY');
    const alias = records[`proxy.${zone} standby-1`]!;
    expect(alias.Properties).toMatchObject({
      Failover: 'SECONDARY',
      AliasTarget: { HostedZoneId: { Ref: zoneId }, DNSName: `standby-1.${zone}`, EvaluateTargetHealth: true },
    });
    expect(alias.Properties.HealthCheckId).toBeUndefined();
    expect(alias.Properties.TTL).toBeUndefined();
    expect(alias.DependsOn).toEqual(
      expect.arrayContaining([records[`standby-1.${zone} ProxyC`]!.id, records[`standby-1.${zone} ProxyD`]!.id]),
    );
    expect(records[`standby-1.${zone} ProxyC`]!.Properties.Failover).toBe('PRIMARY');
    expect(records[`standby-1.${zone} ProxyD`]!.Properties.Failover).toBe('SECONDARY');
    t.resourceCountIs('AWS::Route53::HealthCheck', 3);
  });

  it('a third AZ updates the two-AZ records in place (same logical IDs and names) and adds the nested level', () => {
    const names = (x: Synthesized) =>
      Object.fromEntries(resourcesOf(x.hub, 'AWS::Route53::RecordSet').map(([id, r]) => [id, r.Properties.Name]));
    const two = names(mode('multi-az'));
    const three = names(mode('multi-az-3az'));
    expect(Object.keys(two).length).toBe(2);
    for (const [id, name] of Object.entries(two)) expect(three[id]).toBe(name);
    expect(Object.keys(three).length).toBe(4);
  });

  it('chains the three groups A -> C -> D, and alarms when no proxy at all is healthy', () => {
    const asg = (p: string) => idOf(t, 'AWS::AutoScaling::AutoScalingGroup', `Hub${p}`);
    const res = t.toJSON().Resources;
    expect(res[asg('ProxyC')].DependsOn).toContain(asg('ProxyA'));
    expect(res[asg('ProxyD')].DependsOn).toContain(asg('ProxyC'));
    expect(res[asg('ProxyD')].DependsOn).not.toContain(asg('ProxyA'));
    const [[, composite]] = resourcesOf(t, 'AWS::CloudWatch::CompositeAlarm') as [[string, Res]];
    const rule = JSON.stringify(composite.Properties.AlarmRule);
    for (const p of ['ProxyA', 'ProxyC', 'ProxyD']) expect(rule).toContain(`HubObservability${p}HealthAlarm`);
  });
});

describe('nlb: an internal NLB over a scaling group', () => {
  const s = mode('nlb');
  const t = s.hub;
  const lb = () => idOf(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'HubNlb');

  it('targets the NLB DNS name (resolved IN_VPC by the gateway)', () => {
    tenants(s).hasResourceProperties('AWS::VpcLattice::ResourceConfiguration', {
      ResourceConfigurationDefinition: {
        DnsResource: {
          DomainName: { 'Fn::GetStackOutput': Match.objectLike({ OutputName: Match.stringLikeRegexp(`${lb()}DNSName`) }) },
          IpAddressType: 'IPV4',
        },
      },
    });
    for (const type of ['AWS::EC2::NetworkInterface', 'AWS::Route53::HostedZone', 'AWS::Route53::HealthCheck']) t.resourceCountIs(type, 0);
  });

  it('builds an internal, cross-zone NLB in the private subnets with its own security group', () => {
    const nlbSg = idOf(t, 'AWS::EC2::SecurityGroup', 'HubNlbSecurityGroup');
    const props = t.toJSON().Resources[lb()].Properties;
    expect(props).toMatchObject({ Type: 'network', Scheme: 'internal', SecurityGroups: [getAtt(nlbSg, 'GroupId')] });
    expect((props.Subnets as { Ref: string }[]).map((r) => r.Ref)).toEqual([
      expect.stringMatching(/privateSubnet1/),
      expect.stringMatching(/privateSubnet2/),
    ]);
    expect(props.LoadBalancerAttributes).toContainEqual({ Key: 'load_balancing.cross_zone.enabled', Value: 'true' });
  });

  it('gives every tenant port a TCP listener and target group, health-checked (TCP) on the one health port, client IP not preserved', () => {
    const listeners = resourcesOf(t, 'AWS::ElasticLoadBalancingV2::Listener').map(([, r]) => r.Properties);
    expect(listeners.map((l) => [l.Port, l.Protocol])).toEqual([
      [3201, 'TCP'],
      [3202, 'TCP'],
    ]);
    const groups = resourcesOf(t, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(groups.map(([, g]) => g.Properties.Port)).toEqual([3201, 3202]);
    for (const [id, g] of groups) {
      expect(g.Properties).toMatchObject({
        Protocol: 'TCP',
        TargetType: 'instance',
        HealthCheckEnabled: true,
        HealthCheckProtocol: 'TCP',
        HealthCheckPort: String(NLB_HEALTH_PORT),
        HealthCheckIntervalSeconds: 10,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
      });
      expect(g.Properties.TargetGroupAttributes).toEqual(
        expect.arrayContaining([
          { Key: 'deregistration_delay.timeout_seconds', Value: '120' },
          { Key: 'target_health_state.unhealthy.connection_termination.enabled', Value: 'false' },
          // The resource gateway is a NAT in front of the NLB (edit-target-group-attributes.html, client IP preservation).
          { Key: 'preserve_client_ip.enabled', Value: 'false' },
        ]),
      );
      expect(listeners).toContainEqual(
        expect.objectContaining({ DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: id } }], Port: g.Properties.Port }),
      );
    }
  });

  it('health-checks on a port the policy listens on and no tenant owns, the same before and after a tenant is added', () => {
    // A new tenant's target group is attached before the policy rollout reaches the instances: its health check
    // must pass on instances still running the old policy, or Auto Scaling (ELB health) would replace them.
    const before = renderSquidConf(s.plan);
    const added = synthOnce('mode-nlb-added', () => {
      const c: Record<string, unknown> = MODES.nlb();
      return planOf({ ...c, tenants: [...(c.tenants as object[]), { name: 'project-c', port: 3203, allow: '*' }] });
    });
    const ports = (tpl: Template): Record<string, unknown> =>
      Object.fromEntries(
        resourcesOf(tpl, 'AWS::ElasticLoadBalancingV2::TargetGroup').map(
          ([, g]) => [String(g.Properties.Port), g.Properties.HealthCheckPort] as const,
        ),
      );
    expect(ports(t)).toEqual({ 3201: String(NLB_HEALTH_PORT), 3202: String(NLB_HEALTH_PORT) });
    expect(ports(added.hub)).toEqual({ 3201: String(NLB_HEALTH_PORT), 3202: String(NLB_HEALTH_PORT), 3203: String(NLB_HEALTH_PORT) });
    // The old policy (instances the rollout has not reached) and the new one both listen there.
    for (const conf of [before, renderSquidConf(added.plan)]) expect(conf).toMatch(new RegExp(`^http_port ${NLB_HEALTH_PORT} `, 'm'));
    expect(added.plan.tenants.map((x) => x.port)).not.toContain(NLB_HEALTH_PORT);
    // The existing groups do not change at all.
    const groups = (tpl: Template) => Object.fromEntries(resourcesOf(tpl, 'AWS::ElasticLoadBalancingV2::TargetGroup'));
    for (const [id, g] of Object.entries(groups(t))) expect(groups(added.hub)[id]).toEqual(g);
  });

  it('scales the group between scaling.min and max on average CPU, replacing proxies the NLB finds unhealthy', () => {
    const [[asgId, asg]] = resourcesOf(t, 'AWS::AutoScaling::AutoScalingGroup') as [[string, Res]];
    expect(asg.Properties).toMatchObject({ MinSize: '2', MaxSize: '6', HealthCheckType: 'ELB', HealthCheckGracePeriod: 300 });
    expect((asg.Properties.VPCZoneIdentifier as { Ref: string }[]).map((r) => r.Ref)).toEqual([
      expect.stringMatching(/privateSubnet1/),
      expect.stringMatching(/privateSubnet2/),
    ]);
    const groups = resourcesOf(t, 'AWS::ElasticLoadBalancingV2::TargetGroup').map(([id]) => ({ Ref: id }));
    expect(asg.Properties.TargetGroupARNs).toEqual(groups);
    t.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      AutoScalingGroupName: { Ref: asgId },
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' }, TargetValue: 60 },
    });
  });

  it('chains the security groups gateway -> NLB -> instances, on tenant ports only', () => {
    const gateway = idOf(t, 'AWS::EC2::SecurityGroup', 'HubGatewaySecurityGroup');
    const nlb = idOf(t, 'AWS::EC2::SecurityGroup', 'HubNlbSecurityGroup');
    const instances = idOf(t, 'AWS::EC2::SecurityGroup', 'HubProxiesInstanceSecurityGroup');
    const r = rules(t);
    // The health port only NLB -> instances: the gateway reaches tenant ports only.
    expect(r.ingress.sort()).toEqual(
      [
        [nlb, gateway, 3201, 3202],
        [instances, nlb, 3201, 3202],
        [instances, nlb, NLB_HEALTH_PORT, NLB_HEALTH_PORT],
      ].sort(),
    );
    expect(r.egress.sort()).toEqual(
      [
        [gateway, nlb, 3201, 3202],
        [nlb, instances, 3201, 3202],
        [nlb, instances, NLB_HEALTH_PORT, NLB_HEALTH_PORT],
      ].sort(),
    );
    const sgs = Object.fromEntries(resourcesOf(t, 'AWS::EC2::SecurityGroup'));
    for (const sg of Object.values(sgs)) expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
    expect(sgs[nlb]!.Properties.SecurityGroupEgress).toEqual([MATCH_NO_TRAFFIC]);
    expect(sgs[gateway]!.Properties.SecurityGroupEgress).toEqual([MATCH_NO_TRAFFIC]);
  });

  it('alarms on target groups without a healthy proxy (per AZ, as min >= AZs) and on unhealthy proxies, one alarm each', () => {
    const alarms = resourcesOf(t, 'AWS::CloudWatch::Alarm').map(([, a]) => JSON.stringify(a.Properties.Metrics ?? ''));
    const healthy = alarms.filter((a) => a.includes('MIN(HealthyHostCount)'));
    expect(healthy).toHaveLength(1);
    expect(healthy[0]).toContain('GROUP BY TargetGroup, AvailabilityZone');
    expect(healthy[0]).toContain(lb());
    expect(alarms.filter((a) => a.includes('MAX(UnHealthyHostCount)'))).toHaveLength(1);
    t.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 0);
    expect(resourcesOf(t, 'AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.MetricName === 'ProxyHealthy')).toHaveLength(0);
    const body = JSON.stringify(resourcesOf(t, 'AWS::CloudWatch::Dashboard')[0]![1].Properties.DashboardBody);
    for (const title of ['NLB: healthy proxies', 'NLB: flows and bytes', 'Proxy CPU']) expect(body).toContain(title);
  });
});

describe.each(['public-single', 'public-multi-az'] as const)('egress public (%s): proxies with Elastic IPs, no NAT gateway', (name) => {
  const s = mode(name);
  const t = s.hub;
  const proxies = s.plan.hub.proxy.fixed.map((f) => f.id);

  it('has no NAT gateway, and the private subnets (gateway only) have no route out', () => {
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    const routes = resourcesOf(t, 'AWS::EC2::Route').map(([, r]) => r.Properties);
    for (const r of routes) expect(r.RouteTableId).toEqual({ Ref: expect.stringMatching(/publicSubnet/) });
    expect(routes.every((r) => r.GatewayId !== undefined)).toBe(true);
    const gw = resourcesOf(t, 'AWS::VpcLattice::ResourceGateway')[0]![1];
    expect((gw.Properties.SubnetIds as { Ref: string }[]).map((r) => r.Ref)).toEqual([
      expect.stringMatching(/privateSubnet1/),
      expect.stringMatching(/privateSubnet2/),
    ]);
  });

  it('runs each fixed proxy in its public subnet with an Elastic IP of its own, and outputs the egress IPs', () => {
    const eips = resourcesOf(t, 'AWS::EC2::EIP').map(([id]) => id);
    expect(eips).toHaveLength(proxies.length);
    for (const [i, p] of proxies.entries()) {
      expect(eips.some((e) => e.startsWith(`Hub${p}`))).toBe(true);
      const asg = t.toJSON().Resources[idOf(t, 'AWS::AutoScaling::AutoScalingGroup', `Hub${p}`)];
      expect(asg.Properties.VPCZoneIdentifier).toEqual([{ Ref: expect.stringMatching(new RegExp(`publicSubnet${i + 1}`)) }]);
      // The listener ENI (the target) stays in the proxy's subnet; the gateway reaches it inside the VPC.
      t.hasResourceProperties('AWS::EC2::NetworkInterface', { SubnetId: { Ref: Match.stringLikeRegexp(`publicSubnet${i + 1}`) } });
    }
    // One proxy: Fn::Join of a single element is the element itself.
    const out = output(t, 'HubEgressIps')!.Value as { Ref: string } | { 'Fn::Join': [string, { Ref: string }[]] };
    const refs = 'Ref' in out ? [out] : out['Fn::Join'][1];
    expect(refs.map((r) => r.Ref).sort()).toEqual([...eips].sort());
  });
});

describe('switching mode or egress replaces nothing tenants depend on', () => {
  const names: Mode[] = ['single', 'multi-az', 'nlb', 'public-single', 'public-multi-az'];
  /** Properties whose change replaces a resource configuration (AWS-FACTS.md): all but the definition and ports. */
  // The definition and the generation tag (a fingerprint of the hub resources read) update in place.
  const replacing = (p: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'ResourceConfigurationDefinition' && k !== 'PortRanges' && k !== 'Tags'));
  const protectedOf = (s: Synthesized) => ({
    gateway: resourcesOf(s.hub, 'AWS::VpcLattice::ResourceGateway'),
    // Tags (subnet type Private/Isolated) update in place; these properties would replace a subnet.
    subnets: resourcesOf(s.hub, 'AWS::EC2::Subnet').map(([id, r]) => [
      id,
      r.Properties.CidrBlock,
      r.Properties.AvailabilityZone,
      r.Properties.VpcId,
    ]),
    vpc: resourcesOf(s.hub, 'AWS::EC2::VPC'),
    configurations: resourcesOf(tenants(s), 'AWS::VpcLattice::ResourceConfiguration').map(([id, r]) => [id, replacing(r.Properties)]),
    shares: resourcesOf(tenants(s), 'AWS::RAM::ResourceShare'),
    spokes: [...s.templates].filter(([id]) => id.startsWith('Spoke-')).map(([id, tpl]) => [id, tpl.toJSON()]),
  });

  it.each(names.slice(1))('single -> %s: same gateway, subnets, configurations (bar the definition), shares and spoke stacks', (other) => {
    const before = protectedOf(mode('single'));
    const after = protectedOf(mode(other));
    expect(before.gateway).toHaveLength(1);
    expect(before.configurations).toHaveLength(2);
    expect(before.spokes).toHaveLength(2);
    expect(after).toEqual(before);
  });

  it('the definition is the only configuration property that changes, and it updates in place', () => {
    const defs = names.map((n) =>
      resourcesOf(tenants(mode(n)), 'AWS::VpcLattice::ResourceConfiguration').map(([, r]) =>
        Object.keys(r.Properties.ResourceConfigurationDefinition as object),
      ),
    );
    expect(defs.flat(2).sort()).toEqual([...Array(6).fill('DnsResource'), ...Array(4).fill('IpResource')].sort());
  });
});

describe('egresshub diff agrees: mode and egress changes replace no gateway, configuration, share or endpoint', () => {
  const HELD = [
    'AWS::VpcLattice::ResourceGateway',
    'AWS::VpcLattice::ResourceConfiguration',
    'AWS::EC2::VPCEndpoint',
    'AWS::RAM::ResourceShare',
    'AWS::EC2::VPC',
    'AWS::EC2::Subnet',
  ];
  const snapshot = (m: Mode) => diffSnapshotOf(mode(m).plan);
  it.each([
    ['single', 'multi-az', []],
    ['multi-az', 'nlb', []],
    ['nlb', 'multi-az', []],
    ['multi-az', 'single', []],
    // The fixed proxies move to the public subnets, and an ENI cannot leave its subnet: new listener
    // addresses, which the configurations' definitions (and the failover records) follow in place.
    ['single', 'public-single', ['AWS::EC2::NetworkInterface']],
    ['multi-az', 'public-multi-az', ['AWS::EC2::NetworkInterface', 'AWS::EC2::NetworkInterface']],
  ] as [Mode, Mode, string[]][])('%s -> %s', (from, to, replaced) => {
    const after = snapshot(to);
    const d = diffApps(snapshot(from), after, handoffsOf(after.plan, spokeStackId));
    expect(d.replacedProtected.filter((r) => HELD.includes(r.type))).toEqual([]);
    expect(d.removedProtected.filter((r) => HELD.includes(r.type))).toEqual([]);
    expect(d.replacedProtected.map((r) => r.type)).toEqual(replaced);
  });
});

/** What a hub template changes, against another: resources per type, stateful logical IDs, outputs and IAM grants. */
interface HubChanges {
  counts: Record<string, number>;
  stateful: { added: string[]; removed: string[] };
  outputs: { added: string[]; removed: string[] };
  /** Actions allowed on Resource "*" (see wildcardResourceGrants). */
  wildcardGrants: { added: string[]; removed: string[] };
  actions: { added: string[]; removed: string[] };
}
const hubChanges = (base: Template, t: Template): HubChanges => ({
  counts: countChanges(base, t),
  stateful: listChanges(statefulIds(base), statefulIds(t)),
  outputs: listChanges(outputNames(base), outputNames(t)),
  wildcardGrants: listChanges(wildcardResourceGrants(base), wildcardResourceGrants(t)),
  actions: listChanges(allowedActions(base), allowedActions(t)),
});

/**
 * Each mode against multi-az (the example config, whose template test/hub/egress-hub.test.ts states in full and
 * keeps as the one whole-template snapshot): what it adds and removes. An upgrade that renames a logical ID, an
 * output or widens a grant in any mode fails here, with the name in the message.
 */
const MODE_CHANGES: Record<Exclude<Mode, 'multi-az'>, HubChanges> = {
  // One fixed proxy: no failover name (zone, checks, records) and no second proxy; the target is its ENI's IP.
  single: {
    counts: {
      'AWS::AutoScaling::AutoScalingGroup': 1,
      'AWS::AutoScaling::LifecycleHook': 0,
      'AWS::CloudWatch::Alarm': 7,
      'AWS::CloudWatch::CompositeAlarm': 0,
      'AWS::EC2::LaunchTemplate': 1,
      'AWS::EC2::NetworkInterface': 1,
      'AWS::EC2::SecurityGroup': 3,
      'AWS::EC2::SecurityGroupEgress': 1,
      'AWS::EC2::SecurityGroupIngress': 1,
      'AWS::IAM::InstanceProfile': 1,
      'AWS::IAM::Policy': 2,
      'AWS::IAM::Role': 2,
      'AWS::Route53::HealthCheck': 0,
      'AWS::Route53::HostedZone': 0,
      'AWS::Route53::RecordSet': 0,
    },
    stateful: {
      added: [],
      removed: [
        'HubFailoverDnsLevel0Primary8F68E140',
        'HubFailoverDnsLevel0Secondary4CF8C321',
        'HubFailoverDnsProxyAHealthCheck32D82304',
        'HubFailoverDnsProxyCHealthCheck36FFD0BF',
        'HubFailoverDnsZoneDDB7926B',
        'HubProxyCGroupASG7DB2F36A',
        'HubProxyCInstanceSecurityGroup9FCDA3E2',
        'HubProxyCListenerInterface6ACC30F3',
        'HubProxyCListenerSecurityGroup16D8E9A4',
      ],
    },
    outputs: {
      added: ['HubProxyTargetIp1EB5088B', 'PublishOutputFnGetAttHubProxyAListenerInterface3E2D323CPrimaryPrivateIpAddress0CA8E7B8'],
      removed: ['HubProxyATargetIpB8D5EFCE', 'HubProxyCTargetIp884180F5', 'HubProxyTargetName401C876C'],
    },
    wildcardGrants: {
      added: [],
      removed: [],
    },
    actions: {
      added: [],
      removed: [],
    },
  },
  // A third AZ: ProxyD, a nested failover level, a third subnet pair.
  'multi-az-3az': {
    counts: {
      'AWS::AutoScaling::AutoScalingGroup': 3,
      'AWS::AutoScaling::LifecycleHook': 3,
      'AWS::CloudWatch::Alarm': 11,
      'AWS::EC2::LaunchTemplate': 3,
      'AWS::EC2::NetworkInterface': 3,
      'AWS::EC2::Route': 6,
      'AWS::EC2::RouteTable': 6,
      'AWS::EC2::SecurityGroup': 7,
      'AWS::EC2::SecurityGroupEgress': 3,
      'AWS::EC2::SecurityGroupIngress': 3,
      'AWS::EC2::Subnet': 6,
      'AWS::EC2::SubnetRouteTableAssociation': 6,
      'AWS::IAM::InstanceProfile': 3,
      'AWS::IAM::Policy': 4,
      'AWS::IAM::Role': 4,
      'AWS::Route53::HealthCheck': 3,
      'AWS::Route53::RecordSet': 4,
    },
    stateful: {
      added: [
        'HubFailoverDnsLevel1PrimaryD95AB559',
        'HubFailoverDnsLevel1Secondary5FF38EE5',
        'HubFailoverDnsProxyDHealthCheck71E28669',
        'HubProxyDGroupASG7E732346',
        'HubProxyDInstanceSecurityGroup1DAED59F',
        'HubProxyDListenerInterface4E3BEB5B',
        'HubProxyDListenerSecurityGroup508C202E',
        'HubVpcprivateSubnet3SubnetEDB5F406',
        'HubVpcpublicSubnet3Subnet2CF79F24',
      ],
      removed: [],
    },
    outputs: {
      added: ['HubProxyDTargetIp15B04A6B'],
      removed: [],
    },
    wildcardGrants: {
      added: [],
      removed: [],
    },
    actions: {
      added: [],
      removed: [],
    },
  },
  // A scaling group behind an NLB (one listener and target group per tenant port) instead of fixed proxies:
  // no ENIs to claim, and the proxies may (de)register themselves in the target groups to drain.
  nlb: {
    counts: {
      'AWS::AutoScaling::AutoScalingGroup': 1,
      'AWS::AutoScaling::LifecycleHook': 0,
      'AWS::AutoScaling::ScalingPolicy': 1,
      'AWS::CloudWatch::Alarm': 8,
      'AWS::CloudWatch::CompositeAlarm': 0,
      'AWS::EC2::LaunchTemplate': 1,
      'AWS::EC2::NetworkInterface': 0,
      'AWS::EC2::SecurityGroup': 3,
      'AWS::EC2::SecurityGroupEgress': 3,
      'AWS::EC2::SecurityGroupIngress': 3,
      'AWS::ElasticLoadBalancingV2::Listener': 2,
      'AWS::ElasticLoadBalancingV2::LoadBalancer': 1,
      'AWS::ElasticLoadBalancingV2::TargetGroup': 2,
      'AWS::IAM::InstanceProfile': 1,
      'AWS::IAM::Policy': 2,
      'AWS::IAM::Role': 2,
      'AWS::Route53::HealthCheck': 0,
      'AWS::Route53::HostedZone': 0,
      'AWS::Route53::RecordSet': 0,
    },
    stateful: {
      added: [
        'HubNlb9A776098',
        'HubNlbPort3201Listener661CBB90',
        'HubNlbPort3201Targets2DDC1A18',
        'HubNlbPort3202Listener0E43D667',
        'HubNlbPort3202Targets8E86C819',
        'HubNlbSecurityGroupA40188C2',
        'HubProxiesGroupASGCE0E46BA',
        'HubProxiesInstanceSecurityGroup97A8B693',
      ],
      removed: [
        'HubFailoverDnsLevel0Primary8F68E140',
        'HubFailoverDnsLevel0Secondary4CF8C321',
        'HubFailoverDnsProxyAHealthCheck32D82304',
        'HubFailoverDnsProxyCHealthCheck36FFD0BF',
        'HubFailoverDnsZoneDDB7926B',
        'HubProxyAGroupASGCAD5D0F5',
        'HubProxyAInstanceSecurityGroup7D90E729',
        'HubProxyAListenerInterface3E2D323C',
        'HubProxyAListenerSecurityGroup75C39396',
        'HubProxyCGroupASG7DB2F36A',
        'HubProxyCInstanceSecurityGroup9FCDA3E2',
        'HubProxyCListenerInterface6ACC30F3',
        'HubProxyCListenerSecurityGroup16D8E9A4',
      ],
    },
    outputs: {
      added: ['PublishOutputFnGetAttHubNlb9A776098DNSName43336A7E'],
      removed: ['HubProxyATargetIpB8D5EFCE', 'HubProxyCTargetIp884180F5'],
    },
    wildcardGrants: {
      added: [
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeAutoScalingInstances',
        'elasticloadbalancing:DescribeTargetHealth',
      ],
      removed: ['ec2:DescribeNetworkInterfaces'],
    },
    actions: {
      added: [
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeAutoScalingInstances',
        'elasticloadbalancing:DeregisterTargets',
        'elasticloadbalancing:DescribeTargetHealth',
        'elasticloadbalancing:RegisterTargets',
      ],
      removed: ['ec2:AttachNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DetachNetworkInterface'],
    },
  },
  // Proxies with Elastic IPs of their own instead of a NAT gateway, and one fixed proxy.
  'public-single': {
    counts: {
      'AWS::AutoScaling::AutoScalingGroup': 1,
      'AWS::AutoScaling::LifecycleHook': 0,
      'AWS::CloudWatch::Alarm': 5,
      'AWS::CloudWatch::CompositeAlarm': 0,
      'AWS::EC2::LaunchTemplate': 1,
      'AWS::EC2::NatGateway': 0,
      'AWS::EC2::NetworkInterface': 1,
      'AWS::EC2::Route': 2,
      'AWS::EC2::SecurityGroup': 3,
      'AWS::EC2::SecurityGroupEgress': 1,
      'AWS::EC2::SecurityGroupIngress': 1,
      'AWS::IAM::InstanceProfile': 1,
      'AWS::IAM::Policy': 2,
      'AWS::IAM::Role': 2,
      'AWS::Route53::HealthCheck': 0,
      'AWS::Route53::HostedZone': 0,
      'AWS::Route53::RecordSet': 0,
    },
    stateful: {
      added: ['HubProxyAElasticIp4FD780D2'],
      removed: [
        'HubFailoverDnsLevel0Primary8F68E140',
        'HubFailoverDnsLevel0Secondary4CF8C321',
        'HubFailoverDnsProxyAHealthCheck32D82304',
        'HubFailoverDnsProxyCHealthCheck36FFD0BF',
        'HubFailoverDnsZoneDDB7926B',
        'HubProxyCGroupASG7DB2F36A',
        'HubProxyCInstanceSecurityGroup9FCDA3E2',
        'HubProxyCListenerInterface6ACC30F3',
        'HubProxyCListenerSecurityGroup16D8E9A4',
        'HubVpcpublicSubnet1EIP84ED06BC',
        'HubVpcpublicSubnet1NATGateway8CD12909',
      ],
    },
    outputs: {
      added: [
        'HubEgressIpsF78D4789',
        'HubProxyTargetIp1EB5088B',
        'PublishOutputFnGetAttHubProxyAListenerInterface3E2D323CPrimaryPrivateIpAddress0CA8E7B8',
      ],
      removed: ['HubProxyATargetIpB8D5EFCE', 'HubProxyCTargetIp884180F5', 'HubProxyTargetName401C876C'],
    },
    wildcardGrants: {
      added: ['ec2:DescribeAddresses'],
      removed: [],
    },
    actions: {
      added: ['ec2:AssociateAddress', 'ec2:DescribeAddresses'],
      removed: [],
    },
  },
  // Proxies with Elastic IPs of their own instead of a NAT gateway: the proxies may associate only their address.
  'public-multi-az': {
    counts: {
      'AWS::CloudWatch::Alarm': 7,
      'AWS::EC2::EIP': 2,
      'AWS::EC2::NatGateway': 0,
      'AWS::EC2::Route': 2,
    },
    stateful: {
      added: ['HubProxyAElasticIp4FD780D2', 'HubProxyCElasticIpC5F5097A'],
      removed: ['HubVpcpublicSubnet1EIP84ED06BC', 'HubVpcpublicSubnet1NATGateway8CD12909'],
    },
    outputs: {
      added: ['HubEgressIpsF78D4789'],
      removed: [],
    },
    wildcardGrants: {
      added: ['ec2:DescribeAddresses'],
      removed: [],
    },
    actions: {
      added: ['ec2:AssociateAddress', 'ec2:DescribeAddresses'],
      removed: [],
    },
  },
};

describe('what each mode changes against multi-az', () => {
  it.each(Object.keys(MODE_CHANGES) as Exclude<Mode, 'multi-az'>[])(
    '%s: resources per type, stateful logical IDs, outputs and IAM grants',
    (name) => {
      expect(hubChanges(mode('multi-az').hub, mode(name).hub)).toEqual(MODE_CHANGES[name]);
    },
  );

  it.each(Object.keys(MODE_CHANGES) as Mode[])('%s: the same tenant and spoke stacks as multi-az (logical IDs, outputs)', (name) => {
    for (const [id, t] of mode(name).templates) {
      if (id === 'Hub') continue;
      const base = mode('multi-az').templates.get(id)!;
      expect({ id, ids: Object.keys(t.toJSON().Resources as object), outputs: outputNames(t) }).toEqual({
        id,
        ids: Object.keys(base.toJSON().Resources as object),
        outputs: outputNames(base),
      });
    }
  });
});

describe.each(Object.keys(MODES) as Mode[])('mode scenario %s', (name) => {
  it('validates every template against the CloudFormation registry', () => {
    for (const [id, t] of mode(name).templates) expect({ id, problems: validateTemplate(t.toJSON()) }).toEqual({ id, problems: [] });
  });

  it('has no unacknowledged cdk-nag AwsSolutions findings', () => {
    expect(nagFindings(mode(name).app)).toEqual([]);
  });

  it('boots each proxy with its own group and address (fixed: its ENI, public: its Elastic IP; nlb: neither), within the user data budget', () => {
    const t = mode(name).hub;
    const ids = Object.keys(t.toJSON().Resources as object);
    const templates = Object.keys(t.findResources('AWS::EC2::LaunchTemplate'));
    const fixed = mode(name).plan.hub.proxy.fixed.map((f) => f.id);
    expect(templates.map((lt) => /^Hub(\w+?)LaunchTemplate/.exec(lt)![1])).toEqual(fixed.length ? fixed : ['Proxies']);
    for (const lt of templates) {
      const fleet = /^Hub(\w+?)LaunchTemplate/.exec(lt)![1]!;
      const own = (what: string) => `{${ids.find((k) => k.startsWith(`Hub${fleet}${what}`))!}}`;
      expect(bootParameters(t, lt)).toMatchObject({
        RESOURCE: own('GroupASG').slice(1, -1),
        ENI: fixed.length ? own('ListenerInterface') : '',
        EIP_ALLOCATION: name.startsWith('public-') ? `${own('ElasticIp').slice(0, -1)}.AllocationId}` : '',
        HEALTH_DIMENSION: `Proxy=${fleet}`,
      });
      expect(userDataHeadroom(t, lt)).toBeGreaterThanOrEqual(USER_DATA_HEADROOM_FLOOR);
    }
  });
});

describe('fleet-mode limits', () => {
  it('nlb with 50 tenants and 10 proxies at most (the listener and target quotas): 50 listeners and target groups, one alarm each kind, within stack limits', () => {
    // 50 target groups x 10 instances = 500 registrations, exactly the cross-zone NLB's target quota.
    const config = withHub({ proxy: { mode: 'nlb', scaling: { max: 10 } } })();
    const s = synthOnce('mode-nlb-50', () =>
      planOf({
        ...config,
        tenants: Array.from({ length: 50 }, (_, i) => ({ name: `t-${i + 1}`, port: 5000 + i, allow: '*' })),
        spokes: [],
      }),
    );
    s.hub.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 50);
    s.hub.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 50);
    s.hub.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MaxSize: '10' });
    expect(resourcesOf(s.hub, 'AWS::CloudWatch::Alarm').filter(([k]) => k.includes('Nlb'))).toHaveLength(2);
    expect(Object.keys(s.hub.toJSON().Resources as object).length).toBeLessThan(500);
    expect(validateTemplate(s.hub.toJSON())).toEqual([]);
  });

  it('warns when the gateway group needs more outbound rules than the default quota: one per port range per fixed proxy', () => {
    // 21 scattered ports: 21 inbound rules per listener group (fine), 3 proxies x 21 = 63 gateway outbound rules.
    const config = withHub({ availabilityZones: AZ3 })();
    const s = synthOnce('mode-rules-3az', () =>
      planOf({
        ...config,
        tenants: Array.from({ length: 21 }, (_, i) => ({ name: `t-${i + 1}`, port: 4000 + 2 * i, allow: '*' })),
        spokes: [],
      }),
    );
    const hub = s.app.node.findChild('Hub') as Stack;
    expect(Annotations.fromStack(hub).findWarning('*', Match.stringLikeRegexp('gateway group 63 outbound rules'))).toHaveLength(1);
  });
});

describe('FailoverDns and NlbFront used directly', () => {
  const setup = () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c'], natGateways: 0 });
    const alarm = (id: string) =>
      new cloudwatch.Metric({ namespace: 'egresshub/test', metricName: 'ProxyHealthy', dimensionsMap: { Proxy: id } }).createAlarm(
        stack,
        `${id}Alarm`,
        { threshold: 1, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD },
      );
    return { stack, vpc, proxy: (id: string, ip: string) => ({ id, ip, healthAlarm: alarm(id) }) };
  };

  it('fails when the failover name has fewer than two proxies', () => {
    const { stack, vpc, proxy } = setup();
    expect(
      () =>
        new FailoverDns(stack, 'Dns', {
          vpc,
          zoneName: 'x.internal',
          name: 'proxy.x.internal',
          ttl: Duration.seconds(10),
          proxies: [proxy('ProxyA', '10.0.0.10')],
        }),
    ).toThrow(/needs at least two proxies \(got 1\); use proxy mode single/);
  });

  it('fails when the failover name lies outside its zone', () => {
    const { stack, vpc, proxy } = setup();
    expect(
      () =>
        new FailoverDns(stack, 'Dns', {
          vpc,
          zoneName: 'x.internal',
          name: 'proxy.y.internal',
          ttl: Duration.seconds(10),
          proxies: [proxy('ProxyA', '10.0.0.10'), proxy('ProxyC', '10.0.64.10')],
        }),
    ).toThrow(/"proxy\.y\.internal" must lie inside the zone "x\.internal"/);
  });

  it('fails when a tenant port is the health-check port', () => {
    const { stack, vpc } = setup();
    expect(() => new NlbFront(stack, 'Nlb', { vpc, subnets: vpc.isolatedSubnets, ports: [3201, NLB_HEALTH_PORT] })).toThrow(
      new RegExp(`port ${NLB_HEALTH_PORT} is the target groups' health-check port`),
    );
  });

  it('fails when an NLB would need more than 50 listeners', () => {
    const { stack, vpc } = setup();
    const ports = Array.from({ length: 51 }, (_, i) => 5000 + i);
    expect(() => new NlbFront(stack, 'Nlb', { vpc, subnets: vpc.isolatedSubnets, ports })).toThrow(
      /at most 50 listeners and each tenant port needs one \(got 51 ports\)/,
    );
  });
});

describe('nlb with fewer proxies than AZs', () => {
  it('watches every target group as a whole, not per AZ (an AZ may rightly have no proxy)', () => {
    const s = synthOnce('mode-nlb-min1', () => planOf(withHub({ proxy: { mode: 'nlb', scaling: { min: 1, max: 4 } } })()));
    const healthy = resourcesOf(s.hub, 'AWS::CloudWatch::Alarm')
      .map(([, a]) => JSON.stringify(a.Properties.Metrics ?? ''))
      .filter((a) => a.includes('MIN(HealthyHostCount)'));
    expect(healthy).toHaveLength(1);
    expect(healthy[0]).toMatch(/GROUP BY TargetGroup"|GROUP BY TargetGroup\\"/);
    expect(healthy[0]).not.toContain('AvailabilityZone');
    s.hub.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '1', MaxSize: '4' });
  });
});
