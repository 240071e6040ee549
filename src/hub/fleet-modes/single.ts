// single: one self-healing proxy (an Auto Scaling group of one with a fixed ENI); the resource configurations
// target the ENI's address. Nothing to drain to when it is replaced.
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { SingleProxyPlan } from '../../config/plan';
import type { FixedProxy, ProxyFleet } from '../proxy-fleet';
import type { ProxyTarget } from '../tenant-endpoints';
import { admitOnListeners, fixedProxies, type FleetMode, type FleetModeContext } from './fleet-mode';

export class SingleProxyMode implements FleetMode {
  readonly fleets: readonly ProxyFleet[];
  readonly fixedProxies: ReadonlyMap<string, FixedProxy>;
  readonly targetDescription = 'the resource configurations target it';
  readonly nlb = undefined;
  readonly failoverDns = undefined;
  private readonly proxy: FixedProxy;

  constructor(ctx: FleetModeContext, plan: SingleProxyPlan) {
    const fixed = fixedProxies(ctx, plan.fixed, false);
    const [proxy] = fixed.values();
    if (!proxy) throw new Error('single mode plans exactly one fixed proxy');
    this.proxy = proxy;
    this.fixedProxies = fixed;
    this.fleets = [proxy];
  }

  admitGateway(gateway: ec2.SecurityGroup, portRanges: readonly (readonly [number, number])[]): ec2.ISecurityGroup[] {
    return admitOnListeners(this.fleets, gateway, portRanges);
  }

  /** The proxy's health and capacity alarms are the hub's (HubObservability): nothing of its own. */
  addAlarms(): void {}

  dashboardWidgets(): cloudwatch.IWidget[] {
    return [];
  }

  target(): ProxyTarget {
    return { ip: this.proxy.targetIp };
  }
}
