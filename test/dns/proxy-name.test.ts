// One stable proxy name per tenant: custom domain names on the hub's resource configurations,
// the public-domain verification with its TXT record and waiter, and spoke endpoints whose private DNS
// serves exactly the tenant's name.
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { spokeTemplate } from '../../src/spoke';
import { validateTemplate } from '../support/cfn-registry';
import { nagFindings } from '../support/nag';
import { exampleConfig, exampleConfigWithoutDns, planOf, synthOnce } from '../support/stack';

const tenants = (s: { templates: ReadonlyMap<string, Template> }) => s.templates.get('Tenants-3200')!;
const privateDns = () => planOf({ ...exampleConfig(), dns: { domain: 'egress.internal' } });
const publicDns = () =>
  planOf({ ...exampleConfig(), dns: { domain: 'egress.example.com', verify: { publicHostedZoneId: 'Z0123456789ABCDEFGHIJ' } } });

describe('stable proxy names with a private (unverified) domain', () => {
  const s = synthOnce('dns-private', privateDns);

  it("gives each tenant's resource configuration its own custom domain name", () => {
    tenants(s).hasResourceProperties('AWS::VpcLattice::ResourceConfiguration', {
      Name: Match.stringLikeRegexp('^egresshub-project-a-[0-9a-f]{8}$'),
      CustomDomainName: 'project-a.egress.internal',
      DomainVerificationId: Match.absent(),
    });
    tenants(s).hasResourceProperties('AWS::VpcLattice::ResourceConfiguration', {
      Name: Match.stringLikeRegexp('^egresshub-project-b-[0-9a-f]{8}$'),
      CustomDomainName: 'project-b.egress.internal',
    });
    s.hub.resourceCountIs('AWS::VpcLattice::DomainVerification', 0);
  });

  it("enables private DNS on the spoke endpoint for exactly the tenant's name", () => {
    const spoke = s.templates.get('Spoke-project-a-vpc-0a1b2c3d4e5f60718')!;
    spoke.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Resource',
      PrivateDnsEnabled: true,
      DnsOptions: { PrivateDnsPreference: 'SPECIFIED_DOMAINS_ONLY', PrivateDnsSpecifiedDomains: ['project-a.egress.internal'] },
    });
  });

  it('stores the same proxy URL in SSM without a deploy-time lookup', () => {
    const spoke = s.templates.get('Spoke-project-b-vpc-0b1c2d3e4f5a60719')!;
    spoke.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/egresshub/project-b/vpc-0b1c2d3e4f5a60719/proxy-url',
      Value: 'http://project-b.egress.internal:3202',
    });
    spoke.resourceCountIs('Custom::AWS', 0);
    spoke.resourceCountIs('AWS::Lambda::Function', 0);
  });

  it('puts the same DNS options in the standalone spoke template', () => {
    const t = spokeTemplate(privateDns(), 'project-a') as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const endpoint = Object.values(t.Resources).find((r) => r.Type === 'AWS::EC2::VPCEndpoint')!;
    expect(endpoint.Properties).toMatchObject({
      PrivateDnsEnabled: true,
      DnsOptions: { PrivateDnsPreference: 'SPECIFIED_DOMAINS_ONLY', PrivateDnsSpecifiedDomains: ['project-a.egress.internal'] },
    });
    const parameter = Object.values(t.Resources).find((r) => r.Type === 'AWS::SSM::Parameter')!;
    expect(parameter.Properties).toMatchObject({ Value: 'http://project-a.egress.internal:3201' });
    // Keyed by the VPC parameter, so the template deploys into several VPCs of one account.
    expect(parameter.Properties.Name).toEqual({ 'Fn::Join': ['', ['/egresshub/project-a/', { Ref: 'VpcId' }, '/proxy-url']] });
    expect(validateTemplate(t)).toEqual([]);
  });

  it('validates against the CloudFormation registry and has no cdk-nag findings', () => {
    for (const [, t] of s.templates) expect(validateTemplate(t.toJSON())).toEqual([]);
    expect(nagFindings(s.app)).toEqual([]);
  });
});

describe('stable proxy names with a verified public domain', () => {
  const s = synthOnce('dns-public', publicDns);

  it('verifies the domain once and publishes its TXT record in the given public zone', () => {
    s.hub.resourceCountIs('AWS::VpcLattice::DomainVerification', 1);
    s.hub.hasResourceProperties('AWS::VpcLattice::DomainVerification', { DomainName: 'egress.example.com' });
    // The TXT record (the hub's private failover zone has records of its own).
    const [txtId] = Object.keys(s.hub.findResources('AWS::Route53::RecordSet', { Properties: { Type: 'TXT' } }));
    const [verificationId] = Object.keys(s.hub.findResources('AWS::VpcLattice::DomainVerification'));
    // The record's name and value come from GetDomainVerification (custom resource in describe mode).
    const [describeId, describe] = Object.entries(s.hub.findResources('Custom::EgressHubDomainTxt'))[0]!;
    expect(describe.Properties).toMatchObject({ Mode: 'describe', DomainVerificationId: { 'Fn::GetAtt': [verificationId, 'Id'] } });
    s.hub.hasResourceProperties('AWS::Route53::RecordSet', {
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
      Type: 'TXT',
      Name: { 'Fn::GetAtt': [describeId, 'Name'] },
      ResourceRecords: [{ 'Fn::Join': ['', ['"', { 'Fn::GetAtt': [describeId, 'Value'] }, '"']] }],
    });
    // The waiter runs only after the TXT record exists, and holds the hub stack until VERIFIED.
    const waiter = Object.values(s.hub.findResources('Custom::EgressHubDomainVerified'));
    expect(waiter).toHaveLength(1);
    expect(waiter[0]!.DependsOn).toContain(txtId);
  });

  it('ties every resource configuration to the verification', () => {
    const [verificationId] = Object.keys(s.hub.findResources('AWS::VpcLattice::DomainVerification'));
    tenants(s).hasResourceProperties('AWS::VpcLattice::ResourceConfiguration', {
      CustomDomainName: 'project-a.egress.example.com',
      DomainVerificationId: {
        'Fn::GetStackOutput': Match.objectLike({ StackName: 'egresshub-hub', OutputName: Match.stringLikeRegexp(`${verificationId}Id`) }),
      },
    });
  });

  it('lets the waiter read only this verification', () => {
    const [verificationId] = Object.keys(s.hub.findResources('AWS::VpcLattice::DomainVerification'));
    s.hub.hasResourceProperties('AWS::IAM::Role', {
      Policies: [
        {
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Action: 'vpc-lattice:GetDomainVerification', Resource: { 'Fn::GetAtt': [verificationId, 'Arn'] } }),
            ]),
          },
        },
      ],
    });
  });

  it('uses the default (verified domains) private DNS preference on spokes', () => {
    const spoke = s.templates.get('Spoke-project-a-vpc-0a1b2c3d4e5f60718')!;
    spoke.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      PrivateDnsEnabled: true,
      DnsOptions: { PrivateDnsPreference: 'VERIFIED_DOMAINS_ONLY', PrivateDnsSpecifiedDomains: Match.absent() },
    });
  });

  it('validates against the CloudFormation registry and has no cdk-nag findings', () => {
    for (const [, t] of s.templates) expect(validateTemplate(t.toJSON())).toEqual([]);
    expect(nagFindings(s.app)).toEqual([]);
  });
});

describe('without a dns section', () => {
  const s = synthOnce('example-no-dns', () => planOf(exampleConfigWithoutDns()));
  it('sets no custom domain and leaves private DNS off (it cannot be changed later without replacing the endpoint)', () => {
    tenants(s).hasResourceProperties('AWS::VpcLattice::ResourceConfiguration', { CustomDomainName: Match.absent() });
    const spoke = s.templates.get('Spoke-project-a-vpc-0a1b2c3d4e5f60718')!;
    spoke.hasResourceProperties('AWS::EC2::VPCEndpoint', { PrivateDnsEnabled: Match.absent(), DnsOptions: Match.absent() });
  });
});
