// single: one self-healing proxy whose fixed address the resource configurations target.
import type { FleetModeDescriptor } from './mode';

export const single = {
  name: 'single',
  summary: 'one instance',
  describe: () => 'one proxy instance',
  fixedProxyAzs: (azs) => azs.slice(0, 1),
  drain: 'none',
  labRouting: 'failover',
  nlbHealthListener: false,
  spansAzs: false,
  cost: { proxies: () => 1, fixedProxies: () => 1, autoScalingGroups: () => 1, loadBalancer: false },
  replacement: 'interruption',
} as const satisfies FleetModeDescriptor<'single'>;
