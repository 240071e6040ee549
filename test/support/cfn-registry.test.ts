import { describe, expect, it } from 'vitest';
import { validateTemplate } from './cfn-registry';
import { exampleConfig, planOf, synthOnce } from './stack';

const gateway = (props: Record<string, unknown>) => ({
  Resources: { Gw: { Type: 'AWS::VpcLattice::ResourceGateway', Properties: props } },
});
const valid = { Name: 'gw', VpcIdentifier: 'vpc-1', SubnetIds: ['subnet-1'] };

describe('validateTemplate (CloudFormation registry from @aws-cdk/aws-service-spec)', () => {
  it('accepts a valid resource, including intrinsic functions in place of values', () => {
    expect(validateTemplate(gateway(valid))).toEqual([]);
    expect(validateTemplate(gateway({ ...valid, VpcIdentifier: { Ref: 'Vpc' }, SubnetIds: { 'Fn::Split': [',', 'a,b'] } }))).toEqual([]);
  });

  it('fails when a property is unknown', () => {
    expect(validateTemplate(gateway({ ...valid, SubnetId: 'subnet-1' }))).toEqual([
      { path: 'Resources.Gw.Properties.SubnetId', message: expect.stringMatching(/^unknown property \(known: .*SubnetIds/) },
    ]);
  });

  it('fails when a required property is missing', () => {
    expect(validateTemplate(gateway({ Name: 'gw', SubnetIds: ['s'] }))).toEqual([
      { path: 'Resources.Gw.Properties.VpcIdentifier', message: 'required property is missing' },
    ]);
  });

  it('fails when a value is outside the allowed values', () => {
    expect(validateTemplate(gateway({ ...valid, IpAddressType: 'IPV5' }))).toEqual([
      { path: 'Resources.Gw.Properties.IpAddressType', message: 'value "IPV5" is not one of IPV4, IPV6, DUALSTACK' },
    ]);
  });

  it('fails when a nested property (type definition) is unknown or has the wrong type', () => {
    const rc = (def: unknown) => ({
      Resources: {
        Rc: {
          Type: 'AWS::VpcLattice::ResourceConfiguration',
          Properties: { Name: 'x', ResourceConfigurationType: 'SINGLE', ResourceConfigurationDefinition: def },
        },
      },
    });
    expect(validateTemplate(rc({ IpResource: '10.0.0.1' }))).toEqual([]);
    expect(validateTemplate(rc({ IpAddress: '10.0.0.1' }))).toEqual([
      { path: 'Resources.Rc.Properties.ResourceConfigurationDefinition.IpAddress', message: expect.stringMatching(/^unknown property/) },
    ]);
    expect(validateTemplate(rc({ IpResource: ['10.0.0.1'] }))).toEqual([
      { path: 'Resources.Rc.Properties.ResourceConfigurationDefinition.IpResource', message: 'expected a string, got ["10.0.0.1"]' },
    ]);
  });

  it('fails when a resource type does not exist', () => {
    expect(validateTemplate({ Resources: { X: { Type: 'AWS::VpcLattice::ResourceGatway', Properties: {} } } })).toEqual([
      { path: 'Resources.X', message: 'unknown resource type AWS::VpcLattice::ResourceGatway' },
    ]);
  });

  it('catches a broken property in a real synthesized tenants template', () => {
    const hub = structuredClone(
      synthOnce('example', () => planOf(exampleConfig()))
        .templates.get('Tenants-3200')!
        .toJSON(),
    ) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const rc = Object.values(hub.Resources).find((r) => r.Type === 'AWS::VpcLattice::ResourceConfiguration')!;
    rc.Properties.ProtocolType = 'UDP';
    expect(validateTemplate(hub)).toEqual([
      {
        path: expect.stringMatching(/^Resources\.Tenantsproject.*\.Properties\.ProtocolType$/),
        message: 'value "UDP" is not one of TCP',
      },
    ]);
  });
});
