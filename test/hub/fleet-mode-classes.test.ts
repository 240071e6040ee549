// EgressHub built on its own in a plain stack (not through the app), once per fleet mode: the mode's class decides
// the fleets, the front and the target, and the hub around them is the same. Each mode carries exactly its own
// parts: only multi-az has failover records, only nlb a load balancer, and fixed proxies only where the plan has them.
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { EgressHub } from '../../src/hub/egress-hub';
import { fleetModeFor, MultiAzProxyMode, NlbProxyMode, SingleProxyMode } from '../../src/hub/fleet-modes';
import { FixedProxy, ScalingProxyFleet } from '../../src/hub/proxy-fleet';
import { planOf, testApp, variantConfig } from '../support/stack';

const build = (mode: string) => {
  const plan = planOf(variantConfig(mode, 'nat'));
  // The hub's stack is in the config's account and region (EgressHub refuses another).
  const env = { account: plan.account, region: plan.region };
  const app = testApp({ [`availability-zones:account=${env.account}:region=${env.region}`]: [...plan.hub.availabilityZones] });
  const stack = new Stack(app, 'Hub', { env });
  const hub = new EgressHub(stack, 'Hub', { plan });
  return { plan, hub, template: Template.fromStack(stack) };
};

const count = (t: Template, type: string) => Object.keys(t.findResources(type)).length;

describe('EgressHub per fleet mode (the construct on its own)', () => {
  it.each([
    // mode, fleets, fixed proxies, target kind, failover zones, load balancers
    ['single', 1, 1, 'ip', 0, 0],
    ['multi-az', 2, 2, 'dnsName', 1, 0],
    ['nlb', 1, 0, 'dnsName', 0, 1],
  ] as const)('%s: %i fleet(s), %i fixed, targets by %s', (mode, fleets, fixed, target, zones, nlbs) => {
    const { plan, hub, template } = build(mode);
    expect(plan.hub.proxy.mode).toBe(mode);
    expect(hub.fleets).toHaveLength(fleets);
    expect(hub.fixedProxies.size).toBe(fixed);
    expect(Object.keys(hub.proxyTarget)).toEqual([target]);
    expect(count(template, 'AWS::Route53::HostedZone')).toBe(zones);
    expect(count(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toBe(nlbs);
    expect(hub.failoverDns !== undefined).toBe(mode === 'multi-az');
    expect(hub.nlb !== undefined).toBe(mode === 'nlb');
    // The same hub around every mode: one gateway, one policy, one dashboard.
    expect(count(template, 'AWS::VpcLattice::ResourceGateway')).toBe(1);
    expect(count(template, 'AWS::CloudWatch::Dashboard')).toBe(1);
    expect(hub.fleets.every((f) => f instanceof (mode === 'nlb' ? ScalingProxyFleet : FixedProxy))).toBe(true);
  });

  it("fleetModeFor picks the class of the plan's mode, which builds in the scope it is given", () => {
    for (const [mode, cls] of [
      ['single', SingleProxyMode],
      ['multi-az', MultiAzProxyMode],
      ['nlb', NlbProxyMode],
    ] as const) {
      const { plan, hub } = build(mode);
      // A second mode object in a fresh stack, from the same plan and the hub's own VPC pieces.
      const stack = new Stack(testApp(), 'Other', { env: { account: plan.account, region: plan.region } });
      const picked = fleetModeFor(
        {
          scope: stack,
          plan,
          vpc: hub.vpc,
          proxySubnets: hub.vpc.privateSubnets,
          privateSubnets: hub.vpc.privateSubnets,
          publicEgress: false,
          common: {
            vpc: hub.vpc,
            instanceType: plan.hub.proxy.instanceType,
            architecture: plan.hub.proxy.architecture,
            egressPorts: [443],
            policy: hub.policy,
          },
        },
        plan.hub.proxy,
      );
      expect(picked).toBeInstanceOf(cls);
      expect(picked.fleets.every((f) => f.node.scope === stack)).toBe(true);
    }
  });
});
