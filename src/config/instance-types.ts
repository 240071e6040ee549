// What the hub sizes itself from: memory and documented network bandwidth of the instance types it is priced and
// tested with. Baseline is the bandwidth an instance sustains; "up to" burst bandwidth runs on credits and may stop.
// Sources: Amazon EC2 instance types guide, network specifications
// https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html#gp_network (t3, t4g, m7g)
// https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html#co_network (c7g)

export interface InstanceFacts {
  readonly vcpus: number;
  readonly memoryMiB: number;
  /** Baseline network bandwidth, Gbit/s. */
  readonly baselineGbps: number;
  /** Burst ("up to") network bandwidth, Gbit/s. */
  readonly burstGbps: number;
}

export const INSTANCE_FACTS: Readonly<Record<string, InstanceFacts>> = {
  't4g.nano': { vcpus: 2, memoryMiB: 512, baselineGbps: 0.032, burstGbps: 5 },
  't4g.micro': { vcpus: 2, memoryMiB: 1024, baselineGbps: 0.064, burstGbps: 5 },
  't4g.small': { vcpus: 2, memoryMiB: 2048, baselineGbps: 0.128, burstGbps: 5 },
  't4g.medium': { vcpus: 2, memoryMiB: 4096, baselineGbps: 0.256, burstGbps: 5 },
  't4g.large': { vcpus: 2, memoryMiB: 8192, baselineGbps: 0.512, burstGbps: 5 },
  't4g.xlarge': { vcpus: 4, memoryMiB: 16384, baselineGbps: 1.024, burstGbps: 5 },
  't3.small': { vcpus: 2, memoryMiB: 2048, baselineGbps: 0.128, burstGbps: 5 },
  't3.medium': { vcpus: 2, memoryMiB: 4096, baselineGbps: 0.256, burstGbps: 5 },
  'c7g.medium': { vcpus: 1, memoryMiB: 2048, baselineGbps: 0.52, burstGbps: 12.5 },
  'c7g.large': { vcpus: 2, memoryMiB: 4096, baselineGbps: 0.937, burstGbps: 12.5 },
  'c7g.xlarge': { vcpus: 4, memoryMiB: 8192, baselineGbps: 1.876, burstGbps: 12.5 },
  'c7g.2xlarge': { vcpus: 8, memoryMiB: 16384, baselineGbps: 3.75, burstGbps: 15 },
  'm7g.large': { vcpus: 2, memoryMiB: 8192, baselineGbps: 0.937, burstGbps: 12.5 },
};

/**
 * Squid's file descriptors on the proxies (the boot script's LimitNOFILE): a proxied connection holds two (client
 * and server side), so a proxy carries at most half as many connections.
 */
export const PROXY_FILE_DESCRIPTORS = 65_536;

/**
 * Default concurrent connections per tenant on one proxy: a quarter of the proxy's connection capacity, and no
 * more than 4 per MiB of memory (Squid holds buffers of a few tens of KiB per connection), so one tenant can never
 * take the descriptors or memory every other tenant needs.
 */
export function defaultTenantConnections(instanceType: string): number {
  const byFds = PROXY_FILE_DESCRIPTORS / 2 / 4;
  const facts = INSTANCE_FACTS[instanceType];
  return facts ? Math.min(byFds, facts.memoryMiB * 4) : byFds;
}

/**
 * The fair-share tree's root sits at this fraction of the instance's burst bandwidth: a few percent below the real
 * line, so packets queue in the tree (where tenants are told apart) and not in the hypervisor's shaper, where the
 * tenant with the most connections wins. Measured: at 0.95 of an emulated line a tenant alone got 0.98 of it and two
 * tenants split 50/50; at 1.05 or 5 times the line the tree shared nothing (docs/proposals/fair-share.md, section 4).
 */
export const LINE_RATE_FRACTION = 0.95;

/**
 * Default root rate of a proxy's fair-share tree, Mbit/s: 95 % of the instance's burst ("up to") bandwidth, so a
 * tenant alone gets everything the instance can send while it bursts. Unknown instance types get none (fair
 * sharing off unless hub.proxy.lineRateMbps is set).
 */
export function defaultLineRateMbps(instanceType: string): number | undefined {
  const facts = INSTANCE_FACTS[instanceType];
  return facts ? Math.round(facts.burstGbps * 1000 * LINE_RATE_FRACTION) : undefined;
}
