// The plan: every derived value (names, ports, subnet sizes, normalised allowlists) decided once
// from the validated config. The hub, spoke, policy, lab and CLI read these values and never
// recompute them, so a tenant's port or a resource's name cannot drift between parts.
import { fleetMode, type ProxyMode } from './fleet-modes';
import { UsageError } from './errors';
import { defaultLineRateMbps, defaultTenantConnections } from './instance-types';
import {
  DEFAULT_INSTANCE_TYPES,
  DEFAULT_TARGET_CPU_PERCENT,
  SHARED_PORT,
  SHARED_TENANT,
  subnetPrefix,
  type EgressConfig,
  type NatGatewayMode,
  type TenantMode,
} from './schema';

/** A tenant's destinations: `*` (any), or the domains it may reach. */
export type Allowlist =
  | { readonly any: true }
  | {
      readonly any: false;
      /** Exact host names, lowercase, no trailing dot. */
      readonly exact: readonly string[];
      /** Parent domains whose subdomains are allowed (`*.github.com` → `github.com`). */
      readonly suffixes: readonly string[];
    };

/** A tenant's share of one proxy. */
export interface TenantLimits {
  /** Concurrent connections to the tenant's port; the next one is refused with a TCP reset. */
  readonly connections: number;
  /** The tenant's weight in the fair share of a busy proxy (1 to 10). */
  readonly weight: number;
  /** An absolute ceiling on the tenant's traffic through the proxy, Mbit/s, even when idle; undefined = none. */
  readonly bandwidthMbps?: number;
}

/** One tenant's derived values: port, normalised allowlist, limits, configuration name, stack. */
export interface TenantPlan {
  readonly name: string;
  /** The tenant's listener: its resource configuration's only port and its Squid http_port. */
  readonly port: number;
  /** RAM share principals outside the hub account; empty means no share is needed. */
  readonly sharePrincipals: readonly string[];
  readonly allow: Allowlist;
  /** `enforce` denies what the allowlist (and the SNI check) does not admit; `audit` logs it as would-deny. */
  readonly mode: TenantMode;
  /** The tenant opted in to metrics of its own (dimension `Tenant`); every tenant is in the hub-wide ones. */
  readonly metrics: boolean;
  /** What one proxy allows this tenant (docs/hub.md, "Tenant isolation"). */
  readonly limits: TenantLimits;
  /** Destination ports CONNECT may reach with TLS: the proxy peeks at the ClientHello and checks its SNI. */
  readonly connectPorts: readonly number[];
  /**
   * Destination ports CONNECT may reach without TLS (`{ port, tls: false }` in the config): a raw tunnel, so
   * nothing inside it is checked, only the CONNECT line.
   */
  readonly rawTunnelPorts: readonly number[];
  /** Destination ports plain HTTP may reach. */
  readonly httpPorts: readonly number[];
  /** Name of the tenant's AWS::VpcLattice::ResourceConfiguration. */
  readonly resourceConfigurationName: string;
  /** True for the single shared configuration used when the config lists no tenants. */
  readonly implicit: boolean;
  /**
   * The tenant's stable proxy name (`<tenant>.<dns.domain>`), the custom domain name of its resource
   * configuration; undefined without a `dns` section (then the endpoint's generated name is used).
   */
  readonly proxyHost?: string;
  /** The stack that holds this tenant's resource configuration and share (see TenantStackPlan). */
  readonly stack: string;
}

/**
 * Tenant resources live in stacks of their own, one per block of TENANT_PORT_BLOCK ports: a tenant's
 * port never changes, so neither does its stack (moving a resource between stacks replaces it), and a
 * block holds at most TENANT_PORT_BLOCK tenants, which keeps every stack far inside CloudFormation's
 * limits (500 resources, 200 outputs) however many tenants the hub has.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 */
export interface TenantStackPlan {
  /** Construct ID, e.g. `Tenants-3200`. */
  readonly id: string;
  readonly stackName: string;
  readonly firstPort: number;
  readonly lastPort: number;
  /** Tenant names, in port order. */
  readonly tenants: readonly string[];
}

/** Ports per tenant stack: 50 tenants × (configuration + share + 3 outputs) stays under 200 outputs. */
export const TENANT_PORT_BLOCK = 50;
/** The config's dns section, planned: the domain of the tenants' proxy names and where it is verified. */
export interface DnsPlan {
  readonly domain: string;
  /** Verified: a public domain the organisation owns, proven with a TXT record in this hosted zone. */
  readonly publicHostedZoneId?: string;
}

/** One spoke's derived values: its VPC, tenant, stack name and whether it is in another account. */
export interface SpokePlan {
  /** Stable identifier: tenant and VPC. */
  readonly id: string;
  readonly tenant: string;
  readonly account: string;
  readonly region: string;
  readonly vpcId: string;
  /** The VPC's primary CIDR block (vpcCidrs[0]). */
  readonly vpcCidr: string;
  /** Every CIDR block of the VPC, primary first: the endpoint admits each. */
  readonly vpcCidrs: readonly string[];
  readonly subnetIds: readonly string[];
  readonly stackName: string;
  /** True when the spoke lives in another account than the hub (needs the RAM share accepted). */
  readonly crossAccount: boolean;
  /** Instances with this tag are pointed at the proxy by a State Manager association (docs/client.md). */
  readonly clientSetup?: {
    readonly tag: { readonly key: string; readonly value: string };
    readonly noProxy: readonly string[];
    readonly s3: boolean;
  };
}

/** The hub's derived values: VPC layout, proxy fleet, gateway and log names, stack name. */
export interface HubPlan {
  readonly stackName: string;
  readonly cidr: string;
  readonly availabilityZones: readonly string[];
  /** `nat`: proxies in private subnets behind NAT gateways; `public`: proxies in public subnets with Elastic IPs. */
  readonly egress: 'nat' | 'public';
  /** NAT gateways the hub runs: 0 with `egress: public`, else 1 (`one`, `regional`) or one per AZ. */
  readonly natGateways: number;
  /** How the private subnets reach the internet: `none` with `egress: public`, else `hub.natGateways` (default `one`). */
  readonly natMode: 'none' | NatGatewayMode;
  /** Prefix length of every hub subnet (one public and one private per AZ). */
  readonly subnetPrefix: number;
  readonly proxy: ProxyPlan;
  readonly logRetentionDays: number;
  readonly resourceGatewayName: string;
  /**
   * The tenant ports merged into contiguous ranges: one security group rule per range instead of one per
   * tenant (a group holds 60 inbound rules by default), so contiguous tenant ports scale to any count.
   */
  readonly listenerPortRanges: readonly (readonly [number, number])[];
  /** CloudWatch Logs groups the proxies' CloudWatch agent ships Squid's logs to (docs/operations.md). */
  readonly logGroups: {
    /** Every hub log group starts with this; the log key admits CloudWatch Logs for `<prefix>*` only. */
    readonly prefix: string;
    readonly flow: string;
    readonly access: string;
    readonly cache: string;
  };
  /**
   * Namespace of the metrics the access-log metric filters publish: hub-wide (no dimension) and, for the tenants
   * that opted in, per tenant (dimension `Tenant`).
   */
  readonly metricNamespace: string;
  /**
   * The fixed proxies' health signal: each proxy publishes `metricName` = 1 (Squid answered the probe and
   * the proxy is not draining) or 0, with dimension `dimension` = its FixedProxyPlan id, every
   * `intervalSeconds`. multi-az alarms on it (missing data = unhealthy) and Route 53 health checks read
   * the alarms. `drainFile` on the instance turns the signal to 0 (policy rollout, docs/operations.md).
   */
  readonly proxyHealth: {
    readonly namespace: string;
    readonly metricName: string;
    readonly dimension: string;
    readonly intervalSeconds: number;
    readonly drainFile: string;
    /**
     * The egress check (hub.egressCheck): host and port each proxy connects to, and the hub-wide series its
     * results go to (`dimension=dimensionValue`, 1-second resolution) that peers read back over `windowSeconds`.
     */
    readonly egress: {
      readonly host: string;
      readonly port: number;
      readonly metricName: string;
      readonly dimension: string;
      readonly dimensionValue: string;
      readonly windowSeconds: number;
    };
  };
  readonly alarms: { readonly email?: string; readonly topicArn?: string; readonly deniedRequestsPer5Minutes: number };
}

/** One fixed proxy (single and multi-az modes): an Auto Scaling group of one that claims a fixed ENI in its AZ. */
export interface FixedProxyPlan {
  /** Construct ID, from the AZ's letter, so reordering or adding AZs never renames a proxy: `ProxyA`. */
  readonly id: string;
  readonly availabilityZone: string;
  /** Index of the AZ in hub.availabilityZones (and of its subnets). */
  readonly azIndex: number;
}

/** What every fleet mode's plan has. */
interface ProxyPlanBase {
  readonly instanceType: string;
  /** Squid SMP workers per proxy (`workers` in squid.conf when above 1). */
  readonly workers: number;
  /**
   * The root rate of each proxy's fair-share tree (HTB), Mbit/s; undefined = fair sharing off (no tree). Busy
   * tenants share it by weight; a tenant alone may use all of it.
   */
  readonly lineRateMbps?: number;
  readonly architecture: 'arm64' | 'x86_64';
  /** hub.proxy.image: a pinned AMI. @default - Amazon Linux 2023, looked up once and recorded in cdk.context.json */
  readonly imageId?: string;
  /** The fixed proxies: the first AZ's in single mode, one per AZ in multi-az mode, none with nlb. */
  readonly fixed: readonly FixedProxyPlan[];
}

/** single: one self-healing proxy whose fixed address the resource configurations target. */
export interface SingleProxyPlan extends ProxyPlanBase {
  readonly mode: 'single';
}

/** multi-az: one fixed proxy per AZ behind a failover name. */
export interface MultiAzProxyPlan extends ProxyPlanBase {
  readonly mode: 'multi-az';
  /**
   * The name the resource configurations target (a DNS resource), answered from a private hosted zone in the hub
   * VPC with failover records over the fixed proxies (docs/hub.md#fleet-modes).
   */
  readonly failoverName: { readonly zone: string; readonly name: string; readonly ttlSeconds: number };
}

/** nlb: an internal NLB over a scaling group. */
export interface NlbProxyPlan extends ProxyPlanBase {
  readonly mode: 'nlb';
  /** The Auto Scaling group's bounds and CPU target. */
  readonly scaling: { readonly min: number; readonly max: number; readonly targetCpuPercent: number };
}

/** The proxy fleet, one shape per mode: each mode carries exactly its own fields. */
export type ProxyPlan = SingleProxyPlan | MultiAzProxyPlan | NlbProxyPlan;
// Every mode of the list has a plan shape and every shape is a mode of the list (a compile error otherwise).
const _planShapeForEveryMode: [ProxyPlan['mode'], ProxyMode] extends [ProxyMode, ProxyPlan['mode']] ? true : never = true;
void _planShapeForEveryMode;

/** The failover name of a plan whose mode has one (multi-az), else undefined. */
export function failoverNameOf(proxy: ProxyPlan): MultiAzProxyPlan['failoverName'] | undefined {
  return 'failoverName' in proxy ? proxy.failoverName : undefined;
}

/** TTL of the multi-az failover records: short, so a withdrawn proxy leaves resolvers' caches quickly. */
export const FAILOVER_TTL_SECONDS = 10;

/** Everything derived from a config, decided once: the hub, every tenant and spoke, the stacks, all names. */
export interface EgressPlan {
  readonly name: string;
  readonly region: string;
  readonly account: string;
  readonly hub: HubPlan;
  readonly dns?: DnsPlan;
  readonly tenants: readonly TenantPlan[];
  readonly tenantStacks: readonly TenantStackPlan[];
  readonly spokes: readonly SpokePlan[];
}

/** Graviton instance families carry a `g` after the generation digit (t4g, m7gd, c6gn). */
export function architectureOf(instanceType: string): 'arm64' | 'x86_64' {
  const family = instanceType.split('.')[0]!;
  return /^[a-z]+\d+[a-z]*g[a-z]*$/.test(family) ? 'arm64' : 'x86_64';
}

/**
 * True when `name` or one of its parents is in `suffixes` (`a.b.example.com` is under `example.com`); with
 * `self: false` only a proper parent counts. One Set probe per label, so checking every entry of an allowlist
 * is linear in its size, not quadratic.
 */
export function underSuffix(name: string, suffixes: ReadonlySet<string>, self = true): boolean {
  if (self && suffixes.has(name)) return true;
  for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1)) if (suffixes.has(name.slice(i + 1))) return true;
  return false;
}

/** Lowercases, drops trailing dots and duplicates, and removes names already covered by a suffix. */
export function normaliseAllowlist(allow: '*' | readonly string[]): Allowlist {
  if (allow === '*') return { any: true };
  const clean = [...new Set(allow.map((d) => d.toLowerCase().replace(/\.$/, '')))];
  const suffixes = new Set(clean.filter((d) => d.startsWith('*.')).map((d) => d.slice(2)));
  return {
    any: false,
    exact: clean.filter((d) => !d.startsWith('*.') && !underSuffix(d, suffixes)).sort(),
    suffixes: [...suffixes].filter((s) => !underSuffix(s, suffixes, false)).sort(),
  };
}

const sortedPorts = (ports: readonly number[]) => [...new Set(ports)].sort((a, b) => a - b);

/** Decides every derived value (names, ports, stacks, subnet sizes, allowlists) from a validated config. */
export function buildPlan(config: EgressConfig): EgressPlan {
  const { name, region, account } = config;
  const tenants: TenantPlan[] =
    config.tenants.length === 0
      ? [
          {
            name: SHARED_TENANT,
            port: SHARED_PORT,
            sharePrincipals: [],
            allow: { any: true },
            mode: 'enforce',
            metrics: false,
            limits: tenantLimitsOf(config),
            connectPorts: [443],
            rawTunnelPorts: [],
            httpPorts: [80],
            resourceConfigurationName: `${name}-${SHARED_TENANT}`,
            implicit: true,
            stack: tenantStackName(name, SHARED_PORT),
          },
        ]
      : config.tenants.map((t) => ({
          name: t.name,
          port: t.port,
          sharePrincipals: [...new Set(t.accounts.filter((a) => a !== account))],
          allow: normaliseAllowlist(t.allow),
          mode: t.mode,
          metrics: t.metrics,
          limits: tenantLimitsOf(config, t.limits),
          connectPorts: sortedPorts(t.connectPorts.filter((p) => typeof p === 'number')),
          rawTunnelPorts: sortedPorts(t.connectPorts.flatMap((p) => (typeof p === 'number' ? [] : [p.port]))),
          httpPorts: sortedPorts(t.httpPorts),
          resourceConfigurationName: `${name}-${t.name}`,
          implicit: false,
          stack: tenantStackName(name, t.port),
        }));
  const hubPrefix = Number(config.hub.cidr.split('/')[1]);
  const dns: DnsPlan | undefined = config.dns && { domain: config.dns.domain, publicHostedZoneId: config.dns.verify?.publicHostedZoneId };
  return {
    name,
    region,
    account,
    hub: {
      stackName: `${name}-hub`,
      cidr: config.hub.cidr,
      availabilityZones: [...config.hub.availabilityZones],
      egress: config.hub.egress,
      natGateways: config.hub.egress === 'public' ? 0 : config.hub.natGateways === 'per-az' ? config.hub.availabilityZones.length : 1,
      natMode: config.hub.egress === 'public' ? 'none' : (config.hub.natGateways ?? 'one'),
      subnetPrefix: subnetPrefix(hubPrefix, config.hub.availabilityZones.length),
      proxy: proxyPlanOf(name, config),
      logRetentionDays: config.hub.logRetentionDays,
      resourceGatewayName: resourceGatewayNameOf(name, config.hub.gatewayGeneration),
      listenerPortRanges: portRanges(tenants.map((t) => t.port)),
      logGroups: {
        prefix: `/egresshub/${name}-hub/`,
        flow: `/egresshub/${name}-hub/flow-logs`,
        access: `/egresshub/${name}-hub/squid/access`,
        cache: `/egresshub/${name}-hub/squid/cache`,
      },
      metricNamespace: `egresshub/${name}`,
      proxyHealth: {
        namespace: `egresshub/${name}`,
        metricName: 'ProxyHealthy',
        dimension: 'Proxy',
        intervalSeconds: HEALTH_INTERVAL_SECONDS,
        drainFile: '/run/egresshub/drain',
        egress: egressCheckOf(config, region, name),
      },
      alarms: { ...config.hub.alarms },
    },
    dns,
    tenantStacks: tenantStacksOf(name, tenants),
    tenants: dns ? tenants.map((t) => ({ ...t, proxyHost: `${t.name}.${dns.domain}` })) : tenants,
    spokes: config.spokes.map((s) => ({
      id: `${s.tenant}-${s.vpcId}`,
      tenant: s.tenant,
      account: s.account,
      region,
      vpcId: s.vpcId,
      vpcCidr: (s.vpcCidrs ?? [s.vpcCidr])[0] ?? '',
      vpcCidrs: s.vpcCidrs ?? (s.vpcCidr === undefined ? [] : [s.vpcCidr]),
      subnetIds: [...s.subnetIds],
      stackName: `${name}-spoke-${s.tenant}-${s.vpcId}`,
      crossAccount: s.account !== account,
      clientSetup: s.clientSetup && { tag: { ...s.clientSetup.tag }, noProxy: [...s.clientSetup.noProxy], s3: s.clientSetup.s3 },
    })),
  };
}

/** A tenant's own limits over the hub's, over the defaults sized from the proxy instance type. */
function tenantLimitsOf(config: EgressConfig, own: { connections?: number; weight?: number; bandwidthMbps?: number } = {}): TenantLimits {
  const instanceType = config.hub.proxy.instanceType ?? DEFAULT_INSTANCE_TYPES[config.hub.proxy.mode];
  const hub = config.hub.tenantLimits;
  // 0 in the config: no ceiling.
  const chosen = own.bandwidthMbps ?? hub.bandwidthMbps ?? 0;
  return {
    connections: own.connections ?? hub.connections ?? defaultTenantConnections(instanceType),
    weight: own.weight ?? hub.weight ?? 1,
    ...(chosen === 0 ? {} : { bandwidthMbps: chosen }),
  };
}

function proxyPlanOf(name: string, config: EgressConfig): ProxyPlan {
  const { mode, scaling } = config.hub.proxy;
  const azs = config.hub.availabilityZones;
  const instanceType = config.hub.proxy.instanceType ?? DEFAULT_INSTANCE_TYPES[mode];
  const fixedAzs = fleetMode(mode).fixedProxyAzs(azs);
  const fixed = fixedAzs.map((az, azIndex) => ({
    id: `Proxy${az.slice(config.region.length).toUpperCase()}`,
    availabilityZone: az,
    azIndex,
  }));
  // 0 in the config: fair sharing off.
  const lineRateMbps = config.hub.proxy.lineRateMbps ?? defaultLineRateMbps(instanceType);
  const base = {
    instanceType,
    workers: config.hub.proxy.workers,
    ...(lineRateMbps ? { lineRateMbps } : {}),
    architecture: architectureOf(instanceType),
    imageId: config.hub.proxy.image,
    fixed,
  };
  switch (mode) {
    case 'multi-az': {
      const zone = `${name}-hub.egresshub.internal`;
      return { ...base, mode, failoverName: { zone, name: `proxy.${zone}`, ttlSeconds: FAILOVER_TTL_SECONDS } };
    }
    case 'nlb': {
      const min = scaling?.min ?? azs.length;
      return {
        ...base,
        mode,
        scaling: {
          min,
          max: scaling?.max ?? Math.max(min, 2 * azs.length),
          targetCpuPercent: scaling?.targetCpuPercent ?? DEFAULT_TARGET_CPU_PERCENT,
        },
      };
    }
    case 'single':
      return { ...base, mode };
  }
}

function blockStart(port: number): number {
  return Math.floor(port / TENANT_PORT_BLOCK) * TENANT_PORT_BLOCK;
}

function tenantStackName(name: string, port: number): string {
  return `${name}-tenants-${blockStart(port)}`;
}

function tenantStacksOf(name: string, tenants: readonly TenantPlan[]): TenantStackPlan[] {
  const blocks = new Map<number, TenantPlan[]>();
  for (const t of [...tenants].sort((a, b) => a.port - b.port)) {
    const start = blockStart(t.port);
    blocks.set(start, [...(blocks.get(start) ?? []), t]);
  }
  return [...blocks.entries()].map(([start, members]) => ({
    id: `Tenants-${start}`,
    stackName: tenantStackName(name, start),
    firstPort: start,
    lastPort: start + TENANT_PORT_BLOCK - 1,
    tenants: members.map((t) => t.name),
  }));
}

/** Sorted ports merged into inclusive [from, to] ranges of consecutive numbers. */
export function portRanges(ports: readonly number[]): [number, number][] {
  const ranges: [number, number][] = [];
  for (const p of [...new Set(ports)].sort((a, b) => a - b)) {
    const last = ranges[ranges.length - 1];
    if (last && p === last[1] + 1) last[1] = p;
    else ranges.push([p, p]);
  }
  return ranges;
}

/** The tenant named `name`, or a usage error listing the known ones. */
export function findTenant(plan: EgressPlan, name: string): TenantPlan {
  const t = plan.tenants.find((x) => x.name === name);
  if (!t)
    throw new TenantNotFoundError(
      name,
      plan.tenants.map((x) => x.name),
    );
  return t;
}

/** A tenant name the config does not have; names the ones it has. */
export class TenantNotFoundError extends UsageError {
  constructor(name: string, known: string[]) {
    super(`unknown tenant "${name}"; tenants in this config: ${known.join(', ')}`);
  }
}

/**
 * The resource gateway's name: AWS requires one (CreateResourceGateway), unique in the account, and the
 * registry marks Name create-only. Generation 1 is the name hubs were always deployed with, so upgrading
 * renames (and replaces) nothing; a gateway-replacing change raises the generation, and the replacement,
 * created before the old gateway is deleted, gets a name of its own.
 */
export function resourceGatewayNameOf(name: string, generation: number): string {
  return generation <= 1 ? `${name}-gateway` : `${name}-gateway-g${generation}`;
}

/** How often each fixed proxy publishes its health (and runs its egress check). */
export const HEALTH_INTERVAL_SECONDS = 20;

/**
 * The egress check's target: hub.egressCheck.target, else the Region's AWS STS endpoint. That name is AWS's own,
 * public, regional and highly available, answers a TCP connection without a request (so without a charge), and is
 * no VPC endpoint unless one is added to the hub VPC (then it resolves to a private address, which the check
 * refuses rather than mistake for a way out).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_region-endpoints.html
 */
function egressCheckOf(config: EgressConfig, region: string, name: string): EgressPlan['hub']['proxyHealth']['egress'] {
  const target = config.hub.egressCheck.target ?? `sts.${region}.amazonaws.com:443`;
  const colon = target.lastIndexOf(':');
  return {
    host: target.slice(0, colon).toLowerCase(),
    port: Number(target.slice(colon + 1)),
    metricName: 'EgressOk',
    dimension: 'Hub',
    dimensionValue: name,
    // One publication of every peer: their result from the last run, not from before a fault that hit them all.
    windowSeconds: HEALTH_INTERVAL_SECONDS,
  };
}
