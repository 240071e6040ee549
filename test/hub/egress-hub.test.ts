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
      expect(raw.UpdatePolicy.AutoScalingRollingUpdate).toMatchObject({
        MaxBatchSize: 1,
        MinInstancesInService: 0,
        WaitOnResourceSignals: true,
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

describe.each(Object.keys(SCENARIOS))('scenario %s', (name) => {
  it('validates every template against the CloudFormation registry', () => {
    for (const [id, t] of scenario(name).templates) expect({ id, problems: validateTemplate(t.toJSON()) }).toEqual({ id, problems: [] });
  });

  it('has no unacknowledged cdk-nag AwsSolutions findings', () => {
    expect(nagFindings(scenario(name).app)).toEqual([]);
  });

  it('matches the snapshot', () => {
    for (const [id, t] of scenario(name).templates) expect(snapshotOf(t)).toMatchSnapshot(id);
  });
});
