// TenantEndpoints built on its own from explicit inputs, as a table: what each tenant's resource configuration
// targets (the proxy's address or a name the gateway resolves), whether it gets a RAM share, its name, its
// custom domain and its tag; and the three outputs its spokes read. No hub, no app: only the construct.
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { planEgress, type EgressHubConfig, type TenantPlan } from '../../src';
import { GENERATION_TAG } from '../../src/hub/generation';
import { TenantEndpoints, type TenantEndpointsProps } from '../../src/hub/tenant-endpoints';
import { TWO_TENANTS } from '../fixtures/two-tenants';
import { validateTemplate } from '../support/cfn-registry';
import { nagFindings } from '../support/nag';
import { testStack } from '../support/stack';

const plain = planEgress(TWO_TENANTS).tenants;
const named = planEgress({ ...TWO_TENANTS, dns: { domain: 'egress.internal' } } satisfies EgressHubConfig).tenants;

function build(tenants: readonly TenantPlan[], props: Partial<TenantEndpointsProps> = {}) {
  const stack = testStack();
  const endpoints = new TenantEndpoints(stack, 'Tenants', {
    tenants,
    resourceGatewayId: 'rgw-0123456789abcdef0',
    target: { ip: '10.100.0.10' },
    ...props,
  });
  const template = Template.fromStack(stack);
  const configurations = Object.values(template.findResources('AWS::VpcLattice::ResourceConfiguration')).map(
    (r) => (r as { Properties: Record<string, unknown> }).Properties,
  );
  return { stack, endpoints, template, configurations };
}

describe('TenantEndpoints (the construct on its own)', () => {
  it.each([
    ['the fixed proxy address (single)', { ip: '10.100.0.10' }, { IpResource: '10.100.0.10' }],
    [
      'a name the gateway resolves in the hub VPC (multi-az, nlb)',
      { dnsName: 'proxy.egress.internal' },
      { DnsResource: { DomainName: 'proxy.egress.internal', IpAddressType: 'IPV4' } },
    ],
  ] as const)('points every configuration at %s, on the tenant port alone', (_what, target, definition) => {
    const { configurations } = build(plain, { target });
    expect(configurations).toHaveLength(2);
    for (const [i, c] of configurations.entries()) {
      expect(c).toMatchObject({
        ResourceConfigurationType: 'SINGLE',
        ProtocolType: 'TCP',
        PortRanges: [String(plain[i]!.port)],
        ResourceGatewayId: 'rgw-0123456789abcdef0',
        ResourceConfigurationDefinition: definition,
      });
    }
  });

  it.each([
    // tenant, RAM share principals
    ['project-a', undefined],
    ['project-b', ['222222222222']],
  ])('%s: a RAM share only for principals outside the hub account (%j)', (name, principals) => {
    const { endpoints, template } = build(plain);
    const endpoint = endpoints.endpoints.get(name)!;
    expect(endpoint.share !== undefined).toBe(principals !== undefined);
    const shares = Object.values(template.findResources('AWS::RAM::ResourceShare')).map(
      (r) => (r as { Properties: { Name: string; Principals: string[] } }).Properties,
    );
    expect(shares.filter((s) => s.Name === endpoint.tenant.resourceConfigurationName).map((s) => s.Principals)).toEqual(
      principals ? [principals] : [],
    );
  });

  it('names each configuration with nameOf, tags it with the generation, and gives each tenant its outputs', () => {
    const { configurations, template, endpoints } = build(plain, { nameOf: (t) => `${t.name}-x`, generation: 'g1' });
    expect(configurations.map((c) => c.Name)).toEqual(['project-a-x', 'project-b-x']);
    for (const c of configurations) expect(c.Tags).toEqual([{ Key: GENERATION_TAG, Value: 'g1' }]);
    expect(Object.keys(template.findOutputs('*'))).toHaveLength(plain.length * TenantEndpoints.OUTPUTS_PER_TENANT);
    expect([...endpoints.endpoints.keys()]).toEqual(['project-a', 'project-b']);
  });

  it('defaults to the plan names, no tag and no custom domain', () => {
    const { configurations } = build(plain);
    expect(configurations.map((c) => c.Name)).toEqual(plain.map((t) => t.resourceConfigurationName));
    for (const c of configurations) {
      expect(c.Tags).toBeUndefined();
      expect(c.CustomDomainName).toBeUndefined();
    }
  });

  it.each([
    ['a private domain: the custom name alone', undefined, undefined],
    ['a verified public domain: the name and its verification', 'dv-0123456789abcdef0', 'dv-0123456789abcdef0'],
  ])('gives each tenant its proxy name under %s', (_what, domainVerificationId, expected) => {
    const { configurations } = build(named, { domainVerificationId });
    expect(configurations.map((c) => c.CustomDomainName)).toEqual(['project-a.egress.internal', 'project-b.egress.internal']);
    for (const c of configurations) expect(c.DomainVerificationId).toBe(expected);
  });

  it('passes the CloudFormation registry and cdk-nag', () => {
    const { stack, template } = build(named, { target: { dnsName: 'proxy.egress.internal' } });
    expect(validateTemplate(template.toJSON())).toEqual([]);
    expect(nagFindings(stack)).toEqual([]);
  });
});
