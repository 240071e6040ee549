// ProxyFleet and ProxyPolicy synthesized on their own (a VPC, the hub's policy, the fleets a plan asks for), for
// every fleet mode: what a policy change touches (the association, never the instances), how the rollout targets
// and paces, the fixed and scaling kinds, public egress, the health metric's IAM, cdk-nag and the registry.
import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import type { EgressPlan } from '../../src/config';
import { ProxyPolicy } from '../../src/hub/policy-rollout';
import { FixedProxy, ScalingProxyFleet, type ProxyFleet } from '../../src/hub/proxy-fleet';
import { buildApp } from '../../src/app';
import { validateTemplate } from '../support/cfn-registry';
import { nagFindings } from '../support/nag';
import { exampleConfig, FAKE_ENV, planOf, testApp } from '../support/stack';

type Config = Record<string, unknown> & {
  hub: Record<string, unknown> & { proxy: Record<string, unknown> };
  tenants: Record<string, unknown>[];
};

function config(edit: (c: Config) => void = () => {}): EgressPlan {
  const c = exampleConfig() as Config;
  edit(c);
  return planOf(c);
}

/** The fleets EgressHub builds for the plan's mode, in a stack of their own. */
function synth(plan: EgressPlan) {
  const app = testApp({ [`availability-zones:account=${FAKE_ENV.account}:region=${FAKE_ENV.region}`]: [...plan.hub.availabilityZones] });
  const stack = new Stack(app, 'Hub', { env: FAKE_ENV });
  const publicEgress = plan.hub.egress === 'public';
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: [...plan.hub.availabilityZones],
    natGateways: plan.hub.natGateways,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'private', subnetType: publicEgress ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS },
    ],
    restrictDefaultSecurityGroup: false,
  });
  Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: "test scaffolding: EgressHub's own VPC has flow logs" });
  const policy = ProxyPolicy.fromPlan(stack, 'Policy', plan);
  const common = {
    vpc,
    instanceType: plan.hub.proxy.instanceType,
    architecture: plan.hub.proxy.architecture,
    egressPorts: [80, 443],
    policy,
  };
  const fleets: ProxyFleet[] = plan.hub.proxy.fixed.map(
    (f) =>
      new FixedProxy(stack, f.id, {
        ...common,
        subnets: [(publicEgress ? vpc.publicSubnets : vpc.privateSubnets)[f.azIndex]!],
        publicEgress,
        health: plan.hub.proxy.mode === 'multi-az' ? { id: f.id, settings: plan.hub.proxyHealth } : undefined,
      }),
  );
  if (plan.hub.proxy.mode === 'nlb') {
    const { min, max } = plan.hub.proxy.scaling;
    const fleet = new ScalingProxyFleet(stack, 'Proxies', { ...common, subnets: vpc.privateSubnets, capacity: { min, max } });
    fleet.allowNlbDrain(['arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/p3201/0123456789abcdef']);
    fleets.push(fleet);
  }
  return { app, stack, policy, fleets, template: Template.fromStack(stack) };
}

const resourcesOf = (t: Template, type: string) => Object.values(t.findResources(type)) as { Properties: Record<string, unknown> }[];

const multiAz = synth(config());
const single = synth(config((c) => (c.hub.proxy.mode = 'single')));
const nlb = synth(config((c) => (c.hub.proxy.mode = 'nlb')));
const publicEgress = synth(config((c) => ((c.hub.proxy.mode = 'single'), (c.hub.egress = 'public'), delete c.hub.natGateways)));

describe('a policy change reaches proxies through the rollout, never through their launch template', () => {
  const changed = synth(
    config((c) => {
      (c.tenants[0]!.allow as string[]).push('example.org');
      c.tenants.push({ name: 'project-c', port: 3203, allow: ['example.org'] });
    }),
  );

  it.each([
    ['multi-az', multiAz, changed],
    ['single', single, synth(config((c) => ((c.hub.proxy.mode = 'single'), (c.tenants[1]!.allow = ['example.net']))))],
    ['nlb', nlb, synth(config((c) => ((c.hub.proxy.mode = 'nlb'), c.tenants.push({ name: 'project-c', port: 3203, allow: '*' }))))],
  ])('%s: user data and Auto Scaling groups are byte-identical; the association parameter is not', (_mode, before, after) => {
    const userData = (s: typeof before) =>
      resourcesOf(s.template, 'AWS::EC2::LaunchTemplate').map((r) =>
        JSON.stringify((r.Properties.LaunchTemplateData as { UserData: unknown }).UserData),
      );
    expect(userData(before).length).toBeGreaterThan(0);
    expect(userData(after)).toEqual(userData(before));
    expect(resourcesOf(after.template, 'AWS::AutoScaling::AutoScalingGroup')).toEqual(
      resourcesOf(before.template, 'AWS::AutoScaling::AutoScalingGroup'),
    );
    expect(JSON.stringify(after.template.findResources('AWS::EC2::LaunchTemplate'))).toBe(
      JSON.stringify(before.template.findResources('AWS::EC2::LaunchTemplate')),
    );
    const params = (s: typeof before) => JSON.stringify(resourcesOf(s.template, 'AWS::SSM::Association')[0]!.Properties.Parameters);
    expect(params(after)).not.toBe(params(before));
    expect(JSON.stringify(resourcesOf(after.template, 'AWS::SSM::Parameter'))).not.toBe(
      JSON.stringify(resourcesOf(before.template, 'AWS::SSM::Parameter')),
    );
  });

  it('rolls out one proxy at a time and stops at the first failure, to every proxy of the hub by tag', () => {
    const { policy, template } = multiAz;
    template.hasResourceProperties('AWS::SSM::Association', {
      Name: { Ref: Match.stringLikeRegexp('^PolicyApplyDocument') },
      AssociationName: 'egresshub-proxy-policy',
      MaxConcurrency: '1',
      MaxErrors: '0',
      ScheduleExpression: 'rate(30 minutes)',
      Targets: [{ Key: 'tag:egresshub:policy', Values: [policy.node.path] }],
      Parameters: { policyObject: [Match.stringLikeRegexp('^s3://cdk-hnb659fds-assets-123456789012-ap-northeast-1/[0-9a-f]{64}\\.conf$')] },
    });
    for (const group of resourcesOf(template, 'AWS::AutoScaling::AutoScalingGroup')) {
      expect(group.Properties.Tags).toContainEqual({ Key: 'egresshub:policy', Value: policy.node.path, PropagateAtLaunch: true });
    }
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/egresshub/egresshub/proxy-policy', Type: 'String' });
  });

  it('runs the apply script under bash, takes only an s3:// URI, and drains as the fleet mode allows', () => {
    const documentOf = (t: Template) =>
      resourcesOf(t, 'AWS::SSM::Document')[0]!.Properties as {
        DocumentType: string;
        Content: {
          parameters: { policyObject: { allowedPattern: string } };
          mainSteps: { action: string; inputs: { runCommand: string[] } }[];
        };
      };
    const doc = documentOf(multiAz.template);
    expect(doc.DocumentType).toBe('Command');
    const pattern = new RegExp(doc.Content.parameters.policyObject.allowedPattern);
    expect(pattern.test('s3://cdk-hnb659fds-assets-123456789012-ap-northeast-1/0123abcd.conf')).toBe(true);
    for (const bad of ["s3://b/k'; reboot #", 's3://b/$(id)', 'https://example.com/x.conf', 's3://b/k\nx'])
      expect(pattern.test(bad)).toBe(false);
    expect(doc.Content.mainSteps[0]!.action).toBe('aws:runShellScript');
    const command = (t: Template) => documentOf(t).Content.mainSteps[0]!.inputs.runCommand.join('\n');
    expect(command(multiAz.template)).toMatch(/^\/bin\/bash -c "\$\(cat <<'EGRESSHUB_APPLY'\nPOLICY_OBJECT='\{\{ policyObject \}\}'\n/);
    expect(command(multiAz.template)).toContain("FAILOVER_NAME='proxy.egresshub-hub.egresshub.internal'");
    expect(command(multiAz.template)).toContain("MAX_DRAIN_SECONDS='180'");
    expect(command(single.template)).toContain('no drain (single proxy)');
    expect(command(nlb.template)).toContain('aws elbv2 deregister-targets');
  });

  it('lets the proxies read exactly the policy object and its parameter', () => {
    const statements = resourcesOf(single.template, 'AWS::IAM::Policy').flatMap(
      (p) => (p.Properties.PolicyDocument as { Statement: { Sid?: string; Action: unknown; Resource: unknown }[] }).Statement,
    );
    const read = statements.find((s) => s.Sid === 'ReadProxyPolicy')!;
    expect(read.Action).toBe('s3:GetObject');
    expect(JSON.stringify(read.Resource)).toMatch(/cdk-hnb659fds-assets-.*\/[0-9a-f]{64}\.conf/);
    expect(statements.find((s) => JSON.stringify(s.Action).includes('ssm:GetParameter'))!.Resource).toEqual(
      expect.objectContaining({ 'Fn::Join': expect.anything() }),
    );
  });

  it('orders the association after the parameter, so a proxy booting during the update reads the new value', () => {
    const association = Object.values(multiAz.template.findResources('AWS::SSM::Association'))[0] as { DependsOn: string[] };
    const [parameter] = Object.keys(multiAz.template.findResources('AWS::SSM::Parameter'));
    expect(parameter).toBeDefined();
    expect(association.DependsOn).toContain(parameter);
  });

  it('orders the association after the proxies’ role policies, so a rollout never outruns the read grant', () => {
    const association = Object.values(multiAz.template.findResources('AWS::SSM::Association'))[0] as { DependsOn: string[] };
    const rolePolicies = Object.keys(multiAz.template.findResources('AWS::IAM::Policy'));
    for (const p of rolePolicies) expect(association.DependsOn).toContain(p);
  });
});

describe('through the whole app (EgressHub wires ProxyPolicy and the fleets)', () => {
  const hubOf = (plan: EgressPlan) => {
    const app = buildApp(plan);
    return Template.fromStack(app.node.children.find((c): c is Stack => c instanceof Stack && c.node.id === 'Hub')!);
  };

  it.each([
    ['multi-az', (_c: Config) => {}],
    ['single', (c: Config) => (c.hub.proxy.mode = 'single')],
    ['nlb', (c: Config) => (c.hub.proxy.mode = 'nlb')],
    ['public egress', (c: Config) => ((c.hub.proxy.mode = 'single'), (c.hub.egress = 'public'), delete c.hub.natGateways)],
  ])('%s: an allowlist change and an added tenant leave every launch template and group as they were', (_mode, mode) => {
    const before = hubOf(config(mode));
    const after = hubOf(
      config((c) => {
        mode(c);
        (c.tenants[0]!.allow as string[]).push('example.org');
        c.tenants.push({ name: 'project-c', port: 3203, allow: ['example.org'] });
      }),
    );
    const launchTemplates = (t: Template) => JSON.stringify(t.findResources('AWS::EC2::LaunchTemplate'));
    // nlb: a new tenant is a new target group on the scaling group. TargetGroupARNs is not among the changes that
    // make CloudFormation replace instances (launch template, mixed instances policy, placement group, subnets):
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-updatepolicy.html
    const groups = (t: Template) =>
      JSON.stringify(
        Object.entries(t.findResources('AWS::AutoScaling::AutoScalingGroup')).map(([id, r]) => {
          const props = { ...(r as { Properties: Record<string, unknown> }).Properties };
          delete props.TargetGroupARNs;
          return [id, { ...(r as object), Properties: props }];
        }),
      );
    expect(launchTemplates(before)).toContain('UserData');
    expect(launchTemplates(after)).toBe(launchTemplates(before));
    expect(groups(after)).toBe(groups(before));
    const params = (t: Template) => JSON.stringify(resourcesOf(t, 'AWS::SSM::Association').map((a) => a.Properties.Parameters));
    expect(params(after)).not.toBe(params(before));
  });
});

describe('fleet kinds', () => {
  it('fixed: a group of exactly one, old instance out first, a fixed ENI as target', () => {
    single.template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '1', MaxSize: '1' });
    single.template.hasResource('AWS::AutoScaling::AutoScalingGroup', {
      UpdatePolicy: { AutoScalingRollingUpdate: { MaxBatchSize: 1, MinInstancesInService: 0, WaitOnResourceSignals: true } },
      CreationPolicy: { ResourceSignal: { Count: 1 } },
    });
    single.template.resourceCountIs('AWS::EC2::NetworkInterface', 1);
    const fleet = single.fleets[0]!;
    expect(fleet.securityGroup).not.toBe(fleet.instanceSecurityGroup);
    expect(fleet.cfnAutoScalingGroup).toBe(fleet.autoScalingGroup.node.defaultChild);
    if (!(fleet instanceof FixedProxy)) throw new Error('expected a fixed proxy');
    expect(fleet.targetIp).toEqual(fleet.networkInterface.attrPrimaryPrivateIpAddress);
    multiAz.template.resourceCountIs('AWS::EC2::NetworkInterface', 2);
  });

  it('scaling: min..max across AZs, min kept in service during a rolling update, Squid on the primary ENI', () => {
    const nlbPlan = config((c) => (c.hub.proxy.mode = 'nlb')).hub.proxy;
    if (nlbPlan.mode !== 'nlb') throw new Error('expected an nlb plan');
    const { min, max } = nlbPlan.scaling;
    nlb.template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: String(min),
      MaxSize: String(max),
    });
    nlb.template.hasResource('AWS::AutoScaling::AutoScalingGroup', {
      UpdatePolicy: { AutoScalingRollingUpdate: { MaxBatchSize: 1, MinInstancesInService: min, WaitOnResourceSignals: true } },
      CreationPolicy: { ResourceSignal: { Count: min } },
    });
    expect(resourcesOf(nlb.template, 'AWS::AutoScaling::AutoScalingGroup')[0]!.Properties.VPCZoneIdentifier).toHaveLength(2);
    nlb.template.resourceCountIs('AWS::EC2::NetworkInterface', 0);
    const fleet = nlb.fleets[0]!;
    expect(fleet.securityGroup).toBe(fleet.instanceSecurityGroup);
    // A scaling fleet has no fixed address to target (the compiler refuses fleet.targetIp): target its NLB.
    expect(fleet).toBeInstanceOf(ScalingProxyFleet);
    expect('targetIp' in fleet).toBe(false);
    nlb.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DrainFromTargetGroups',
            Action: ['elasticloadbalancing:DeregisterTargets', 'elasticloadbalancing:RegisterTargets'],
            Resource: 'arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/p3201/0123456789abcdef',
          }),
        ]),
      },
    });
  });

  it('public egress: an Elastic IP the instance (public IP at launch) associates to itself, only to fleet instances', () => {
    const { template, fleets } = publicEgress;
    template.resourceCountIs('AWS::EC2::EIP', 1);
    expect(fleets[0]!.elasticIp).toBeDefined();
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: { NetworkInterfaces: [Match.objectLike({ AssociatePublicIpAddress: true, DeviceIndex: 0 })] },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'AssociateFleetElasticIp', Action: 'ec2:AssociateAddress' }),
          Match.objectLike({
            Sid: 'AssociateToFleetInstances',
            Action: 'ec2:AssociateAddress',
            Condition: { StringEquals: { 'aws:ResourceTag/egresshub:fleet': 'Hub/ProxyA' } },
          }),
        ]),
      },
    });
    expect(JSON.stringify(template.findResources('AWS::EC2::LaunchTemplate'))).toContain('associate-address');
    expect(JSON.stringify(single.template.findResources('AWS::EC2::LaunchTemplate'))).not.toContain('AssociatePublicIpAddress');
  });

  it.each([
    ['single', single, ['Hub/ProxyA']],
    ['multi-az', multiAz, ['Hub/ProxyA', 'Hub/ProxyC']],
    ['nlb', nlb, ['Hub/Proxies']],
  ])('%s: a proxy may mark itself Unhealthy only in the group carrying its fleet tag (no reference to the group)', (_mode, s, fleets) => {
    const statements = resourcesOf(s.template, 'AWS::IAM::Policy').flatMap(
      (p) =>
        (p.Properties.PolicyDocument as { Statement: { Sid?: string; Action: unknown; Resource: unknown; Condition?: unknown }[] })
          .Statement,
    );
    const grants = statements.filter((x) => x.Sid === 'ReplaceFailedBoot');
    expect(grants.map((g) => g.Condition)).toEqual(fleets.map((f) => ({ StringEquals: { 'autoscaling:ResourceTag/egresshub:fleet': f } })));
    for (const g of grants) {
      expect(g.Action).toBe('autoscaling:SetInstanceHealth');
      expect(JSON.stringify(g.Resource)).toMatch(/:autoscaling:ap-northeast-1:123456789012:autoScalingGroup:\*:autoScalingGroupName\/\*"/);
      // Naming the group (Ref / GetAtt) would be a cycle: group → launch template → role → policy → group.
      expect(JSON.stringify(g.Resource)).not.toMatch(/"Ref"|Fn::GetAtt/);
    }
    // The tag the condition names is on the group itself.
    for (const group of resourcesOf(s.template, 'AWS::AutoScaling::AutoScalingGroup')) {
      expect(fleets.map((value) => ({ Key: 'egresshub:fleet', Value: value, PropagateAtLaunch: true }))).toContainEqual(
        (group.Properties.Tags as object[]).find((t) => (t as { Key: string }).Key === 'egresshub:fleet'),
      );
    }
  });

  it('multi-az: each fixed proxy may publish its health metric into the hub namespace only', () => {
    multiAz.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'PublishProxyHealth',
            Action: 'cloudwatch:PutMetricData',
            Resource: '*',
            Condition: { StringEquals: { 'cloudwatch:namespace': 'egresshub/egresshub' } },
          }),
        ]),
      },
    });
    const userData = JSON.stringify(multiAz.template.findResources('AWS::EC2::LaunchTemplate'));
    expect(userData).toContain("HEALTH_DIMENSION='Proxy=ProxyA'");
    expect(userData).toContain("HEALTH_DIMENSION='Proxy=ProxyC'");
    expect(JSON.stringify(single.template.findResources('AWS::IAM::Policy'))).not.toContain('PutMetricData');
  });

  it.each([
    ['multi-az', multiAz],
    ['single', single],
    ['nlb', nlb],
    ['public egress', publicEgress],
  ])('%s: no unacknowledged cdk-nag finding, and every resource matches the CloudFormation registry', (_name, s) => {
    expect(nagFindings(s.app)).toEqual([]);
    expect(validateTemplate(s.template.toJSON())).toEqual([]);
  });
});

describe('ProxyFleet validation', () => {
  const plan = config();
  // Untyped props, as a JavaScript caller may give them: the checks hold at run time too.
  const make = (props: Record<string, unknown>) => {
    const app = testApp();
    const stack = new Stack(app, 'S', { env: FAKE_ENV });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, restrictDefaultSecurityGroup: false });
    const policy = ProxyPolicy.fromPlan(stack, 'Policy', plan);
    return () =>
      new ScalingProxyFleet(stack, 'F', {
        vpc,
        subnets: vpc.privateSubnets,
        instanceType: 't4g.small',
        architecture: 'arm64',
        egressPorts: [443],
        policy,
        ...(props as { capacity: { min: number; max: number } }),
      });
  };

  it('fails when a fixed fleet gets more than one subnet', () => {
    const app = testApp();
    const stack = new Stack(app, 'S', { env: FAKE_ENV });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, restrictDefaultSecurityGroup: false });
    expect(
      () =>
        new FixedProxy(stack, 'F', {
          vpc,
          subnets: vpc.privateSubnets,
          instanceType: 't4g.small',
          architecture: 'arm64',
          egressPorts: [443],
          policy: ProxyPolicy.fromPlan(stack, 'Policy', plan),
        }),
    ).toThrow('a fixed proxy fleet needs exactly one subnet, the one its ENI lives in (got 2)');
  });

  it('fails when a scaling fleet has no capacity, or min > max', () => {
    expect(make({})).toThrow('a scaling proxy fleet needs capacity { min, max }');
    expect(make({ capacity: { min: 3, max: 2 } })).toThrow('capacity needs whole numbers with 1 <= min <= max (got min 3, max 2)');
  });

  it('fails when public egress, or a health metric without the NLB health port, is asked of a scaling fleet', () => {
    expect(make({ capacity: { min: 2, max: 4 }, publicEgress: true })).toThrow(
      'publicEgress applies to fixed fleets only (one Elastic IP per instance)',
    );
    expect(make({ capacity: { min: 2, max: 4 }, health: { id: 'X', settings: plan.hub.proxyHealth } })).toThrow(
      /^a scaling fleet publishes no health metric \(the NLB health-checks it\): give health.nlbHealthPort$/,
    );
  });

  it('keeps one instance below max in service when a scaling group has min = max (CloudFormation needs it below MaxSize)', () => {
    const fleet = make({ capacity: { min: 2, max: 2 } })();
    const t = Template.fromStack(Stack.of(fleet));
    t.hasResource('AWS::AutoScaling::AutoScalingGroup', { UpdatePolicy: { AutoScalingRollingUpdate: { MinInstancesInService: 1 } } });
  });
});
