import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { arnContextKey, EgressSpoke, spokeTemplate, spokeTemplateStack } from '../../src/spoke';
import { validateTemplate } from '../support/cfn-registry';
import { nagFindings } from '../support/nag';
import { exampleConfig, exampleConfigWithoutDns, planOf, synthOnce, testStack } from '../support/stack';
import { outputNames, statefulIds } from '../support/template-facts';

const ARN = 'arn:aws:vpc-lattice:ap-northeast-1:111111111111:resourceconfiguration/rcfg-0123456789abcdef0';
const SPOKE_A = 'Spoke-project-a-vpc-0a1b2c3d4e5f60718';
const SPOKE_B = 'Spoke-project-b-vpc-0b1c2d3e4f5a60719';
const example = () => synthOnce('example', () => planOf(exampleConfig()));
/** Without a dns section the endpoint's generated DNS name is the proxy host: looked up at deploy time. */
const exampleNoDns = () => synthOnce('example-no-dns', () => planOf(exampleConfigWithoutDns()));

describe('spoke stacks deployed by the app', () => {
  it('puts a cross-account spoke in its own account with the ARN as a validated parameter', () => {
    const s = example();
    const stack = s.app.node.findChild(SPOKE_A) as unknown as { account: string; region: string };
    expect([stack.account, stack.region]).toEqual(['222222222222', 'ap-northeast-1']);
    const t = s.templates.get(SPOKE_A)!;
    const param = (t.toJSON().Parameters as Record<string, Record<string, unknown>>).ResourceConfigurationArn!;
    expect(param).toMatchObject({ Type: 'String', AllowedPattern: expect.stringContaining('resourceconfiguration/rcfg-') });
    expect(param.Default).toBeUndefined();
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Resource',
      VpcId: 'vpc-0a1b2c3d4e5f60718',
      ResourceConfigurationArn: { Ref: 'ResourceConfigurationArn' },
      SubnetIds: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
      SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('SecurityGroup'), 'GroupId'] }],
    });
  });

  it('keeps the logical IDs and output names of both spokes (a new endpoint ID would replace the endpoint and its DNS name)', () => {
    const [a, b] = [SPOKE_A, SPOKE_B].map((id) => example().templates.get(id)!);
    expect(statefulIds(a!)).toEqual(['SpokeEndpoint5FDB5F1A', 'SpokeProxyUrl8FE98977', 'SpokeSecurityGroup869E992F']);
    expect(outputNames(a!)).toEqual(['SpokeEndpointIdD6821F2C', 'SpokeProxyHostCommand98E91B6A', 'SpokeProxyUrlOutput71CC56C6']);
    // project-b's spoke also points its hosts at the proxy (client setup: the SSM document and its association).
    expect(Object.keys(b!.toJSON().Resources as object).sort()).toEqual([
      'ClientSetupAssociation5BF55A6F',
      'ClientSetupDocument90B9D869',
      'SpokeEndpoint5FDB5F1A',
      'SpokeProxyUrl8FE98977',
      'SpokeSecurityGroup869E992F',
    ]);
    expect(outputNames(b!)).toEqual([
      'ClientSetupDocument',
      'SpokeEndpointIdD6821F2C',
      'SpokeProxyHostCommand98E91B6A',
      'SpokeProxyUrlOutput71CC56C6',
    ]);
  });

  it('admits only the spoke VPC CIDR, on the tenant port only', () => {
    const t = example().templates.get(SPOKE_A)!;
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: 'vpc-0a1b2c3d4e5f60718',
      SecurityGroupIngress: [
        { IpProtocol: 'tcp', FromPort: 3201, ToPort: 3201, CidrIp: '10.0.0.0/16', Description: 'servers in this VPC to the proxy' },
      ],
    });
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it('stores http://<endpoint DNS name>:<port> in an SSM parameter, read at deploy time from DescribeVpcEndpointAssociations', () => {
    const t = exampleNoDns().templates.get(SPOKE_A)!;
    t.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/egresshub/project-a/vpc-0a1b2c3d4e5f60718/proxy-url',
      Type: 'String',
      Value: {
        'Fn::Join': [
          '',
          ['http://', { 'Fn::GetAtt': [Match.stringLikeRegexp('ProxyName'), 'VpcEndpointAssociations.0.DnsEntry.DnsName'] }, ':3201'],
        ],
      },
    });
    const [, cr] = Object.entries(t.findResources('Custom::AWS'))[0]!;
    const create = JSON.stringify((cr as { Properties: { Create: unknown } }).Properties.Create);
    expect(create).toContain('describeVpcEndpointAssociations');
  });

  it('takes the ARN default from CDK context once the hub is deployed', () => {
    const s = synthOnce('example-with-arn', () => planOf(exampleConfig()), { [arnContextKey('project-a')]: ARN });
    const param = (s.templates.get(SPOKE_A)!.toJSON().Parameters as Record<string, Record<string, unknown>>).ResourceConfigurationArn!;
    expect(param.Default).toBe(ARN);
  });

  it('references the hub directly when the spoke is in the hub account and region (no parameter, deploy order implied)', () => {
    const t = example().templates.get(SPOKE_B)!;
    expect((t.toJSON().Parameters as Record<string, unknown>).ResourceConfigurationArn).toBeUndefined();
    // A weak reference (the recommended @aws-cdk/core:defaultCrossStackReferences flag): reads the hub's output.
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ResourceConfigurationArn: {
        'Fn::GetStackOutput': {
          StackName: 'egresshub-tenants-3200',
          Region: 'ap-northeast-1',
          OutputName: Match.stringLikeRegexp('projectbResourceConfiguration'),
        },
      },
    });
    expect((example().app.node.findChild(SPOKE_B) as Stack).dependencies.map((d) => d.node.id)).toEqual(['Tenants-3200']);
  });
});

describe('spokeTemplate (standalone, for teams without CDK)', () => {
  // Without a dns section: the template then tells how to look up the endpoint's generated name
  // (test/dns covers the stable-name variant).
  const plan = planOf(exampleConfigWithoutDns());
  const template = spokeTemplate(plan, 'project-a') as {
    Parameters: Record<string, { Type: string; Default?: unknown }>;
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    Rules?: unknown;
  };

  it('takes VpcId, SubnetIds, VpcCidr and the hub ARN as parameters and needs no CDK bootstrap or assets', () => {
    expect(Object.fromEntries(Object.entries(template.Parameters).map(([k, v]) => [k, v.Type]))).toEqual({
      VpcId: 'AWS::EC2::VPC::Id',
      SubnetIds: 'List<AWS::EC2::Subnet::Id>',
      VpcCidr: 'String',
      ResourceConfigurationArn: 'String',
      SecondaryVpcCidr1: 'String',
      SecondaryVpcCidr2: 'String',
      SecondaryVpcCidr3: 'String',
      SecondaryVpcCidr4: 'String',
    });
    expect(template.Rules).toBeUndefined();
    expect(
      Object.values(template.Resources)
        .map((r) => r.Type)
        .sort(),
    ).toEqual(['AWS::EC2::SecurityGroup', 'AWS::EC2::VPCEndpoint']);
  });

  it('bakes in the tenant port and wires the parameters through', () => {
    const t = Template.fromJSON(template);
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: { Ref: 'VpcId' },
      // The VPC's block first, then one optional entry per secondary block (test/spoke/secondary-cidrs.test.ts).
      SecurityGroupIngress: Match.arrayWith([Match.objectLike({ FromPort: 3201, ToPort: 3201, CidrIp: { Ref: 'VpcCidr' } })]),
    });
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Resource',
      VpcId: { Ref: 'VpcId' },
      SubnetIds: { Ref: 'SubnetIds' },
      ResourceConfigurationArn: { Ref: 'ResourceConfigurationArn' },
    });
    t.hasOutput('*', {
      Value: { 'Fn::Join': ['', Match.arrayWith([' --vpc-endpoint-ids ', { Ref: Match.stringLikeRegexp('Endpoint') }])] },
    });
  });

  it('validates against the CloudFormation registry and has no cdk-nag findings', () => {
    expect(validateTemplate(template)).toEqual([]);
    expect(nagFindings(spokeTemplateStack(plan, 'project-a'))).toEqual([]);
  });

  it('keeps its logical IDs and output names: teams deploy it as is, and a new endpoint ID would replace their endpoint (and its DNS name)', () => {
    expect(Object.keys(template.Resources).sort()).toEqual(['SpokeEndpoint5FDB5F1A', 'SpokeSecurityGroup869E992F']);
    expect(outputNames(Template.fromJSON(template))).toEqual(['SpokeEndpointIdD6821F2C', 'SpokeProxyHostCommand98E91B6A']);
    expect((template as { Description?: string }).Description).toBe(
      'egresshub spoke for tenant project-a (proxy port 3201) of hub egresshub-hub in ap-northeast-1',
    );
  });

  it('refuses, at deploy time, an ARN that is not a resource configuration and a VPC CIDR that is not /16 to /28', () => {
    const pattern = (p: string) => new RegExp((template.Parameters[p] as unknown as { AllowedPattern: string }).AllowedPattern);
    expect(pattern('ResourceConfigurationArn').test(ARN)).toBe(true);
    for (const bad of ['arn:aws:ec2:ap-northeast-1:111111111111:vpc/vpc-1', `${ARN} `, 'rcfg-0123456789abcdef0'])
      expect(pattern('ResourceConfigurationArn').test(bad)).toBe(false);
    expect(pattern('VpcCidr').test('10.0.0.0/16')).toBe(true);
    for (const bad of ['10.0.0.0/8', '10.0.0.0/29', '10.0.0.0', '']) expect(pattern('VpcCidr').test(bad)).toBe(false);
    expect(pattern('SecondaryVpcCidr1').test('')).toBe(true);
    expect(pattern('SecondaryVpcCidr1').test('100.64.0.0/16')).toBe(true);
    expect(pattern('SecondaryVpcCidr1').test('100.64.0.0/12')).toBe(false);
  });

  it('fails when the tenant is unknown, listing the tenants', () => {
    expect(() => spokeTemplate(plan, 'project-x')).toThrow('unknown tenant "project-x"; tenants in this config: project-a, project-b');
  });
});

describe('EgressSpoke', () => {
  const props = {
    tenant: 'team',
    port: 3201,
    resourceConfigurationArn: ARN,
    vpcId: 'vpc-1',
    vpcCidr: '10.0.0.0/16',
    subnetIds: ['subnet-1', 'subnet-2'],
  };

  it('exposes endpoint, security group, proxy URL and its SSM parameter', () => {
    const spoke = new EgressSpoke(testStack(), 'Spoke', props);
    expect(spoke.endpoint.vpcEndpointType).toBe('Resource');
    expect(spoke.securityGroup.vpcId).toBe('vpc-1');
    expect(spoke.proxyUrl).toEqual(expect.any(String));
    expect(spoke.proxyUrlParameter).toBeDefined();
  });

  it('fails when fewer than two subnets are given', () => {
    expect(() => new EgressSpoke(testStack(), 'Spoke', { ...props, subnetIds: ['subnet-1'] })).toThrow(
      'spoke for tenant "team": a resource endpoint needs subnets in at least 2 AZs (got 1: subnet-1); list one subnet per AZ',
    );
  });

  it('fails when the ARN is not a resource configuration ARN', () => {
    expect(() => new EgressSpoke(testStack(), 'Spoke', { ...props, resourceConfigurationArn: 'arn:aws:ec2:x' })).toThrow(
      /^spoke for tenant "team": "arn:aws:ec2:x" is not a resource configuration ARN; copy the ResourceConfigurationArn output of the tenant's stack/,
    );
  });
});

describe('spokes of the shared configuration (no tenants configured)', () => {
  const config = {
    ...exampleConfig(),
    tenants: [],
    spokes: [
      {
        tenant: 'shared',
        account: '111111111111',
        vpcId: 'vpc-0c1d2e3f4a5b60720',
        vpcCidr: '10.0.0.0/16',
        subnetIds: ['subnet-0c1d2e3f4a5b60001', 'subnet-0c1d2e3f4a5b60002'],
      },
    ],
  };

  it('gives the standalone template port 3128', () => {
    const t = Template.fromJSON(spokeTemplate(planOf(config), 'shared'));
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: Match.arrayWith([Match.objectLike({ FromPort: 3128, ToPort: 3128 })]),
    });
  });

  it('references the hub directly from a spoke stack in the hub account', () => {
    const s = synthOnce('no-tenants-with-spoke', () => planOf(config));
    const t = s.templates.get('Spoke-shared-vpc-0c1d2e3f4a5b60720')!;
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ResourceConfigurationArn: { 'Fn::GetStackOutput': Match.objectLike({ StackName: 'egresshub-tenants-3100' }) },
    });
    expect(validateTemplate(t.toJSON())).toEqual([]);
    expect(nagFindings(s.app)).toEqual([]);
  });
});
