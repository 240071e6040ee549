// Config changes to the hub: what `egresshub diff` says a deploy replaces (cases.ts).
import { expect, it } from 'vitest';
import { hubChangeWarnings, type AppDiff } from '../../src/diff';
import { exampleConfig, planOf } from '../support/stack';
import { changesIn, describeCases, diffOf } from './run-cases';

/** Fleet mode and egress changes keep the gateway, every resource configuration and every spoke endpoint. */
function keepsWhatSpokesUse(d: AppDiff): void {
  expect(changesIn(d, 'Hub').filter((r) => r.type === 'AWS::VpcLattice::ResourceGateway')).toEqual([]);
  expect(changesIn(d, 'Tenants-').filter((r) => r.impact !== 'update')).toEqual([]);
  expect(d.stacks.filter((s) => s.id.startsWith('Spoke-')).map((s) => s.status)).toEqual(['unchanged', 'unchanged']);
}

/**
 * Zonal NAT gateways to a regional one: the zonal gateways and their EIPs go, one regional gateway comes, the
 * private default routes are updated in place (NatGatewayId does not replace a route), nothing else moves.
 */
function toRegional(d: AppDiff, zonal: number): void {
  const hub = changesIn(d, 'Hub');
  expect(
    hub
      .filter((r) => r.type === 'AWS::EC2::NatGateway')
      .map((r) => r.impact)
      .sort(),
  ).toEqual(['add', ...Array(zonal).fill('remove')]);
  expect(hub.filter((r) => r.type === 'AWS::EC2::EIP').map((r) => r.impact)).toEqual(Array(zonal).fill('remove'));
  const routes = hub.filter((r) => r.type === 'AWS::EC2::Route');
  expect(routes.map((r) => [r.impact, r.changed])).toEqual(Array(2).fill(['update', ['NatGatewayId']]));
  expect(d.stacks.filter((s) => s.status !== 'unchanged').map((s) => s.id)).toEqual(['Hub']);
  expect(d.proxies).toEqual([]);
}

describeCases('hub', {
  'change `hub.proxy.mode` from `multi-az` to `single`': keepsWhatSpokesUse,
  'change `hub.proxy.mode` from `single` to `multi-az`': keepsWhatSpokesUse,
  'change `hub.proxy.mode` from `multi-az` to `nlb`': keepsWhatSpokesUse,
  'change `hub.proxy.mode` from `nlb` to `multi-az`': keepsWhatSpokesUse,
  'change `hub.egress` from `nat` to `public`': (d) => {
    keepsWhatSpokesUse(d);
    // The proxies' own Elastic IPs are the new egress addresses.
    expect(changesIn(d, 'Hub').filter((r) => r.impact === 'add' && r.type === 'AWS::EC2::EIP')).toHaveLength(2);
  },
  'change `hub.egress` from `public` to `nat`': keepsWhatSpokesUse,
  'change `hub.proxy.instanceType`': (d) => {
    const asgs = changesIn(d, 'Hub').filter((r) => r.type === 'AWS::AutoScaling::AutoScalingGroup');
    expect(asgs.length).toBeGreaterThan(0);
    for (const asg of asgs) expect(asg.because.join('\n')).toMatch(/UpdatePolicy replaces its instances/);
  },
  'change `hub.natGateways` from `one` to `per-az`': (d) => {
    expect(changesIn(d, 'Hub').filter((r) => r.impact === 'add' && r.type === 'AWS::EC2::EIP')).toHaveLength(1);
    expect(d.stacks.filter((s) => s.status !== 'unchanged').map((s) => s.id)).toEqual(['Hub']);
  },
  'change `hub.natGateways` from `one` to `regional`': (d) => toRegional(d, 1),
  'change `hub.natGateways` from `per-az` to `regional`': (d) => toRegional(d, 2),
  'change `hub.cidr`': (d) => {
    const gateway = d.replacedProtected.find((r) => r.type === 'AWS::VpcLattice::ResourceGateway');
    expect(gateway?.replacedBy).toEqual(expect.arrayContaining(['VpcIdentifier', 'SubnetIds']));
  },
});

// A policy change reaches the proxies without a new launch template version (no instance replaced):
// the allowlist is not part of the user data (H2: ProxyPolicy delivers squid.conf through S3 + SSM).
it("an allowlist-only change leaves the proxies' launch template user data alone", () => {
  const d = diffOf({ edit: (c) => (c.tenants[0]!.allow as string[]).push('pypi.org') });
  const hub = changesIn(d, 'Hub');
  expect(hub.filter((r) => r.type === 'AWS::EC2::LaunchTemplate')).toEqual([]);
  expect(hub.filter((r) => r.type === 'AWS::AutoScaling::AutoScalingGroup')).toEqual([]);
  expect(hub.filter((r) => r.because.some((b) => b.includes('UpdatePolicy')))).toEqual([]);
});

// The interruption and the new egress IPs are said in words too (the template diff shows only the resources).
it('warns of the cut connections and new egress IPs from zonal NAT gateways to a regional one, and only then', () => {
  const withNat = (nat?: string) => {
    const c = exampleConfig() as { hub: Record<string, unknown> };
    if (nat) c.hub.natGateways = nat;
    else delete c.hub.natGateways;
    return planOf(c);
  };
  const [one, perAz, regional, unset] = [withNat('one'), withNat('per-az'), withNat('regional'), withNat()];
  expect(hubChangeWarnings(one, regional)).toEqual([
    expect.stringMatching(
      /^hub\.natGateways one → regional: the NAT gateway and its Elastic IP are deleted .* cut when the routes switch.* egress IPs change/,
    ),
  ]);
  expect(hubChangeWarnings(perAz, regional)).toEqual([
    expect.stringMatching(/^hub\.natGateways per-az → regional: the 2 NAT gateways and their Elastic IPs/),
  ]);
  expect(hubChangeWarnings(unset, regional)).toHaveLength(1);
  for (const [a, b] of [
    [regional, regional],
    [one, perAz],
    [regional, one],
  ] as const)
    expect(hubChangeWarnings(a, b)).toEqual([]);
});
