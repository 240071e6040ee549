// The fleet modes: fleetModeFor picks the plan's.
import type { ProxyPlan } from '../../config/plan';
import type { FleetMode, FleetModeContext } from './fleet-mode';
import { MultiAzProxyMode } from './multi-az';
import { NlbProxyMode } from './nlb';
import { SingleProxyMode } from './single';

export * from './fleet-mode';
export { MultiAzProxyMode, NlbProxyMode, SingleProxyMode };

/** The mode class for the plan's fleet; each builds its proxies in `ctx.scope` as it is constructed. */
export function fleetModeFor(ctx: FleetModeContext, proxy: ProxyPlan): FleetMode {
  switch (proxy.mode) {
    case 'single':
      return new SingleProxyMode(ctx, proxy);
    case 'multi-az':
      return new MultiAzProxyMode(ctx, proxy);
    case 'nlb':
      return new NlbProxyMode(ctx, proxy);
  }
}
