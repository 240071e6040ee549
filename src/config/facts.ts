// The numbers, ports and address rules that the config schema (schema.ts) and its cross-field checks (checks.ts)
// share: AWS limits and quotas, reserved ports, the hub's address space. A module of its own so that checks.ts reads
// them without importing schema.ts, which runs the checks (no module cycle). schema.ts re-exports all of it.
import { Address4 } from 'ip-address';
import type { ProxyMode } from './fleet-modes';

/** Squid and egresshub keep these ports for themselves; tenants may not take them. */
export const RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
  [3128, 'the shared port used when no tenants are configured'],
  [3129, "the proxies' NLB health-check listener in mode nlb (NLB_HEALTH_PORT), reserved in every mode so a switch to nlb never collides"],
  [3130, "Squid's ICP port"],
  [3401, "Squid's SNMP port"],
  [4827, "Squid's HTCP port"],
]);

/** The port of the single shared configuration when the config lists no tenants (as in the write-up). */
export const SHARED_PORT = 3128;

export const MIN_TENANT_PORT = 1024;

export const MAX_TENANT_PORT = 65535;

/** Hub VPC prefix lengths we accept: AWS allows /16–/28, but the subnets must hold gateway ENIs. */
export const HUB_PREFIX_MIN = 16;

export const HUB_PREFIX_MAX = 24;

/** Smallest subnet that still holds a resource gateway ENI's 16 default IPs plus proxies (/26 = 59 usable). */
export const MAX_SUBNET_PREFIX = 26;

/**
 * Instance type per mode when the config names none. Fixed proxies (single, multi-az) each carry the whole
 * load alone after a failover, and egress is mostly light: a burstable Graviton. Behind an NLB the fleet
 * scales out on CPU, so a non-burstable type keeps the CPU metric honest (no credit cliff).
 */
export const DEFAULT_INSTANCE_TYPES: Readonly<Record<ProxyMode, string>> = {
  single: 't4g.small',
  'multi-az': 't4g.small',
  nlb: 'c7g.large',
};

/**
 * An NLB holds at most 50 listeners (not adjustable), and nlb mode gives every tenant port its listener.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-limits.html
 */
export const NLB_MAX_LISTENERS = 50;

/**
 * With cross-zone load balancing on (nlb mode turns it on), an NLB holds at most 500 targets whatever its AZ count,
 * and an instance registered in N target groups counts N times. nlb mode registers every proxy in every tenant
 * port's target group, so tenants x scaling.max must stay within it. Adjustable by a quota increase; egresshub
 * checks the default.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-limits.html
 */
export const NLB_MAX_TARGETS = 500;

/** Whether two IPv4 CIDR blocks share an address (blocks either nest or are disjoint). */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = new Address4(a);
  const y = new Address4(b);
  return x.isInSubnet(y) || y.isInSubnet(x);
}

export function isCidr4(value: string): boolean {
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(value) || !Address4.isValid(value)) return false;
  const a = new Address4(value);
  // A CIDR with host bits set (10.0.1.0/16) is almost always a typo; make the user say what they mean.
  return a.startAddress().correctForm() === a.addressMinusSuffix;
}

/**
 * Where a hub VPC may live: RFC 1918 private space and RFC 6598 shared space (100.64.0.0/10). The
 * policy already denies all of these as destinations, so the hub-range deny rule never blocks a
 * public destination. https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html
 */
export const PRIVATE_HUB_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'] as const;

export function isPrivateCidr4(value: string): boolean {
  if (!isCidr4(value)) return false;
  const block = new Address4(value);
  return PRIVATE_HUB_RANGES.some((r) => block.isInSubnet(new Address4(r)));
}

/**
 * Per-tenant metrics (a tenant's `metrics: true`) come from one metric filter per metric whose pattern lists the
 * opted-in tenants by name; a filter pattern holds at most 1,024 characters, and every opted-in tenant is 4 billed
 * custom metrics. 20 tenants of the longest names (24 characters) fit the pattern: 80 custom metrics.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html
 */
export const MAX_METRIC_TENANTS = 20;

/**
 * "Resource configurations per Region" (Amazon VPC Lattice), the default quota: each tenant is one resource
 * configuration, and the quota counts every configuration in the account's Region, not only this hub's.
 * https://docs.aws.amazon.com/vpc-lattice/latest/ug/quotas.html
 */
export const DEFAULT_RESOURCE_CONFIGURATIONS_QUOTA = 2000;

/** Name of the implicit tenant when the config lists none. */
export const SHARED_TENANT = 'shared';

/** Prefix length of each hub subnet: the hub block split evenly into one public + one private subnet per AZ. */
export function subnetPrefix(hubPrefix: number, azCount: number): number {
  return hubPrefix + Math.ceil(Math.log2(2 * azCount));
}
