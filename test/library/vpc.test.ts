// EgressHub in a VPC the app brings (`vpc`): no VPC or NAT of its own, its proxies and gateway in the VPC's
// subnets of the config's AZs, and a refusal in our words (with the construct's path) for a VPC that lacks them.
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { cdkJsonContext, EgressHub, EgressTenants, type EgressHubConfig } from '../../src';
import { RECORDED_CONTEXT } from './readme-app';
import { TWO_TENANTS } from '../fixtures/two-tenants';

const env = { account: TWO_TENANTS.account, region: TWO_TENANTS.region };
const freshApp = () => new App({ context: { ...cdkJsonContext(), ...RECORDED_CONTEXT } });
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const resources = (stack: Stack) => (Template.fromStack(stack).toJSON() as { Resources: Resources }).Resources;
const ofType = (r: Resources, type: string) => Object.entries(r).filter(([, v]) => v.Type === type);

/** An app's own network: the config's CIDR and AZs, public and private-with-egress subnets, one NAT gateway. */
function networkVpc(stack: Stack, cidr = TWO_TENANTS.hub.cidr, azs: string[] = TWO_TENANTS.hub.availabilityZones) {
  return new ec2.Vpc(stack, 'Network', { ipAddresses: ec2.IpAddresses.cidr(cidr), availabilityZones: azs, natGateways: 1 });
}

/** A VPC imported by attributes, with only the subnets given. */
function imported(
  stack: Stack,
  subnets: { privateSubnetIds?: string[]; publicSubnetIds?: string[] },
  azs = TWO_TENANTS.hub.availabilityZones,
) {
  return ec2.Vpc.fromVpcAttributes(stack, 'Imported', {
    vpcId: 'vpc-0b0b0b0b0b0b0b0b0',
    vpcCidrBlock: TWO_TENANTS.hub.cidr,
    availabilityZones: azs,
    ...subnets,
    // Route tables given, as a real import has them (CDK warns without).
    ...(subnets.privateSubnetIds ? { privateSubnetRouteTableIds: subnets.privateSubnetIds.map((_, i) => `rtb-0b0b0b0b0b0b0b0b${i}`) } : {}),
    ...(subnets.publicSubnetIds ? { publicSubnetRouteTableIds: subnets.publicSubnetIds.map((_, i) => `rtb-0c0c0c0c0c0c0c0c${i}`) } : {}),
  });
}

describe('EgressHub in a VPC of the app', () => {
  it('creates no VPC or NAT gateway of its own and runs in the VPC’s private subnets, one per AZ of the config', () => {
    const app = freshApp();
    const stack = new Stack(app, 'Hub', { env });
    const vpc = networkVpc(stack);
    const hub = new EgressHub(stack, 'Hub', { config: TWO_TENANTS, vpc });
    new EgressTenants(new Stack(app, 'Tenants', { env }), 'Tenants', { hub });
    expect(hub.vpc).toBe(vpc);
    const r = resources(stack);
    // Only the app's VPC and its one NAT gateway: nothing under the hub's own Vpc construct.
    expect(ofType(r, 'AWS::EC2::VPC').map(([id]) => id)).toEqual([stack.getLogicalId(vpc.node.defaultChild as ec2.CfnVPC)]);
    expect(ofType(r, 'AWS::EC2::NatGateway')).toHaveLength(1);
    expect(ofType(r, 'AWS::EC2::Subnet')).toHaveLength(4);
    const privateIds = vpc.privateSubnets.map((s) => stack.resolve(s.subnetId) as unknown);
    const gateway = ofType(r, 'AWS::VpcLattice::ResourceGateway')[0]![1];
    expect(gateway.Properties.SubnetIds).toEqual(privateIds);
    expect(gateway.Properties.VpcIdentifier).toEqual(stack.resolve(vpc.vpcId));
    // The fixed proxies (multi-az: one per AZ) claim their listener ENIs in the private subnets, in the config's AZ order.
    const enis = ofType(r, 'AWS::EC2::NetworkInterface').map(([, v]) => v.Properties.SubnetId);
    expect(enis).toEqual(privateIds);
    // The hub's flow log is on the app's VPC.
    expect(ofType(r, 'AWS::EC2::FlowLog').map(([, v]) => v.Properties.ResourceId)).toContainEqual(stack.resolve(vpc.vpcId));
  });

  it('takes a VPC of another stack of the app: its flow log is the hub’s, so the two stacks do not depend on each other both ways', () => {
    const app = freshApp();
    const network = new Stack(app, 'Network', { env });
    const vpc = networkVpc(network);
    const stack = new Stack(app, 'Hub', { env });
    new EgressHub(stack, 'Hub', { config: TWO_TENANTS, vpc });
    const assembly = app.synth();
    expect(stack.dependencies.map((d) => d.stackName)).toEqual(['Network']);
    expect(network.dependencies).toEqual([]);
    expect(ofType(resources(stack), 'AWS::EC2::FlowLog')).toHaveLength(1);
    expect(Object.keys(assembly.getStackByName('Network').template.Resources as object).filter((id) => id.includes('FlowLog'))).toEqual([]);
  });

  it('takes an imported VPC (by attributes) with private subnets in the config’s AZs', () => {
    const app = freshApp();
    const stack = new Stack(app, 'Hub', { env });
    const vpc = imported(stack, { privateSubnetIds: ['subnet-0b0b0b0b0b0b0b0b1', 'subnet-0b0b0b0b0b0b0b0b2'] });
    new EgressHub(stack, 'Hub', { config: TWO_TENANTS, vpc });
    const r = resources(stack);
    expect(ofType(r, 'AWS::EC2::VPC')).toEqual([]);
    expect(ofType(r, 'AWS::EC2::NatGateway')).toEqual([]);
    expect(ofType(r, 'AWS::VpcLattice::ResourceGateway')[0]![1].Properties).toMatchObject({
      VpcIdentifier: 'vpc-0b0b0b0b0b0b0b0b0',
      SubnetIds: ['subnet-0b0b0b0b0b0b0b0b1', 'subnet-0b0b0b0b0b0b0b0b2'],
    });
  });

  it('refuses a VPC without private subnets with egress, naming the construct, the VPC and the fix', () => {
    const stack = new Stack(freshApp(), 'Hub', { env });
    const vpc = imported(stack, { publicSubnetIds: ['subnet-0b0b0b0b0b0b0b0b1', 'subnet-0b0b0b0b0b0b0b0b2'] });
    expect(() => new EgressHub(stack, 'Hub', { config: TWO_TENANTS, vpc })).toThrow(
      'Hub/Hub: EgressHub: vpc vpc-0b0b0b0b0b0b0b0b0 has no private subnet with egress (a route to a NAT gateway) in ap-northeast-1a, ap-northeast-1c, ' +
        "of the config's hub.availabilityZones (ap-northeast-1a, ap-northeast-1c); it has none at all: add one per AZ, or leave vpc out and let the hub create its VPC",
    );
  });

  it('refuses a VPC whose AZs are not the config’s, and says which AZs it has', () => {
    const stack = new Stack(freshApp(), 'Hub', { env });
    const vpc = imported(stack, { privateSubnetIds: ['subnet-0b0b0b0b0b0b0b0b1', 'subnet-0b0b0b0b0b0b0b0b2'] }, [
      'ap-northeast-1a',
      'ap-northeast-1d',
    ]);
    expect(() => new EgressHub(stack, 'Hub', { config: TWO_TENANTS, vpc })).toThrow(
      /^Hub\/Hub: EgressHub: vpc vpc-0b0b0b0b0b0b0b0b0 has no private subnet with egress .* in ap-northeast-1c, of the config's hub\.availabilityZones \(ap-northeast-1a, ap-northeast-1c\); it has one in ap-northeast-1a, ap-northeast-1d: set hub\.availabilityZones to those, or add the subnets$/,
    );
  });

  it('refuses a VPC whose CIDR is not hub.cidr (the range the proxies deny to tenants)', () => {
    const stack = new Stack(freshApp(), 'Hub', { env });
    const vpc = networkVpc(stack, '10.200.0.0/16');
    expect(() => new EgressHub(stack, 'Hub', { config: TWO_TENANTS, vpc })).toThrow(
      "Hub/Hub: EgressHub: vpc Hub/Network has the CIDR 10.200.0.0/16, but the config's hub.cidr is 10.100.0.0/16: set hub.cidr to 10.200.0.0/16",
    );
  });

  it('with egress: public, wants public subnets for the proxies and puts the gateway in the private ones', () => {
    const config: EgressHubConfig = { ...TWO_TENANTS, hub: { ...TWO_TENANTS.hub, egress: 'public' } };
    const refused = new Stack(freshApp(), 'Hub', { env });
    const privateOnly = imported(refused, { privateSubnetIds: ['subnet-0b0b0b0b0b0b0b0b1', 'subnet-0b0b0b0b0b0b0b0b2'] });
    expect(() => new EgressHub(refused, 'Hub', { config, vpc: privateOnly })).toThrow(
      /has no public subnet \(egress: public runs the proxies there\) in ap-northeast-1a, ap-northeast-1c/,
    );
    const stack = new Stack(freshApp(), 'Hub', { env });
    const vpc = new ec2.Vpc(stack, 'Network', {
      ipAddresses: ec2.IpAddresses.cidr(TWO_TENANTS.hub.cidr),
      availabilityZones: TWO_TENANTS.hub.availabilityZones,
      natGateways: 0,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    new EgressHub(stack, 'Hub', { config, vpc });
    const r = resources(stack);
    expect(ofType(r, 'AWS::VpcLattice::ResourceGateway')[0]![1].Properties.SubnetIds).toEqual(
      vpc.isolatedSubnets.map((s) => stack.resolve(s.subnetId) as unknown),
    );
    expect(ofType(r, 'AWS::EC2::NetworkInterface').map(([, v]) => v.Properties.SubnetId)).toEqual(
      vpc.publicSubnets.map((s) => stack.resolve(s.subnetId) as unknown),
    );
  });

  it('without vpc, creates its own VPC as before', () => {
    const stack = new Stack(freshApp(), 'Hub', { env });
    const hub = new EgressHub(stack, 'Hub', { config: TWO_TENANTS });
    expect(hub.vpc).toBeInstanceOf(ec2.Vpc);
    expect(hub.vpc.node.path).toBe('Hub/Hub/Vpc');
    expect(ofType(resources(stack), 'AWS::EC2::VPC')).toHaveLength(1);
  });
});
