// ProjectIpamPool: the IPAM pool new project VPCs draw from, with existing blocks reserved.
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ProjectIpamPool, type ProjectIpamPoolProps } from '../../src/cidr/ipam';
import { validateTemplate } from '../support/cfn-registry';
import { nagFindings } from '../support/nag';
import { FAKE_ENV, testStack } from '../support/stack';

function synth(props: ProjectIpamPoolProps) {
  const stack = testStack();
  const pool = new ProjectIpamPool(stack, 'Pool', props);
  return { stack, pool, template: Template.fromStack(stack) };
}

describe('ProjectIpamPool', () => {
  it('creates an Advanced Tier IPAM in the stack region and a pool of /20s with the used blocks reserved', () => {
    const { template, stack } = synth({ cidr: '10.64.0.0/12', reserved: ['10.64.0.0/16', '10.66.0.0/20'] });
    template.hasResourceProperties('AWS::EC2::IPAM', { Tier: 'advanced', OperatingRegions: [{ RegionName: FAKE_ENV.region }] });
    template.hasResourceProperties('AWS::EC2::IPAMPool', {
      AddressFamily: 'ipv4',
      Locale: FAKE_ENV.region,
      IpamScopeId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PoolIpam'), 'PrivateDefaultScopeId'] },
      ProvisionedCidrs: [{ Cidr: '10.64.0.0/12' }],
      AllocationDefaultNetmaskLength: 20,
      AllocationMinNetmaskLength: 20,
      AllocationMaxNetmaskLength: 20,
      AutoImport: false,
    });
    template.resourceCountIs('AWS::EC2::IPAMAllocation', 2);
    template.hasResourceProperties('AWS::EC2::IPAMAllocation', {
      Cidr: '10.66.0.0/20',
      IpamPoolId: { 'Fn::GetAtt': [Match.anyValue(), 'IpamPoolId'] },
    });
    template.resourceCountIs('AWS::RAM::ResourceShare', 0);
    expect(validateTemplate(template.toJSON())).toEqual([]);
    expect(nagFindings(stack)).toEqual([]);
  });

  it('uses an existing scope, shares the pool and lets a VPC draw its block from it', () => {
    const stack = testStack();
    const pool = new ProjectIpamPool(stack, 'Pool', {
      cidr: '10.64.0.0/12',
      ipamScopeId: 'ipam-scope-0123456789abcdef0',
      netmaskLength: 20,
      allowedNetmaskLengths: { min: 18, max: 24 },
      shareWith: ['arn:aws:organizations::111111111111:organization/o-abcdefghij'],
    });
    new ec2.Vpc(stack, 'Project', { ipAddresses: pool.ipAddresses(), maxAzs: 2, natGateways: 0 });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EC2::IPAM', 0);
    t.hasResourceProperties('AWS::EC2::IPAMPool', { IpamScopeId: 'ipam-scope-0123456789abcdef0', AllocationMinNetmaskLength: 18 });
    t.hasResourceProperties('AWS::RAM::ResourceShare', {
      ResourceArns: [{ 'Fn::GetAtt': [Match.anyValue(), 'Arn'] }],
      Principals: ['arn:aws:organizations::111111111111:organization/o-abcdefghij'],
      AllowExternalPrincipals: false,
    });
    t.hasResourceProperties('AWS::EC2::VPC', { Ipv4IpamPoolId: { 'Fn::GetAtt': [Match.anyValue(), 'IpamPoolId'] }, Ipv4NetmaskLength: 20 });
    // Subnets are cut from the allocated block at deploy time: /20 + 4 bits = /24, i.e. 8 host bits each.
    t.hasResourceProperties('AWS::EC2::Subnet', {
      CidrBlock: { 'Fn::Select': [0, { 'Fn::Cidr': [{ 'Fn::GetAtt': [Match.anyValue(), 'CidrBlock'] }, 16, '8'] }] },
    });
    expect(validateTemplate(t.toJSON())).toEqual([]);
  });

  it.each<[string, ProjectIpamPoolProps, RegExp]>([
    [
      'the pool has host bits set',
      { cidr: '10.64.1.0/12' },
      /IPAM pool: "10\.64\.1\.0\/12": its host bits are set \(the block containing it is 10\.64\.0\.0\/12\)/,
    ],
    ['the pool is IPv6', { cidr: '2600:1f18::/40' }, /IPAM pool: "2600:1f18::\/40" is IPv6; this pool hands out private IPv4 blocks/],
    [
      'a VPC size is larger than the pool',
      { cidr: '10.64.0.0/20', netmaskLength: 16 },
      /netmaskLength must be a VPC size between \/20 and \/28 \(got 16\)/,
    ],
    [
      'the default size lies outside the allowed range',
      { cidr: '10.64.0.0/12', netmaskLength: 24, allowedNetmaskLengths: { min: 16, max: 20 } },
      /netmaskLength \/24 lies outside allowedNetmaskLengths \/16–\/20/,
    ],
    [
      'a reserved block is outside the pool',
      { cidr: '10.64.0.0/12', reserved: ['10.0.0.0/16'] },
      /reserved block 10\.0\.0\.0\/16 is not inside the pool; list only blocks in use inside the pool/,
    ],
  ])('fails when %s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
