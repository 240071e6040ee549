// Valid configs that still deserve a second look: `egresshub validate` prints these (and lists them in --json),
// they never fail a command. Each says what is at risk and what to change.
import { fleetMode } from './fleet-modes';
import type { EgressPlan } from './plan';

/** What `validate` warns about in a valid plan, one line each. */
export function planWarnings(plan: EgressPlan): string[] {
  const warnings: string[] = [];
  const { hub } = plan;
  if (hub.natMode === 'one' && fleetMode(hub.proxy.mode).spansAzs) {
    // A zonal NAT gateway lives in one AZ: losing that AZ stops every proxy's egress, and the proxies' health
    // (Squid answering locally) does not see it, so no failover happens (docs/hub.md, "Quotas and limits").
    warnings.push(
      `hub.natGateways: one puts the egress of every proxy of the ${hub.proxy.mode} fleet behind one NAT gateway in ${hub.availabilityZones[0]}: ` +
        'losing that AZ stops every tenant\'s egress while every proxy stays "healthy"; set natGateways: regional (one gateway across AZs) or per-az',
    );
  }
  return warnings;
}
