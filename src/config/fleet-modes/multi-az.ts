// multi-az: one fixed proxy per AZ behind a failover name (Route 53 failover records over their health alarms).
import type { FleetModeDescriptor } from './mode';

export const multiAz = {
  name: 'multi-az',
  summary: 'one per AZ',
  describe: (azs) => `a proxy in each of ${azs} AZs`,
  fixedProxyAzs: (azs) => azs,
  drain: 'health',
  labRouting: 'failover',
  nlbHealthListener: false,
  spansAzs: true,
  cost: { proxies: (azs) => azs, fixedProxies: (azs) => azs, autoScalingGroups: (azs) => azs, loadBalancer: false },
  replacement: 'rolling',
} as const satisfies FleetModeDescriptor<'multi-az'>;
