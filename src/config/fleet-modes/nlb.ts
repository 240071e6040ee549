// nlb: an internal NLB over one Auto Scaling group of proxies that tracks CPU.
import type { FleetModeDescriptor } from './mode';

export const nlb = {
  name: 'nlb',
  summary: 'per AZ behind an NLB',
  describe: (azs) => `a proxy in each of ${azs} AZs behind an NLB`,
  fixedProxyAzs: () => [],
  drain: 'nlb',
  labRouting: 'spread',
  nlbHealthListener: true,
  spansAzs: true,
  cost: { proxies: (azs) => azs, fixedProxies: () => 0, autoScalingGroups: () => 1, loadBalancer: true },
  replacement: 'rolling',
} as const satisfies FleetModeDescriptor<'nlb'>;
