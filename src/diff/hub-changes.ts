// What a hub change does that the template diff alone does not say in words: the egress path's interruption and
// new egress addresses when the NAT gateways change kind. `egresshub diff` prints these as warnings.
import type { EgressPlan } from '../config/plan';

/** Warnings about the move from `before` to `after` (empty when nothing needs saying). */
export function hubChangeWarnings(before: EgressPlan, after: EgressPlan): string[] {
  const was = before.hub.natMode;
  const now = after.hub.natMode;
  if (was === now || now !== 'regional' || (was !== 'one' && was !== 'per-az')) return [];
  // CloudFormation creates the regional gateway, points each private default route at it (an update: NatGatewayId
  // does not replace a route), then deletes the zonal gateways and their EIPs. Flows the old gateway translated
  // have no state in the new one: they break at the switch (a NAT gateway answers unknown flows with a reset,
  // https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html).
  const zonal =
    was === 'one' ? 'the NAT gateway and its Elastic IP are' : `the ${before.hub.natGateways} NAT gateways and their Elastic IPs are`;
  return [
    `hub.natGateways ${was} → regional: ${zonal} deleted after a regional NAT gateway takes over every private route. ` +
      'Connections open through the old gateway (long tunnels, pooled connections to origins) are cut when the routes switch; new ones go out at once. ' +
      'The egress IPs change to addresses AWS allocates for the regional gateway: partners who allowlist the hub need them (describe-nat-gateways after the deploy). Schedule it.',
  ];
}
