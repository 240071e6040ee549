// A VPC the app brings to the hub (EgressHub's `vpc` prop) instead of the one the hub would create: what the
// hub needs from it, checked at synth with the construct's path. The hub creates no VPC, subnets, NAT gateways
// or S3 endpoint then; it adds its flow log to the VPC, and its security groups, proxies and resource gateway.
//
// What it needs, per AZ of the config's hub.availabilityZones (the proxies are placed per AZ index, the fixed
// proxies one per AZ):
// - private subnets with egress (a route to a NAT gateway or similar: CDK's PRIVATE_WITH_EGRESS), where the
//   proxies and the resource gateway run;
// - with `egress: public`, public subnets (the proxies, with their Elastic IPs) and private ones, with or without
//   egress (the gateway's: PRIVATE_ISOLATED, else PRIVATE_WITH_EGRESS).
// The config's hub.cidr must be the VPC's primary CIDR: the proxies deny every tenant the hub's own range.
import { Annotations, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { UsageError } from '../config/errors';
import type { EgressPlan } from '../config/plan';

/** The subnets of a brought VPC the hub uses, one per AZ of the plan, in the plan's AZ order. */
export interface HubSubnets {
  /** Where the proxies run: the private subnets, or with public egress the public ones. */
  readonly proxySubnets: ec2.ISubnet[];
  /** The resource gateway's (and an NLB's) subnets. */
  readonly privateSubnets: ec2.ISubnet[];
}

/** The subnets of `vpc` the hub of `plan` runs in; a UsageError (the construct's path, what to change) when it lacks them. */
export function broughtVpcSubnets(hub: Construct, plan: EgressPlan, vpc: ec2.IVpc): HubSubnets {
  const where = `${hub.node.path}: EgressHub: vpc ${Token.isUnresolved(vpc.vpcId) ? vpc.node.path : vpc.vpcId}`;
  const azs = plan.hub.availabilityZones;
  checkCidr(hub, where, plan, vpc);
  const publicEgress = plan.hub.egress === 'public';
  const privateSubnets = publicEgress
    ? perAz(
        where,
        azs,
        vpc.isolatedSubnets.length > 0 ? vpc.isolatedSubnets : vpc.privateSubnets,
        'private subnet (isolated or with egress)',
      )
    : perAz(where, azs, vpc.privateSubnets, 'private subnet with egress (a route to a NAT gateway)');
  const proxySubnets = publicEgress
    ? perAz(where, azs, vpc.publicSubnets, 'public subnet (egress: public runs the proxies there)')
    : privateSubnets;
  return { proxySubnets, privateSubnets };
}

/** One subnet of `subnets` in each AZ of `azs`, in that order (the first of the VPC's in each AZ). */
function perAz(where: string, azs: readonly string[], subnets: readonly ec2.ISubnet[], kind: string): ec2.ISubnet[] {
  if (subnets.some((s) => Token.isUnresolved(s.availabilityZone))) {
    throw new UsageError(
      `${where}: its subnets' AZs are not known at synth (a VPC of an environment-agnostic stack?); the hub places a proxy per AZ of hub.availabilityZones: ` +
        `give the VPC's stack an env, or import the VPC with its AZs (ec2.Vpc.fromLookup, or fromVpcAttributes with availabilityZones)`,
    );
  }
  const have = [...new Set(subnets.map((s) => s.availabilityZone))];
  const missing = azs.filter((az) => !have.includes(az));
  if (missing.length > 0) {
    throw new UsageError(
      `${where} has no ${kind} in ${missing.join(', ')}, of the config's hub.availabilityZones (${azs.join(', ')}); ` +
        (have.length > 0
          ? `it has one in ${have.join(', ')}: set hub.availabilityZones to those, or add the subnets`
          : `it has none at all: add one per AZ, or leave vpc out and let the hub create its VPC`),
    );
  }
  return azs.map((az) => subnets.find((s) => s.availabilityZone === az) as ec2.ISubnet);
}

/** The VPC's primary CIDR, when synth knows it: the VPC's own (an imported one) or its CfnVPC's (one of this app). */
function knownCidr(vpc: ec2.IVpc): string | undefined {
  if (!Token.isUnresolved(vpc.vpcCidrBlock)) return vpc.vpcCidrBlock;
  const cfn = vpc.node.defaultChild;
  if (cfn instanceof ec2.CfnVPC && typeof cfn.cidrBlock === 'string' && !Token.isUnresolved(cfn.cidrBlock)) return cfn.cidrBlock;
  return undefined;
}

function checkCidr(hub: Construct, where: string, plan: EgressPlan, vpc: ec2.IVpc): void {
  const cidr = knownCidr(vpc);
  if (cidr === undefined) {
    Annotations.of(hub).addWarningV2(
      'egresshub:hub:vpcCidr',
      `the VPC's CIDR is not known at synth, so it cannot be checked against hub.cidr (${plan.hub.cidr}): it must be the VPC's primary CIDR, which the proxies deny to every tenant`,
    );
    return;
  }
  if (cidr !== plan.hub.cidr) {
    throw new UsageError(
      `${where} has the CIDR ${cidr}, but the config's hub.cidr is ${plan.hub.cidr}: set hub.cidr to ${cidr} (the proxies deny every tenant the hub's own range, so it must be the VPC's)`,
    );
  }
}
