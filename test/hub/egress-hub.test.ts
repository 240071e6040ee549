import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp, PLACEHOLDER_IMAGE, proxyImageOf } from '../../src/app';
import { type EgressHubStack, MATCH_NO_TRAFFIC, renderCloudWatchAgentConfig } from '../../src/hub';
import { policyObjectText } from '../../src/hub/policy-rollout';
import { renderSquidConf } from '../../src/policy';
import { validateTemplate } from '../support/cfn-registry';
import { nagFindings } from '../support/nag';
import { exampleConfig, hubSnapshotOf as snapshotOf, planOf, synthOnce, userDataOf } from '../support/stack';
import {
  allowedActions,
  bootParameters,
  countChanges,
  grantsOf,
  listChanges,
  outputNames,
  resourceCounts,
  retainedIds,
  statefulIds,
  USER_DATA_HEADROOM_FLOOR,
  userDataHeadroom,
  wildcardResourceGrants,
} from '../support/template-facts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const resourcesOf = (t: Template, type: string): Resources =>
  Object.fromEntries(Object.entries(t.toJSON().Resources as Resources).filter(([, r]) => r.Type === type));
const only = <T>(r: Record<string, T>): [string, T] => {
  const entries = Object.entries(r);
  expect(entries).toHaveLength(1);
  return entries[0]!;
};

/** Scenarios: the example config and its edge cases (no tenants, one AZ, many tenants, …). */
const SCENARIOS: Record<string, () => Record<string, unknown>> = {
  example: exampleConfig,
  'no-tenants': () => ({ ...exampleConfig(), tenants: [], spokes: [] }),
  'one-az': () => {
    const c = exampleConfig();
    return { ...c, hub: { ...(c.hub as object), availabilityZones: ['ap-northeast-1a'], proxy: { mode: 'single' } } };
  },
  'many-tenants': () => ({
    ...exampleConfig(),
    tenants: Array.from({ length: 25 }, (_, i) => ({
      name: `team-${i + 1}`,
      accounts: [String(300000000000 + i)],
      port: 4000 + i,
      allow: [`*.team${i + 1}.example.com`],
    })),
    spokes: [],
  }),
  'per-az-nat': () => {
    const c = exampleConfig();
    return {
      ...c,
      hub: { ...(c.hub as object), natGateways: 'per-az', availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'] },
    };
  },
  'regional-nat': () => {
    const c = exampleConfig();
    return {
      ...c,
      hub: { ...(c.hub as object), natGateways: 'regional', availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'] },
    };
  },
  x86: () => {
    const c = exampleConfig();
    return { ...c, hub: { ...(c.hub as object), proxy: { instanceType: 'm7i.large' }, logRetentionDays: 30 } };
  },
};
const scenario = (name: string) => synthOnce(name, () => planOf(SCENARIOS[name]!()));
/** The tenants stack that holds the tenant on `port` (one stack per block of 50 ports). */
const tenantsStack = (s: ReturnType<typeof scenario>, port: number) => s.templates.get(`Tenants-${Math.floor(port / 50) * 50}`)!;

describe('EgressHub with the example config', () => {
  const s = scenario('example');
  const t = s.hub;

  it('builds the VPC from the plan: CIDR, explicit AZs, public + private subnets of plan.hub.subnetPrefix', () => {
    t.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/16' });
    const subnets = Object.values(resourcesOf(t, 'AWS::EC2::Subnet')).map((r) => [r.Properties.AvailabilityZone, r.Properties.CidrBlock]);
    expect(subnets).toEqual([
      ['ap-northeast-1a', '10.0.0.0/18'],
      ['ap-northeast-1c', '10.0.64.0/18'],
      ['ap-northeast-1a', '10.0.128.0/18'],
      ['ap-northeast-1c', '10.0.192.0/18'],
    ]);
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('\\.s3$')])] }),
    });
  });

  it('sends flow logs to a KMS-encrypted log group with the configured retention', () => {
    t.hasResourceProperties('AWS::EC2::FlowLog', { LogDestinationType: 'cloud-watch-logs', TrafficType: 'ALL' });
    t.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: s.plan.hub.logRetentionDays,
      KmsKeyId: Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('LogKey'), 'Arn'] }),
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'logs.ap-northeast-1.amazonaws.com' },
            Condition: {
              // The hub's own groups only: flow logs and Squid's logs (docs/operations.md) share the key.
              ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.stringLikeRegexp(':log-group:/egresshub/egresshub-hub/\\*$') },
            },
          }),
        ]),
      },
    });
  });

  it('launches the proxies from the recorded AL2023 image (offline: the placeholder) with IMDSv2, an encrypted root volume and no key pair or public IP', () => {
    const templates = Object.values(resourcesOf(t, 'AWS::EC2::LaunchTemplate'));
    expect(templates).toHaveLength(2); // multi-az over two AZs: one fixed proxy each
    for (const lt of templates) {
      const data = lt.Properties.LaunchTemplateData as Record<string, unknown>;
      expect(data).toMatchObject({
        InstanceType: 't4g.small',
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeType: 'gp3', DeleteOnTermination: true } }],
      });
      expect(data.KeyName).toBeUndefined();
      expect(data.NetworkInterfaces).toBeUndefined();
      // Never an SSM parameter resolved at every deploy (test/hub/image.test.ts has the recorded and pinned cases).
      expect(data.ImageId).toBe(PLACEHOLDER_IMAGE);
    }
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] },
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] }],
    });
  });

  it('runs one self-healing instance per AZ pinned to its fixed ENI subnet, and fails the deploy without its cfn-signal', () => {
    const groups = resourcesOf(t, 'AWS::AutoScaling::AutoScalingGroup');
    const enis = resourcesOf(t, 'AWS::EC2::NetworkInterface');
    for (const [proxy, subnet] of [
      ['ProxyA', /privateSubnet1/],
      ['ProxyC', /privateSubnet2/],
    ] as const) {
      const [asgId, asg] = Object.entries(groups).find(([k]) => k.startsWith(`Hub${proxy}`))!;
      const [eniId, eni] = Object.entries(enis).find(([k]) => k.startsWith(`Hub${proxy}`))!;
      expect(asg.Properties).toMatchObject({ MinSize: '1', MaxSize: '1', VPCZoneIdentifier: [eni.Properties.SubnetId] });
      expect(eni.Properties.SubnetId).toEqual({ Ref: expect.stringMatching(subnet) });
      const raw = t.toJSON().Resources[asgId];
      expect(raw.CreationPolicy).toEqual({ ResourceSignal: { Count: 1, Timeout: 'PT15M' } });
      // One instance at a time, waiting for its signal, with the processes that would fight the update suspended.
      expect(raw.UpdatePolicy).toEqual({
        AutoScalingRollingUpdate: {
          MaxBatchSize: 1,
          MinInstancesInService: 0,
          SuspendProcesses: ['HealthCheck', 'ReplaceUnhealthy', 'AZRebalance', 'AlarmNotification', 'ScheduledActions', 'InstanceRefresh'],
          WaitOnResourceSignals: true,
          PauseTime: 'PT15M',
        },
        AutoScalingScheduledAction: { IgnoreUnmodifiedGroupSizeProperties: true },
      });
      expect(asg.Properties.Tags).toContainEqual({ Key: 'egresshub:fleet', Value: `Hub/Hub/${proxy}`, PropagateAtLaunch: true });
      // The role may attach/detach only this ENI, and only on instances of this fleet.
      t.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'ClaimListenerInterface',
              Resource: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([{ Ref: eniId }])] }),
            }),
            Match.objectLike({
              Sid: 'OnlyFleetInstances',
              Condition: { StringEquals: { 'aws:ResourceTag/egresshub:fleet': `Hub/Hub/${proxy}` } },
            }),
          ]),
        },
      });
    }
  });

  it('publishes one policy for the hub (squid.conf from renderSquidConf in S3, named by an SSM parameter) that every proxy boots with', () => {
    const hub = (s.app.node.findChild('Hub') as EgressHubStack).hub;
    const asset = join(s.app.outdir, hub.policy.asset.assetPath);
    // squid.conf, then the proxy files it carries (the log daemon, the CloudWatch agent's config).
    expect(readFileSync(asset, 'utf8')).toBe(policyObjectText(renderSquidConf(s.plan), renderCloudWatchAgentConfig(s.plan.hub.logGroups)));
    const parameter = Object.keys(resourcesOf(t, 'AWS::SSM::Parameter'));
    expect(parameter).toHaveLength(1);
    for (const proxy of ['ProxyA', 'ProxyC']) {
      const asgId = Object.keys(resourcesOf(t, 'AWS::AutoScaling::AutoScalingGroup')).find((k) => k.startsWith(`Hub${proxy}`))!;
      const lt = Object.entries(resourcesOf(t, 'AWS::EC2::LaunchTemplate')).find(([k]) => k.startsWith(`Hub${proxy}`))![1];
      const ud = JSON.stringify(lt.Properties);
      // Each proxy signals its own group, and reads the hub's one parameter (no policy text in the user data).
      expect(ud).toContain(`RESOURCE='${asgId}'`);
      expect(ud).toContain(`{"Ref":"${parameter[0]}"}`);
      expect(ud).not.toContain('registry.npmjs.org');
      expect(ud).not.toContain('3201');
    }
  });

  it('lets only the resource gateway reach the proxies, only on tenant ports; the instances themselves admit nothing', () => {
    const sgs = resourcesOf(t, 'AWS::EC2::SecurityGroup');
    const ids = (re: RegExp) => Object.keys(sgs).filter((k) => re.test(k));
    const listeners = ids(/ListenerSecurityGroup/);
    const [gateway] = ids(/GatewaySecurityGroup/) as [string];
    expect(listeners).toHaveLength(2);
    const ingress = Object.values(resourcesOf(t, 'AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    // Contiguous tenant ports share one rule (3201 and 3202 -> 3201-3202), per proxy.
    expect(ingress).toEqual(
      listeners.map((listener): unknown =>
        expect.objectContaining({
          GroupId: { 'Fn::GetAtt': [listener, 'GroupId'] },
          SourceSecurityGroupId: { 'Fn::GetAtt': [gateway, 'GroupId'] },
          FromPort: 3201,
          ToPort: 3202,
          IpProtocol: 'tcp',
        }),
      ),
    );
    for (const sg of Object.values(sgs)) expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
    const egress = Object.values(resourcesOf(t, 'AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties);
    expect(egress.map((e) => [e.GroupId, e.FromPort, e.ToPort, e.DestinationSecurityGroupId])).toEqual(
      listeners.map((listener) => [{ 'Fn::GetAtt': [gateway, 'GroupId'] }, 3201, 3202, { 'Fn::GetAtt': [listener, 'GroupId'] }]),
    );
    // No default allow-all egress on the gateway or listener groups.
    expect(sgs[gateway]!.Properties.SecurityGroupEgress).toEqual([MATCH_NO_TRAFFIC]);
    for (const listener of listeners) expect(sgs[listener]!.Properties.SecurityGroupEgress).toEqual([MATCH_NO_TRAFFIC]);
    for (const instance of ids(/InstanceSecurityGroup/)) {
      expect(
        (sgs[instance]!.Properties.SecurityGroupEgress as { FromPort: number; CidrIp: string }[]).map((e) => [e.FromPort, e.CidrIp]),
      ).toEqual([
        [80, '0.0.0.0/0'],
        [443, '0.0.0.0/0'],
      ]);
    }
  });

  it('spans the resource gateway over every private subnet, with IN_VPC DNS resolution fixed at creation', () => {
    const [, gw] = only(resourcesOf(t, 'AWS::VpcLattice::ResourceGateway'));
    expect(gw.Properties).toMatchObject({
      Name: 'egresshub-gateway',
      IpAddressType: 'IPV4',
      ResourceConfigDnsResolution: 'IN_VPC',
    });
    expect((gw.Properties.SubnetIds as { Ref: string }[]).map((r) => r.Ref)).toEqual([
      expect.stringMatching(/privateSubnet1/),
      expect.stringMatching(/privateSubnet2/),
    ]);
  });

  it('publishes one SINGLE/TCP resource configuration per tenant on its own port, targeting the failover name', () => {
    const tenants = tenantsStack(s, 3201);
    for (const tenant of s.plan.tenants) {
      tenants.hasResourceProperties('AWS::VpcLattice::ResourceConfiguration', {
        // <name>-<tenant>-<hash of the create-only inputs>: a replacement gets a new name.
        Name: Match.stringLikeRegexp(`^${tenant.resourceConfigurationName}-[0-9a-f]{8}$`),
        ResourceConfigurationType: 'SINGLE',
        ProtocolType: 'TCP',
        PortRanges: [String(tenant.port)],
        // The hub's gateway, imported from the hub stack.
        // Fn::GetStackOutput: unlike an export, it does not pin the hub's value while tenants use it.
        ResourceGatewayId: {
          'Fn::GetStackOutput': Match.objectLike({ StackName: 'egresshub-hub', OutputName: Match.stringLikeRegexp('ResourceGateway.*Id') }),
        },
        // multi-az (the default): the failover name in the hub's private hosted zone, resolved IN_VPC.
        ResourceConfigurationDefinition: {
          DnsResource: { DomainName: 'proxy.egresshub-hub.egresshub.internal', IpAddressType: 'IPV4' },
        },
      });
    }
    tenants.resourceCountIs('AWS::VpcLattice::ResourceConfiguration', 2);
    t.resourceCountIs('AWS::VpcLattice::ResourceConfiguration', 0);
  });

  it('shares a configuration over RAM only with principals outside the hub account', () => {
    const shares = Object.values(resourcesOf(tenantsStack(s, 3201), 'AWS::RAM::ResourceShare'));
    expect(shares.map((r) => r.Properties)).toEqual([
      {
        Name: 'egresshub-project-a',
        Principals: ['222222222222'],
        ResourceArns: [{ 'Fn::GetAtt': [expect.stringMatching(/^TenantsprojectaResourceConfiguration/), 'Arn'] }],
      },
    ]);
  });

  it("outputs each tenant's ARN, port and spoke parameters", () => {
    const outputs = tenantsStack(s, 3201).toJSON().Outputs as Record<string, { Value: unknown; Description: string }>;
    const of = (tenant: string, what: string) =>
      Object.entries(outputs).find(([k]) => k.startsWith(`Tenants${tenant.replace(/-/g, '')}${what}`))?.[1];
    expect(of('project-a', 'Port')?.Value).toBe('3201');
    expect(of('project-b', 'Port')?.Value).toBe('3202');
    expect(of('project-a', 'ResourceConfigurationArn')?.Value).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/projectaResourceConfiguration/), 'Arn'],
    });
    expect(of('project-a', 'SpokeParameters')?.Value).toEqual({
      'Fn::Join': ['', ['ResourceConfigurationArn=', { 'Fn::GetAtt': [expect.stringMatching(/projectaResourceConfiguration/), 'Arn'] }]],
    });
  });
});

/**
 * The example app's day-2 contract, stated fact by fact. Its whole-template snapshot (the end of this file) says
 * that something changed; these say what must not, so a snapshot update (`-u`) cannot wave such a change through.
 */
describe('the example hub keeps what deployed hubs and their tenants depend on', () => {
  const s = scenario('example');
  const t = s.hub;
  const tenants = tenantsStack(s, 3201);

  it('builds these resources, per type', () => {
    expect(resourceCounts(t)).toEqual({
      'AWS::AutoScaling::AutoScalingGroup': 2,
      'AWS::AutoScaling::LifecycleHook': 2,
      'AWS::CloudWatch::Alarm': 9,
      'AWS::CloudWatch::CompositeAlarm': 1,
      'AWS::CloudWatch::Dashboard': 1,
      'AWS::CloudWatch::InsightRule': 4,
      'AWS::EC2::EIP': 1,
      'AWS::EC2::FlowLog': 1,
      'AWS::EC2::InternetGateway': 1,
      'AWS::EC2::LaunchTemplate': 2,
      'AWS::EC2::NatGateway': 1,
      'AWS::EC2::NetworkInterface': 2,
      'AWS::EC2::Route': 4,
      'AWS::EC2::RouteTable': 4,
      'AWS::EC2::SecurityGroup': 5,
      'AWS::EC2::SecurityGroupEgress': 2,
      'AWS::EC2::SecurityGroupIngress': 2,
      'AWS::EC2::Subnet': 4,
      'AWS::EC2::SubnetRouteTableAssociation': 4,
      'AWS::EC2::VPC': 1,
      'AWS::EC2::VPCEndpoint': 1,
      'AWS::EC2::VPCGatewayAttachment': 1,
      'AWS::IAM::InstanceProfile': 2,
      'AWS::IAM::Policy': 3,
      'AWS::IAM::Role': 3,
      'AWS::KMS::Key': 1,
      'AWS::Logs::LogGroup': 3,
      'AWS::Logs::MetricFilter': 6,
      'AWS::Logs::QueryDefinition': 4,
      'AWS::Logs::Transformer': 1,
      'AWS::Route53::HealthCheck': 2,
      'AWS::Route53::HostedZone': 1,
      'AWS::Route53::RecordSet': 2,
      'AWS::SSM::Association': 1,
      'AWS::SSM::Document': 1,
      'AWS::SSM::Parameter': 1,
      'AWS::VpcLattice::ResourceGateway': 1,
    });
    expect(resourceCounts(tenants)).toEqual({ 'AWS::RAM::ResourceShare': 1, 'AWS::VpcLattice::ResourceConfiguration': 2 });
  });

  it('keeps the logical IDs of its stateful resources: a new ID would replace the VPC, an address, the gateway or a configuration', () => {
    expect(statefulIds(t)).toEqual([
      'HubFailoverDnsLevel0Primary8F68E140',
      'HubFailoverDnsLevel0Secondary4CF8C321',
      'HubFailoverDnsProxyAHealthCheck32D82304',
      'HubFailoverDnsProxyCHealthCheck36FFD0BF',
      'HubFailoverDnsZoneDDB7926B',
      'HubFlowLogGroupCEBC6351',
      'HubGatewaySecurityGroup1BA9BC1B',
      'HubLogKey9E1C3FF5',
      'HubObservabilityAccessLogGroupD4DE99A7',
      'HubObservabilityCacheLogGroup7615CF4C',
      'HubPolicyApplyDocument0D5746FC',
      'HubPolicyParameter660A1779',
      'HubProxyAGroupASGCAD5D0F5',
      'HubProxyAInstanceSecurityGroup7D90E729',
      'HubProxyAListenerInterface3E2D323C',
      'HubProxyAListenerSecurityGroup75C39396',
      'HubProxyCGroupASG7DB2F36A',
      'HubProxyCInstanceSecurityGroup9FCDA3E2',
      'HubProxyCListenerInterface6ACC30F3',
      'HubProxyCListenerSecurityGroup16D8E9A4',
      'HubResourceGatewayFF17F882',
      'HubVpcCC3B007D',
      'HubVpcIGWE5DB3ABB',
      'HubVpcS35B5D6132',
      'HubVpcprivateSubnet1SubnetA3E459C9',
      'HubVpcprivateSubnet2Subnet492E46BF',
      'HubVpcpublicSubnet1EIP84ED06BC',
      'HubVpcpublicSubnet1NATGateway8CD12909',
      'HubVpcpublicSubnet1Subnet95578BC6',
      'HubVpcpublicSubnet2SubnetF9142779',
    ]);
    expect(statefulIds(tenants)).toEqual([
      'TenantsprojectaResourceConfigurationA463CEE3',
      'TenantsprojectaShare0EF86EB9',
      'TenantsprojectbResourceConfiguration0ECAC164',
    ]);
  });

  it('keeps its output names: tenant stacks and spokes read them (Fn::GetStackOutput), and so do users and scripts', () => {
    expect(outputNames(t)).toEqual([
      'HubProxyATargetIpB8D5EFCE',
      'HubProxyCTargetIp884180F5',
      'HubProxyTargetName401C876C',
      'HubResourceGatewayId53BC3FDF',
      // Read by the tenant stacks: the gateway every resource configuration sits on.
      'PublishOutputFnGetAttHubResourceGatewayFF17F882IdA37D3D61',
    ]);
    expect(outputNames(tenants)).toEqual([
      // Read by project-b's spoke (same account and region as the hub).
      'PublishOutputFnGetAttTenantsprojectbResourceConfiguration0ECAC164Arn184C9B58',
      'TenantsprojectaPort18885C24',
      'TenantsprojectaResourceConfigurationArn11D32A3A',
      'TenantsprojectaSpokeParameters8C55D522',
      'TenantsprojectbPort71338092',
      'TenantsprojectbResourceConfigurationArnFF94F772',
      'TenantsprojectbSpokeParameters740F3A6D',
    ]);
    const readByTenants = JSON.stringify(tenants.toJSON().Resources).match(/"OutputName":"[^"]+"/g);
    expect([...new Set(readByTenants)]).toEqual(['"OutputName":"PublishOutputFnGetAttHubResourceGatewayFF17F882IdA37D3D61"']);
  });

  it('retains the log key and every log group when the stack is deleted or they are replaced', () => {
    expect(retainedIds(t)).toEqual([
      'HubFlowLogGroupCEBC6351',
      'HubLogKey9E1C3FF5',
      'HubObservabilityAccessLogGroupD4DE99A7',
      'HubObservabilityCacheLogGroup7615CF4C',
    ]);
  });

  it("grants each proxy exactly these statements (its own ENI and fleet tag), and the flow logs only their group's streams", () => {
    const asset = 'arn:aws:s3:::cdk-hnb659fds-assets-111111111111-ap-northeast-1/<asset>';
    const proxyGrants = (proxy: string, eni: string) => [
      `ClaimListenerInterface Allow: ec2:AttachNetworkInterface ec2:DetachNetworkInterface on arn:aws:ec2:ap-northeast-1:111111111111:network-interface/{${eni}}`,
      `OnlyFleetInstances Allow: ec2:AttachNetworkInterface ec2:DetachNetworkInterface on arn:aws:ec2:ap-northeast-1:111111111111:instance/* if StringEquals aws:ResourceTag/egresshub:fleet=Hub/Hub/${proxy}`,
      'SeeListenerInterface Allow: ec2:DescribeNetworkInterfaces on *',
      'PublishProxyHealth Allow: cloudwatch:PutMetricData on * if StringEquals cloudwatch:namespace=egresshub/egresshub',
      'ReadFleetEgress Allow: cloudwatch:GetMetricStatistics on *',
      `ReplaceFailedBoot Allow: autoscaling:SetInstanceHealth on arn:aws:autoscaling:ap-northeast-1:111111111111:autoScalingGroup:*:autoScalingGroupName/* if StringEquals autoscaling:ResourceTag/egresshub:fleet=Hub/Hub/${proxy}`,
      '- Allow: ssm:DescribeParameters ssm:GetParameter ssm:GetParameterHistory ssm:GetParameters on arn:aws:ssm:ap-northeast-1:111111111111:parameter{HubPolicyParameter660A1779}',
      `ReadProxyPolicy Allow: s3:GetObject on ${asset}.conf`,
      '- Allow: cloudformation:SignalResource on {AWS::StackId}',
      `ReadHealthPublisher Allow: s3:GetObject on ${asset}.sh`,
      'ShipSquidLogs Allow: logs:CreateLogStream logs:DescribeLogStreams logs:PutLogEvents on {HubObservabilityAccessLogGroupD4DE99A7.Arn}, {HubObservabilityCacheLogGroup7615CF4C.Arn}',
    ];
    expect(grantsOf(t, 'HubProxyARoleDefaultPolicy7CEC4C37')).toEqual(proxyGrants('ProxyA', 'HubProxyAListenerInterface3E2D323C'));
    expect(grantsOf(t, 'HubProxyCRoleDefaultPolicy9A9FDA17')).toEqual(proxyGrants('ProxyC', 'HubProxyCListenerInterface6ACC30F3'));
    expect(grantsOf(t, 'HubVpcFlowLogIAMRoleDefaultPolicyCA6164E2')).toEqual([
      '- Allow: logs:CreateLogStream logs:DescribeLogStreams logs:PutLogEvents on {HubFlowLogGroupCEBC6351.Arn}',
    ]);
    t.resourceCountIs('AWS::IAM::Policy', 3);
  });
});

/** What each edge scenario changes against the example: resources per type, stateful logical IDs, outputs. */
const HUB_CHANGES: Record<
  string,
  { counts: Record<string, number>; stateful: { added: string[]; removed: string[] }; outputs: { added: string[]; removed: string[] } }
> = {
  'no-tenants': { counts: {}, stateful: { added: [], removed: [] }, outputs: { added: [], removed: [] } },
  'many-tenants': { counts: {}, stateful: { added: [], removed: [] }, outputs: { added: [], removed: [] } },
  x86: { counts: {}, stateful: { added: [], removed: [] }, outputs: { added: [], removed: [] } },
  // mode single (one AZ holds one proxy): no failover name, no second proxy.
  'one-az': {
    counts: {
      'AWS::AutoScaling::AutoScalingGroup': 1,
      'AWS::AutoScaling::LifecycleHook': 0,
      'AWS::CloudWatch::Alarm': 7,
      'AWS::CloudWatch::CompositeAlarm': 0,
      'AWS::EC2::LaunchTemplate': 1,
      'AWS::EC2::NetworkInterface': 1,
      'AWS::EC2::Route': 2,
      'AWS::EC2::RouteTable': 2,
      'AWS::EC2::SecurityGroup': 3,
      'AWS::EC2::SecurityGroupEgress': 1,
      'AWS::EC2::SecurityGroupIngress': 1,
      'AWS::EC2::Subnet': 2,
      'AWS::EC2::SubnetRouteTableAssociation': 2,
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
        'HubVpcprivateSubnet2Subnet492E46BF',
        'HubVpcpublicSubnet2SubnetF9142779',
      ],
    },
    outputs: {
      added: ['HubProxyTargetIp1EB5088B', 'PublishOutputFnGetAttHubProxyAListenerInterface3E2D323CPrimaryPrivateIpAddress0CA8E7B8'],
      removed: ['HubProxyATargetIpB8D5EFCE', 'HubProxyCTargetIp884180F5', 'HubProxyTargetName401C876C'],
    },
  },
  // Three AZs: a third proxy (ProxyD) behind a nested failover level, and a NAT gateway per AZ.
  'per-az-nat': {
    counts: {
      'AWS::AutoScaling::AutoScalingGroup': 3,
      'AWS::AutoScaling::LifecycleHook': 3,
      'AWS::CloudWatch::Alarm': 15,
      'AWS::EC2::EIP': 3,
      'AWS::EC2::LaunchTemplate': 3,
      'AWS::EC2::NatGateway': 3,
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
        'HubVpcpublicSubnet2EIP3FB7B7D7',
        'HubVpcpublicSubnet2NATGateway58162666',
        'HubVpcpublicSubnet3EIP5FC45E40',
        'HubVpcpublicSubnet3NATGatewayDCF146C2',
        'HubVpcpublicSubnet3Subnet2CF79F24',
      ],
      removed: [],
    },
    outputs: { added: ['HubProxyDTargetIp15B04A6B'], removed: [] },
  },
  // Three AZs behind one regional NAT gateway: no zonal gateway, no Elastic IP.
  'regional-nat': {
    counts: {
      'AWS::AutoScaling::AutoScalingGroup': 3,
      'AWS::AutoScaling::LifecycleHook': 3,
      'AWS::CloudWatch::Alarm': 11,
      'AWS::EC2::EIP': 0,
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
        'HubVpcRegionalNatGateway1D27BC23',
        'HubVpcprivateSubnet3SubnetEDB5F406',
        'HubVpcpublicSubnet3Subnet2CF79F24',
      ],
      removed: ['HubVpcpublicSubnet1EIP84ED06BC', 'HubVpcpublicSubnet1NATGateway8CD12909'],
    },
    outputs: { added: ['HubProxyDTargetIp15B04A6B'], removed: [] },
  },
};

describe('EgressHub edge configs', () => {
  it('with no tenants, publishes one shared configuration on port 3128 and shares it with nobody', () => {
    const s = scenario('no-tenants');
    const tenants = tenantsStack(s, 3128);
    tenants.resourceCountIs('AWS::VpcLattice::ResourceConfiguration', 1);
    tenants.hasResourceProperties('AWS::VpcLattice::ResourceConfiguration', {
      Name: Match.stringLikeRegexp('^egresshub-shared-[0-9a-f]{8}$'),
      PortRanges: ['3128'],
    });
    tenants.resourceCountIs('AWS::RAM::ResourceShare', 0);
    expect(statefulIds(tenants)).toEqual(['TenantssharedResourceConfiguration34085EC1']);
    expect(outputNames(tenants)).toEqual([
      'TenantssharedPort6045DAE7',
      'TenantssharedResourceConfigurationArn8B9BE593',
      'TenantssharedSpokeParametersB564ABE8',
    ]);
    for (const r of Object.values(resourcesOf(s.hub, 'AWS::EC2::SecurityGroupIngress')))
      expect([r.Properties.FromPort, r.Properties.ToPort]).toEqual([3128, 3128]);
  });

  it('with one AZ, builds two /17 subnets and a gateway in the single private subnet', () => {
    const t = scenario('one-az').hub;
    expect(Object.values(resourcesOf(t, 'AWS::EC2::Subnet')).map((r) => r.Properties.CidrBlock)).toEqual(['10.0.0.0/17', '10.0.128.0/17']);
    const [, gw] = only(resourcesOf(t, 'AWS::VpcLattice::ResourceGateway'));
    expect(gw.Properties.SubnetIds).toHaveLength(1);
  });

  it('with 25 tenants, builds 25 configurations and shares, and opens exactly their ports', () => {
    const s = scenario('many-tenants');
    const tenants = tenantsStack(s, 4000);
    tenants.resourceCountIs('AWS::VpcLattice::ResourceConfiguration', 25);
    tenants.resourceCountIs('AWS::RAM::ResourceShare', 25);
    // Ports 4000-4024 are contiguous: one listener rule per proxy covers them all.
    const ranges = Object.values(resourcesOf(s.hub, 'AWS::EC2::SecurityGroupIngress')).map((r) => [
      r.Properties.FromPort,
      r.Properties.ToPort,
    ]);
    expect(ranges).toEqual([
      [4000, 4024],
      [4000, 4024],
    ]);
    // Each tenant: its ARN, port and spoke parameters (logical IDs end in a hash of the construct path).
    expect(outputNames(tenants).map((o) => o.replace(/[0-9A-F]{8}$/, ''))).toEqual(
      Array.from({ length: 25 }, (_, i) => ['Port', 'ResourceConfigurationArn', 'SpokeParameters'].map((o) => `Tenantsteam${i + 1}${o}`))
        .flat()
        .sort(),
    );
    // CloudFormation quotas: 500 resources and 200 outputs per stack.
    const json = tenants.toJSON() as { Resources: object; Outputs: object };
    expect(Object.keys(json.Resources).length).toBeLessThan(500);
    expect(Object.keys(json.Outputs).length).toBeLessThanOrEqual(200);
  });

  it('with per-az NAT, puts a NAT gateway in every AZ', () => {
    const t = scenario('per-az-nat').hub;
    t.resourceCountIs('AWS::EC2::NatGateway', 3);
    const [, gw] = only(resourcesOf(t, 'AWS::VpcLattice::ResourceGateway'));
    expect(gw.Properties.SubnetIds).toHaveLength(3);
    // Each private subnet leaves through the gateway in its own AZ: an AZ outage takes no other AZ's egress.
    const ref = (v: unknown) => (v as { Ref: string }).Ref;
    const subnets = resourcesOf(t, 'AWS::EC2::Subnet');
    const azOfSubnet = (id: string) => subnets[id]!.Properties.AvailabilityZone;
    const nats = resourcesOf(t, 'AWS::EC2::NatGateway');
    const associations = Object.values(resourcesOf(t, 'AWS::EC2::SubnetRouteTableAssociation')).map((a) => a.Properties);
    const viaNat = Object.values(resourcesOf(t, 'AWS::EC2::Route'))
      .map((r) => r.Properties)
      .filter((r) => r.NatGatewayId)
      .map((r) => {
        const subnet = ref(associations.find((a) => ref(a.RouteTableId) === ref(r.RouteTableId))!.SubnetId);
        return [azOfSubnet(subnet), azOfSubnet(ref(nats[ref(r.NatGatewayId)]!.Properties.SubnetId))];
      });
    expect(viaNat).toEqual([
      ['ap-northeast-1a', 'ap-northeast-1a'],
      ['ap-northeast-1c', 'ap-northeast-1c'],
      ['ap-northeast-1d', 'ap-northeast-1d'],
    ]);
  });

  it('with a regional NAT gateway, routes every private subnet to one gateway at VPC level (no public subnet, no EIP of its own)', () => {
    const t = scenario('regional-nat').hub;
    const [natId, nat] = only(resourcesOf(t, 'AWS::EC2::NatGateway'));
    // AWS allocates and scales the gateway's addresses per AZ (automatic mode): none in the template.
    expect(nat.Properties).toEqual({
      AvailabilityMode: 'regional',
      ConnectivityType: 'public',
      VpcId: { Ref: expect.stringMatching(/^HubVpc/) },
      Tags: expect.any(Array),
    });
    t.resourceCountIs('AWS::EC2::EIP', 0);
    const routes = Object.values(resourcesOf(t, 'AWS::EC2::Route')).filter((r) => 'NatGatewayId' in r.Properties);
    expect(routes.map((r) => r.Properties.NatGatewayId)).toEqual(Array(3).fill({ 'Fn::GetAtt': [natId, 'NatGatewayId'] }));
    // Every proxy waits for that route, as with zonal NAT gateways.
    expect(Object.values(resourcesOf(t, 'AWS::EC2::Route')).filter((r) => r.Properties.GatewayId)).toHaveLength(3);
  });

  it('with an x86 instance type, reads the x86_64 AL2023 image and the configured retention', () => {
    const s = scenario('x86');
    expect(proxyImageOf(s.plan).lookup?.parameterName).toBe('/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64');
    const t = s.hub;
    t.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ InstanceType: 'm7i.large' }) });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('puts tenants in one stack per block of 50 ports, so no stack outgrows CloudFormation limits', () => {
    const config = {
      ...exampleConfig(),
      tenants: Array.from({ length: 67 }, (_, i) => ({ name: `t-${i + 1}`, port: 4000 + i, allow: '*' })),
      spokes: [],
    };
    const app = buildApp(planOf(config));
    const stacks = app.node.children.filter((c): c is Stack => c instanceof Stack);
    const counts = Object.fromEntries(
      stacks
        .filter((st) => st.node.id.startsWith('Tenants-'))
        .map((st) => [st.node.id, Template.fromStack(st).findResources('AWS::VpcLattice::ResourceConfiguration')]),
    );
    expect(Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Object.keys(v).length]))).toEqual({
      'Tenants-4000': 50,
      'Tenants-4050': 17,
    });
  });

  it('warns when scattered ports need more listener rules than a security group holds by default', () => {
    const config = {
      ...exampleConfig(),
      tenants: Array.from({ length: 61 }, (_, i) => ({ name: `t-${i + 1}`, port: 4000 + 2 * i, allow: '*' })),
      spokes: [],
    };
    const app = buildApp(planOf(config));
    const hub = app.node.findChild('Hub') as Stack;
    const warnings = Annotations.fromStack(hub).findWarning('*', Match.stringLikeRegexp('61 ranges.*default quota is 60'));
    expect(warnings).toHaveLength(1);
  });

  it('keeps a large policy out of the user data: the boot script stays the same size whatever the allowlists', () => {
    // Random labels defeat gzip, as a real allowlist of thousands of unrelated domains would.
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const label = () => Array.from({ length: 14 }, () => String.fromCharCode(97 + (rnd() % 26))).join('');
    const config = exampleConfig();
    const tenants = config.tenants as Record<string, unknown>[];
    tenants[0] = { ...tenants[0], allow: Array.from({ length: 1500 }, () => `${label()}.${label()}.com`) };
    const large = synthOnce('large-conf', () => planOf(config));
    const ud = userDataOf(large.hub);
    expect(Buffer.byteLength(ud)).toBeLessThan(16 * 1024);
    expect(ud).toBe(userDataOf(scenario('example').hub));
    const hub = (large.app.node.findChild('Hub') as EgressHubStack).hub;
    expect(readFileSync(join(large.app.outdir, hub.policy.asset.assetPath), 'utf8')).toBe(
      policyObjectText(renderSquidConf(large.plan), renderCloudWatchAgentConfig(large.plan.hub.logGroups)),
    );
  });
});

describe('construct IDs are an API', () => {
  const tenantResources = (t: Template, tenant: string) =>
    Object.fromEntries(
      Object.entries(t.toJSON().Resources as Resources).filter(([k]) => k.startsWith(`Tenants${tenant.replace(/-/g, '')}`)),
    );

  it("adding or removing tenants leaves another tenant's logical IDs and properties unchanged", () => {
    const before = tenantResources(tenantsStack(scenario('example'), 3202), 'project-b');
    const c = exampleConfig();
    const b = (c.tenants as Record<string, unknown>[])[1]!;
    const changed = {
      ...c,
      tenants: [{ name: 'project-z', accounts: ['333333333333'], port: 3299, allow: ['example.org'] }, b],
      spokes: [],
    };
    const after = tenantResources(
      tenantsStack(
        synthOnce('tenant-swap', () => planOf(changed)),
        3202,
      ),
      'project-b',
    );
    expect(Object.keys(before).length).toBeGreaterThan(0);
    expect(after).toEqual(before);
  });
});

describe('what each edge scenario changes against the example hub', () => {
  it('covers every scenario but the example', () => {
    expect(Object.keys(HUB_CHANGES).sort()).toEqual(
      Object.keys(SCENARIOS)
        .filter((n) => n !== 'example')
        .sort(),
    );
  });

  it.each(Object.keys(HUB_CHANGES))('%s: resources per type, stateful logical IDs and outputs', (name) => {
    const example = scenario('example').hub;
    const t = scenario(name).hub;
    expect({
      counts: countChanges(example, t),
      stateful: listChanges(statefulIds(example), statefulIds(t)),
      outputs: listChanges(outputNames(example), outputNames(t)),
    }).toEqual(HUB_CHANGES[name]);
  });
});

describe.each(Object.keys(SCENARIOS))('scenario %s', (name) => {
  it('validates every template against the CloudFormation registry', () => {
    for (const [id, t] of scenario(name).templates) expect({ id, problems: validateTemplate(t.toJSON()) }).toEqual({ id, problems: [] });
  });

  it('has no unacknowledged cdk-nag AwsSolutions findings', () => {
    expect(nagFindings(scenario(name).app)).toEqual([]);
  });

  it('allows on Resource "*" only actions that take no resource (PutMetricData only into the hub namespace), and no action wildcard', () => {
    const t = scenario(name).hub;
    expect(wildcardResourceGrants(t)).toEqual([
      'cloudwatch:GetMetricStatistics',
      'cloudwatch:PutMetricData if StringEquals cloudwatch:namespace=egresshub/egresshub',
      'ec2:DescribeNetworkInterfaces',
    ]);
    expect(allowedActions(t).filter((a) => a.includes('*'))).toEqual([]);
  });

  it("boots every proxy with its own group, ENI and health dimension and the hub's one parameter, within the user data budget", () => {
    const t = scenario(name).hub;
    const [parameter] = Object.keys(t.findResources('AWS::SSM::Parameter')) as [string];
    const ids = Object.keys(t.toJSON().Resources as object);
    const templates = Object.keys(t.findResources('AWS::EC2::LaunchTemplate'));
    expect(templates.length).toBe(scenario(name).plan.hub.proxy.fixed.length);
    for (const lt of templates) {
      const proxy = /^Hub(Proxy[A-Z])LaunchTemplate/.exec(lt)![1]!;
      const own = (what: string) => ids.find((k) => k.startsWith(`Hub${proxy}${what}`))!;
      expect(bootParameters(t, lt)).toMatchObject({
        STACK: 'egresshub-hub',
        RESOURCE: own('GroupASG'),
        REGION: 'ap-northeast-1',
        POLICY_PARAMETER: `{${parameter}}`,
        ENI: `{${own('ListenerInterface')}}`,
        ENI_IP: `{${own('ListenerInterface')}.PrimaryPrivateIpAddress}`,
        EIP_ALLOCATION: '',
        HEALTH_DIMENSION: `Proxy=${proxy}`,
      });
      expect(userDataHeadroom(t, lt)).toBeGreaterThanOrEqual(USER_DATA_HEADROOM_FLOOR);
    }
  });
});

/**
 * Upgrade safety: the one whole-template snapshot kept, of every stack of the example app (examples/egresshub.yaml,
 * the default most hubs start from). Byte identity is the point here: any change to what a deployed example hub,
 * its tenant stack or its spokes would receive shows up in review, also changes no explicit assertion covers (an
 * alarm threshold, a dashboard widget, a description). The boot script and the policy apply document are
 * replaced by their names (test/hub/user-data.test.ts and policy-rollout.test.ts test them), asset hashes by
 * a marker. Other scenarios and fleet modes are covered by explicit assertions (above, fleet-modes.test.ts).
 */
describe('scenario example', () => {
  it('matches the snapshot', () => {
    for (const [id, t] of scenario('example').templates) expect(snapshotOf(t)).toMatchSnapshot(id);
  });
});
