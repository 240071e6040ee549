// First deploys in the right order: a proxy boots (and installs packages) only once its subnet reaches the
// internet, in every fleet mode and egress. CloudFormation would otherwise start the groups in parallel with
// the NAT gateway or the internet gateway route.
import { describe, expect, it } from 'vitest';
import { FLEET_VARIANTS, planOf, synthOnce, variantConfig } from '../support/stack';

type Res = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };

describe('deploy order', () => {
  it.each(FLEET_VARIANTS)('%s with %s egress: every proxy group waits for its subnet default route to the internet', (mode, egress) => {
    const config = variantConfig(mode, egress);
    const { hub } = synthOnce(`deploy-order-${mode}-${egress}`, () => planOf(config));
    const resources = (hub.toJSON() as { Resources: Record<string, Res> }).Resources;
    const routeTableOf = (subnet: string) =>
      Object.values(resources).find(
        (r) => r.Type === 'AWS::EC2::SubnetRouteTableAssociation' && JSON.stringify(r.Properties.SubnetId).includes(subnet),
      )?.Properties.RouteTableId;
    const defaultRoutes = Object.entries(resources).filter(
      ([, r]) => r.Type === 'AWS::EC2::Route' && r.Properties.DestinationCidrBlock === '0.0.0.0/0',
    );
    const groups = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::AutoScaling::AutoScalingGroup');
    expect(groups.length).toBeGreaterThan(0);
    for (const [id, group] of groups) {
      const subnets = (group.Properties.VPCZoneIdentifier as { Ref: string }[]).map((s) => s.Ref);
      for (const subnet of subnets) {
        const table = JSON.stringify(routeTableOf(subnet));
        const route = defaultRoutes.find(([, r]) => JSON.stringify(r.Properties.RouteTableId) === table);
        expect(route, `${id}: no default route for ${subnet}`).toBeDefined();
        // NAT egress: the route goes to a NAT gateway; public egress: to the internet gateway.
        expect(Object.keys(route![1].Properties)).toContain(egress === 'nat' ? 'NatGatewayId' : 'GatewayId');
        expect(group.DependsOn ?? [], `${id} must wait for ${route![0]}`).toContain(route![0]);
      }
    }
  });
});
