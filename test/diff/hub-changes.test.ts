// Config changes to the hub: what `egresshub diff` says a deploy replaces (cases.ts).
import { expect, it } from 'vitest';
import { changesIn, describeCases, diffOf } from './run-cases';

describeCases('hub', {
  'change `hub.proxy.instanceType`': (d) => {
    const asgs = changesIn(d, 'Hub').filter((r) => r.type === 'AWS::AutoScaling::AutoScalingGroup');
    expect(asgs.length).toBeGreaterThan(0);
    for (const asg of asgs) expect(asg.because.join('\n')).toMatch(/UpdatePolicy replaces its instances/);
  },
  'change `hub.natGateways` from `one` to `per-az`': (d) => {
    expect(changesIn(d, 'Hub').filter((r) => r.impact === 'add' && r.type === 'AWS::EC2::EIP')).toHaveLength(1);
    expect(d.stacks.filter((s) => s.status !== 'unchanged').map((s) => s.id)).toEqual(['Hub']);
  },
  'change `hub.cidr`': (d) => {
    const gateway = d.replacedProtected.find((r) => r.type === 'AWS::VpcLattice::ResourceGateway');
    expect(gateway?.replacedBy).toEqual(expect.arrayContaining(['VpcIdentifier', 'SubnetIds']));
  },
});

// A policy change reaches the proxies without a new launch template version (no instance replaced):
// the allowlist must not be part of the user data. Pending until H2 lands (undefined then).
const H2_PENDING: string | undefined =
  'H2 (src/hub/user-data.ts, policy-rollout.ts): the squid.conf still travels in the launch template user data';
const USER_DATA = "an allowlist-only change leaves the proxies' launch template user data alone";
if (H2_PENDING) {
  it.todo(`${USER_DATA} (pending: ${H2_PENDING})`);
} else {
  it(USER_DATA, () => {
    const d = diffOf({ edit: (c) => (c.tenants[0]!.allow as string[]).push('pypi.org') });
    const hub = changesIn(d, 'Hub');
    expect(hub.filter((r) => r.type === 'AWS::EC2::LaunchTemplate' && r.changed.some((p) => p.includes('UserData')))).toEqual([]);
    expect(hub.filter((r) => r.because.some((b) => b.includes('UpdatePolicy')))).toEqual([]);
  });
}
