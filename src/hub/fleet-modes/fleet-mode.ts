// The seam between the hub and its fleet modes: each mode (single.ts, multi-az.ts, nlb.ts) is one class that
// builds its proxies (and what fronts them) in the hub's scope, adds its own alarms and dashboard widgets, and says
// what the resource configurations target. The hub builds everything around them (VPC, gateway, policy,
// observability) the same way for every mode and asks the mode, never its name. What a mode decides outside CDK
// (drain, lab routing, cost, diff) is its descriptor in src/config/fleet-modes/. Adding a mode: docs/architecture.md.
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { EgressPlan, FixedProxyPlan } from '../../config/plan';
import type { FailoverDns } from '../failover-dns';
import type { NlbFront } from '../nlb-front';
import type { FleetModeMonitoring, HubObservability } from '../observability';
import { FixedProxy, type ProxyFleet, type ProxyFleetProps } from '../proxy-fleet';
import type { ProxyTarget } from '../tenant-endpoints';

/** What every mode's proxies share, from the hub. */
export interface FleetModeContext {
  /** The hub: every construct a mode makes lives directly in it (construct IDs are logical IDs, an API). */
  readonly scope: Construct;
  readonly plan: EgressPlan;
  readonly vpc: ec2.IVpc;
  /** Where proxies run: the private subnets, or with public egress the public ones. */
  readonly proxySubnets: readonly ec2.ISubnet[];
  /** The hub's private subnets (the gateway's, and an NLB's). */
  readonly privateSubnets: readonly ec2.ISubnet[];
  readonly publicEgress: boolean;
  /** Props every proxy fleet of the hub shares (FixedProxy, ScalingProxyFleet). */
  readonly common: Pick<
    ProxyFleetProps,
    | 'vpc'
    | 'instanceType'
    | 'architecture'
    | 'imageId'
    | 'imageRegion'
    | 'machineImage'
    | 'egressPorts'
    | 'policy'
    | 'cloudWatchAgentConfig'
  >;
}

/** A fleet mode's CDK side: every member is required, so a new mode's class must decide each. */
export interface FleetMode extends FleetModeMonitoring {
  /** Every proxy fleet: one per fixed proxy, or the scaling fleet. */
  readonly fleets: readonly ProxyFleet[];
  /** The fixed proxies by plan id (`ProxyA`); empty when the mode has none. */
  readonly fixedProxies: ReadonlyMap<string, FixedProxy>;
  /** The internal NLB in front of the proxies (EgressHub.nlb), or undefined when the mode has none. */
  readonly nlb: NlbFront | undefined;
  /** The failover name's zone and records (EgressHub.failoverDns) once target() built them, or undefined. */
  readonly failoverDns: FailoverDns | undefined;
  /** Opens the tenant ports to the gateway's group; returns the groups the gateway must be allowed to reach. */
  admitGateway(gateway: ec2.SecurityGroup, portRanges: readonly (readonly [number, number])[]): ec2.ISecurityGroup[];
  /** What the resource configurations target, built once the hub's alarms exist (failover records read them). */
  target(observability: HubObservability): ProxyTarget;
  /** How the hub's outputs describe the target: `ip` (a fixed proxy's address) or a name and what answers it. */
  readonly targetDescription: string;
}

/**
 * The fixed proxies of a plan, each an Auto Scaling group of one in its AZ, construct ID = plan id (from the AZ
 * letter), so adding or reordering AZs renames nothing. Their rolling updates are chained: CloudFormation updates
 * a resource only after those it depends on, so an AMI or instance-type change replaces one proxy, waits for its
 * success signal, then the next, and never takes every proxy down at once.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-dependson.html
 */
export function fixedProxies(
  ctx: FleetModeContext,
  plans: readonly FixedProxyPlan[],
  drainBeforeTermination: boolean,
): Map<string, FixedProxy> {
  const fleets = new Map<string, FixedProxy>();
  let previous: FixedProxy | undefined;
  for (const f of plans) {
    const subnet = ctx.proxySubnets[f.azIndex];
    if (!subnet) throw new Error(`no proxy subnet for ${f.id} (AZ index ${f.azIndex})`);
    const fleet = new FixedProxy(ctx.scope, f.id, {
      ...ctx.common,
      subnets: [subnet],
      publicEgress: ctx.publicEgress,
      health: { id: f.id, settings: ctx.plan.hub.proxyHealth },
      drainBeforeTermination,
    });
    if (previous) fleet.cfnAutoScalingGroup.node.addDependency(previous.cfnAutoScalingGroup);
    previous = fleet;
    fleets.set(f.id, fleet);
  }
  return fleets;
}

/** Fixed proxies admit the gateway on their listener groups. */
export function admitOnListeners(
  fleets: readonly ProxyFleet[],
  gateway: ec2.SecurityGroup,
  portRanges: readonly (readonly [number, number])[],
): ec2.ISecurityGroup[] {
  for (const f of fleets) f.allowFrom(gateway, portRanges);
  return fleets.map((f) => f.securityGroup);
}
