// multi-az: one fixed proxy per AZ behind a failover name in a hub-private zone: Route 53 failover records over
// the proxies' health alarms, so the name answers the first healthy proxy (docs/hub.md#fleet-modes). A terminating
// proxy is held while the name moves away from it.
import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { MultiAzProxyPlan } from '../../config/plan';
import { FailoverDns } from '../failover-dns';
import type { HubObservability } from '../observability';
import type { FixedProxy, ProxyFleet } from '../proxy-fleet';
import type { ProxyTarget } from '../tenant-endpoints';
import { admitOnListeners, fixedProxies, type FleetMode, type FleetModeContext } from './fleet-mode';

export class MultiAzProxyMode implements FleetMode {
  readonly fleets: readonly ProxyFleet[];
  readonly fixedProxies: ReadonlyMap<string, FixedProxy>;
  readonly targetDescription = 'answered by the failover name';
  readonly nlb = undefined;
  /** The private hosted zone with the failover records, once target() built it. */
  failoverDns: FailoverDns | undefined;

  constructor(
    private readonly ctx: FleetModeContext,
    private readonly plan: MultiAzProxyPlan,
  ) {
    // Another proxy can take a terminating proxy's connections: hold it while the failover name moves away.
    this.fixedProxies = fixedProxies(ctx, plan.fixed, true);
    this.fleets = [...this.fixedProxies.values()];
  }

  admitGateway(gateway: ec2.SecurityGroup, portRanges: readonly (readonly [number, number])[]): ec2.ISecurityGroup[] {
    return admitOnListeners(this.fleets, gateway, portRanges);
  }

  /** The proxies' health alarms (which the failover records read) are the hub's (HubObservability). */
  addAlarms(): void {}

  dashboardWidgets(): cloudwatch.IWidget[] {
    return [];
  }

  target(observability: HubObservability): ProxyTarget {
    const { failoverName } = this.plan;
    this.failoverDns = new FailoverDns(this.ctx.scope, 'FailoverDns', {
      vpc: this.ctx.vpc,
      zoneName: failoverName.zone,
      name: failoverName.name,
      ttl: Duration.seconds(failoverName.ttlSeconds),
      proxies: this.plan.fixed.map((f) => {
        const fleet = this.fixedProxies.get(f.id);
        const healthAlarm = observability.proxyHealthAlarms.get(f.id);
        if (!fleet || !healthAlarm) throw new Error(`multi-az: ${f.id} has no fleet or no health alarm`);
        return { id: f.id, ip: fleet.targetIp, healthAlarm };
      }),
    });
    return { dnsName: this.failoverDns.domainName };
  }
}
