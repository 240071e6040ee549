// The constructs as a CDK user expects them: typed props beside the config's fields, tokens where a CDK user
// passes one, connections, environment-agnostic stacks (or our refusal), and one name per hub and account.
import { App, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { cdkJsonContext, EgressHub, EgressSpoke, EgressTenants, firstSynthContext, planEgress, type EgressHubConfig } from '../../src';
import { RECORDED_CONTEXT } from './readme-app';
import { TWO_TENANTS } from '../fixtures/two-tenants';

const env = { account: TWO_TENANTS.account, region: TWO_TENANTS.region };
const PINNED: EgressHubConfig = { ...TWO_TENANTS, hub: { ...TWO_TENANTS.hub, proxy: { image: 'ami-0123456789abcdef0' } } };
const freshApp = () => new App({ context: { ...cdkJsonContext(), ...RECORDED_CONTEXT } });
const json = (stack: Stack) => JSON.stringify(Template.fromStack(stack).toJSON());

describe('the constructs as CDK citizens', () => {
  it('refuse an environment-agnostic hub that would look its image up, in our words', () => {
    const app = new App();
    expect(() => new EgressHub(new Stack(app, 'Agnostic'), 'Hub', { config: TWO_TENANTS })).toThrow(
      "Agnostic/Hub: stack Agnostic is environment-agnostic (no account or region), so the proxies' image cannot be looked up and recorded; give the stack env { account: '111111111111', region: 'ap-northeast-1' }, or pin the image (hub.proxy.image: 'ami-…', or machineImage)",
    );
  });

  it("build an environment-agnostic hub with a pinned image (keyed on the plan's Region) and a token topic, read weakly", () => {
    const app = new App();
    const topic = new sns.Topic(new Stack(app, 'Alarms'), 'Topic');
    const config = { ...PINNED, hub: { ...PINNED.hub, alarms: { topicArn: topic.topicArn } } };
    const hubStack = new Stack(app, 'Hub');
    const hub = new EgressHub(hubStack, 'Hub', { config });
    new EgressTenants(new Stack(app, 'Tenants'), 'Tenants', { hub });
    const hubTemplate = Template.fromStack(hubStack).toJSON() as { Mappings: Record<string, Record<string, { ami: string }>> };
    const maps = Object.values(hubTemplate.Mappings);
    expect(maps.length).toBe(2);
    expect(maps.every((m) => Object.keys(m).join() === 'ap-northeast-1' && m['ap-northeast-1']!.ami === 'ami-0123456789abcdef0')).toBe(
      true,
    );
    const text = json(hubStack);
    expect(text).not.toContain('Fn::ImportValue');
    // Every alarm notifies the topic of the Alarms stack, read from that stack's output.
    expect(text).toMatch(/"AlarmActions":\["?\{"Fn::GetStackOutput":\{"StackName":"Alarms"/);
  });

  it('take typed props: an InstanceType (planned as the config field), an IMachineImage, an ITopic', () => {
    const app = freshApp();
    const topic = new sns.Topic(new Stack(app, 'Alarms', { env }), 'Topic');
    const stack = new Stack(app, 'Hub', { env });
    const hub = new EgressHub(stack, 'Hub', {
      config: TWO_TENANTS,
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.C7G, ec2.InstanceSize.LARGE),
      machineImage: ec2.MachineImage.genericLinux({ 'ap-northeast-1': 'ami-0fedcba9876543210' }),
      alarmTopic: topic,
    });
    expect(hub.plan.hub.proxy.instanceType).toBe('c7g.large');
    const template = Template.fromStack(stack);
    const launchTemplates = Object.values(template.findResources('AWS::EC2::LaunchTemplate')) as {
      Properties: { LaunchTemplateData: { ImageId: string; InstanceType: string } };
    }[];
    expect(launchTemplates.map((t) => [t.Properties.LaunchTemplateData.ImageId, t.Properties.LaunchTemplateData.InstanceType])).toEqual([
      ['ami-0fedcba9876543210', 'c7g.large'],
      ['ami-0fedcba9876543210', 'c7g.large'],
    ]);
    expect(json(stack)).toContain('"Fn::GetStackOutput":{"StackName":"Alarms"');
    expect(
      () => new EgressHub(new Stack(app, 'Other', { env }), 'Hub', { plan: hub.plan, instanceType: new ec2.InstanceType('m7g.large') }),
    ).toThrow(
      "Other/Hub: EgressHub: instanceType m7g.large is not the plan's (c7g.large); give it in the config the plan is made from (hub.proxy.instanceType)",
    );
  });

  it('offer connections: the proxies reach what the app admits, clients reach the spoke by security group', () => {
    const app = freshApp();
    const hub = new EgressHub(new Stack(app, 'Hub', { env }), 'Hub', { config: TWO_TENANTS });
    const tenants = new EgressTenants(new Stack(app, 'Tenants', { env }), 'Tenants', { hub });
    const spokeStack = new Stack(app, 'Spoke', { env });
    const spoke = new EgressSpoke(spokeStack, 'Spoke', {
      tenant: 'project-a',
      port: 8001,
      resourceConfigurationArn: tenants.endpoint('project-a').resourceConfigurationArn,
      vpcId: 'vpc-0a0a0a0a0a0a0a0a0',
      vpcCidr: '10.0.0.0/16',
      subnetIds: ['subnet-0a0a0a0a0a0a0a0a1', 'subnet-0a0a0a0a0a0a0a0a2'],
    });
    const vpc = ec2.Vpc.fromVpcAttributes(spokeStack, 'Vpc', { vpcId: 'vpc-0a0a0a0a0a0a0a0a0', availabilityZones: ['ap-northeast-1a'] });
    const clients = new ec2.SecurityGroup(spokeStack, 'Clients', { vpc });
    spoke.connections.allowDefaultPortFrom(clients);
    Template.fromStack(spokeStack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 8001,
      ToPort: 8001,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SpokeSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Clients'), 'GroupId'] },
    });
    expect(hub.connections.securityGroups.length).toBe(hub.fleets.length);
  });

  it('name, in firstSynthContext, exactly the lookups a first synth misses, and need none once given it', () => {
    const build = (app: App) => {
      new EgressHub(new Stack(app, 'Hub', { env }), 'Hub', { config: TWO_TENANTS });
      return app.synth();
    };
    const missing = (build(new App()).manifest.missing ?? []).map((m) => m.key).sort();
    expect(missing).toEqual(Object.keys(firstSynthContext(planEgress(TWO_TENANTS))).sort());
    expect(
      build(new App({ context: firstSynthContext(planEgress(TWO_TENANTS), 'ami-0123456789abcdef0') })).manifest.missing,
    ).toBeUndefined();
  });

  it('keep strong references in an app that sets them explicitly, and the old exports beside weak ones in an app that sets nothing', () => {
    const synth = (context: Record<string, unknown>) => {
      const app = new App({ context: { ...RECORDED_CONTEXT, ...context } });
      const hubStack = new Stack(app, 'Hub', { env });
      const tenantsStack = new Stack(app, 'Tenants', { env });
      new EgressTenants(tenantsStack, 'Tenants', { hub: new EgressHub(hubStack, 'Hub', { config: TWO_TENANTS }) });
      app.synth();
      const outputs = Template.fromStack(hubStack).toJSON() as { Outputs: Record<string, { Export?: unknown }> };
      return { exports: Object.values(outputs.Outputs).filter((o) => o.Export).length, tenants: json(tenantsStack) };
    };
    const strong = synth({ '@aws-cdk/core:defaultCrossStackReferences': 'strong' });
    expect(strong.tenants).toContain('Fn::ImportValue');
    expect(strong.tenants).not.toContain('Fn::GetStackOutput');
    const unset = synth({});
    expect(unset.tenants).not.toContain('Fn::ImportValue');
    expect(unset.exports).toBe(1); // the gateway ID's export, kept for a consumer deployed by an earlier release
    const weak = synth({ '@aws-cdk/core:defaultCrossStackReferences': 'weak' });
    expect(weak.tenants).not.toContain('Fn::ImportValue');
    expect(weak.exports).toBe(0);
  });

  it('refuse two hubs of one config name in one account and region (two Stages of one config)', () => {
    const app = freshApp();
    const stage = (id: string) => new EgressHub(new Stack(new Stage(app, id), 'Hub', { env }), 'Hub', { config: TWO_TENANTS });
    stage('Dev');
    expect(() => stage('Prod')).toThrow(
      'Prod/Hub/Hub: another hub of this app, Dev/Hub/Hub, has the same name "egress" in account 111111111111 and region ap-northeast-1; their resource gateways, log groups and parameters would collide at deploy: give each its own config name (e.g. "egress-dev" and "egress-prod")',
    );
    new EgressHub(new Stack(new Stage(app, 'Prod2'), 'Hub', { env }), 'Hub', { config: { ...TWO_TENANTS, name: 'egress-prod' } });
  });
});
