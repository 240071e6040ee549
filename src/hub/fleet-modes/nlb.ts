// nlb: an internal NLB (one listener and target group per tenant port) over one scaling group of proxies that
// tracks CPU; the resource configurations target the NLB's name.
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { NlbProxyPlan } from '../../config/plan';
import { NlbFront } from '../nlb-front';
import { addNlbAlarms, nlbWidgets, type HubObservability } from '../observability';
import { ScalingProxyFleet, type FixedProxy, type ProxyFleet } from '../proxy-fleet';
import type { ProxyTarget } from '../tenant-endpoints';
import type { FleetMode, FleetModeContext } from './fleet-mode';

export class NlbProxyMode implements FleetMode {
  readonly fleets: readonly ProxyFleet[];
  readonly fixedProxies: ReadonlyMap<string, FixedProxy> = new Map();
  readonly targetDescription = 'answered by the internal NLB';
  readonly nlb: NlbFront;
  readonly failoverDns = undefined;
  readonly loadBalancer: elbv2.NetworkLoadBalancer;

  constructor(
    private readonly ctx: FleetModeContext,
    private readonly plan: NlbProxyPlan,
  ) {
    const { scaling } = plan;
    const ports = ctx.plan.tenants.map((t) => t.port);
    this.nlb = new NlbFront(ctx.scope, 'Nlb', { vpc: ctx.vpc, subnets: ctx.privateSubnets, ports });
    const fleet = new ScalingProxyFleet(ctx.scope, 'Proxies', {
      ...ctx.common,
      subnets: ctx.privateSubnets,
      capacity: { min: scaling.min, max: scaling.max },
      // The egress check: a proxy whose way out fails while another's works refuses the NLB's health check.
      health: { id: 'Proxies', settings: ctx.plan.hub.proxyHealth, nlbHealthPort: this.nlb.healthCheckPort },
    });
    this.nlb.forwardTo(fleet, ctx.plan.hub.listenerPortRanges);
    fleet.allowNlbDrain([...this.nlb.targetGroups.values()].map((tg) => tg.targetGroupArn));
    // Target tracking on the group's average CPU (ASGAverageCPUUtilization): CPU is where Squid saturated in the
    // lab while its memory stayed under 130 MiB (docs/benchmarks.md), and a non-burstable type reports it honestly.
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html
    fleet.autoScalingGroup.scaleOnCpuUtilization('CpuTracking', { targetUtilizationPercent: scaling.targetCpuPercent });
    this.fleets = [fleet];
    this.loadBalancer = this.nlb.loadBalancer;
  }

  /** gateway → NLB group on tenant ports (the NLB's group then reaches the instances: NlbFront.forwardTo). */
  admitGateway(gateway: ec2.SecurityGroup, portRanges: readonly (readonly [number, number])[]): ec2.ISecurityGroup[] {
    this.nlb.allowFrom(gateway, portRanges);
    return [this.nlb.securityGroup];
  }

  /** The NLB's alarms: a target group without a healthy proxy (per AZ when min keeps one in each), an unhealthy proxy. */
  addAlarms(observability: HubObservability): void {
    const perAz = this.plan.scaling.min >= this.ctx.plan.hub.availabilityZones.length;
    addNlbAlarms(observability, this.ctx.plan, this.loadBalancer, perAz);
  }

  dashboardWidgets(autoScalingGroups: readonly autoscaling.AutoScalingGroup[]): cloudwatch.IWidget[] {
    return nlbWidgets(this.loadBalancer, autoScalingGroups);
  }

  target(): ProxyTarget {
    return { dnsName: this.nlb.dnsName };
  }
}
