// The config as typed props, for CDK apps that build an egress hub from code instead of egresshub.yaml.
// Field for field the shape of the YAML file (docs/config.md), written out as interfaces so every field
// carries its documentation and default into the published .d.ts, as aws-cdk-lib's props do. The zod
// schema (schema.ts) stays the one validator: test/library/props.test.ts proves at compile time that these
// interfaces and the schema's input type are the same type, so neither can change alone.
import type { ProxyMode } from './fleet-modes';

/**
 * Limits on what one tenant may use of one proxy: concurrent connections (nftables on the tenant's listener
 * port), its weight in the fair share of the proxy's bandwidth and an optional bandwidth ceiling (an HTB class
 * each). See docs/hub.md, "Tenant isolation".
 */
export interface TenantLimitsConfig {
  /**
   * Concurrent connections to the tenant's port on each proxy; the next one is refused with a TCP reset.
   * 1 to 32,768.
   * @default - a quarter of the proxy's connection capacity, at most 4 per MiB of the instance's memory
   */
  readonly connections?: number;
  /**
   * The tenant's share of a busy proxy relative to the other busy tenants, 1 to 10: with weights 3 and 1, two
   * tenants downloading at once get 75 % and 25 %. A tenant alone gets the whole proxy whatever its weight.
   * @default 1
   */
  readonly weight?: number;
  /**
   * An absolute ceiling on the tenant's traffic through each proxy, in Mbit/s, even when the proxy is idle:
   * 0 for none, or at least 0.1.
   * @default - none: a tenant alone may use the whole proxy
   */
  readonly bandwidthMbps?: number;
}

/** A destination port that HTTPS CONNECT may reach without TLS: a raw tunnel, where only the CONNECT line is checked. */
export interface RawTunnelPortConfig {
  /** The destination port, 1 to 65535. */
  readonly port: number;
  /** Always `false`: this entry is a raw (non-TLS) tunnel port. */
  readonly tls: false;
}

/** One tenant (project): its own port, allowlist and resource configuration. */
export interface TenantConfig {
  /**
   * The tenant's name, used in AWS resource names and DNS labels: 2 to 24 characters, lowercase letters,
   * digits and single hyphens, starting with a letter. Unique in the hub.
   */
  readonly name: string;
  /**
   * The tenant's listener port (1024 to 65535): its resource configuration's port and its Squid `http_port`.
   * Unique in the hub; 3128, 3129, 3130, 3401 and 4827 are reserved.
   */
  readonly port: number;
  /**
   * Domains the tenant may reach: exact names (`registry.npmjs.org`), wildcard suffixes (`*.github.com`), or
   * `'*'` for any public destination (private and link-local addresses stay denied).
   */
  readonly allow: '*' | readonly string[];
  /**
   * Principals outside the hub account the tenant's resource configuration is shared with through AWS RAM:
   * 12-digit account IDs, organization ARNs or OU ARNs.
   * @default [] - no share; only the hub account's VPCs can attach
   */
  readonly accounts?: readonly string[];
  /**
   * `enforce` refuses what the allowlist does not admit; `audit` lets it pass and logs `decision=would-deny`
   * (address checks never relax). See docs/policy.md for the rollout from audit to enforce.
   * @default 'enforce'
   */
  readonly mode?: 'enforce' | 'audit';
  /**
   * Publish this tenant's own CloudWatch metrics (a `Tenant` dimension). Every tenant is already in the
   * hub-wide metrics, Contributor Insights rules and saved queries; at most 20 tenants may opt in.
   * @default false
   */
  readonly metrics?: boolean;
  /**
   * This tenant's limits on each proxy, instead of the hub's `tenantLimits`.
   * @default - the hub's tenantLimits
   */
  readonly limits?: TenantLimitsConfig;
  /**
   * Destination ports HTTPS (CONNECT) may reach. A number is a TLS port, checked by SNI against the allowlist;
   * `{ port, tls: false }` is a raw tunnel port.
   * @default [443]
   */
  readonly connectPorts?: ReadonlyArray<number | RawTunnelPortConfig>;
  /**
   * Destination ports plain HTTP may reach.
   * @default [80]
   */
  readonly httpPorts?: readonly number[];
}

/** Bounds and CPU target of the proxies' Auto Scaling group in fleet mode `nlb`. */
export interface ScalingConfig {
  /**
   * Fewest proxies.
   * @default - one per availability zone
   */
  readonly min?: number;
  /**
   * Most proxies, at most 100 (and tenants x max within the NLB's 500 targets).
   * @default - max(min, two per availability zone)
   */
  readonly max?: number;
  /**
   * The group's average CPU that target tracking keeps, 10 to 90 percent.
   * @default 40
   */
  readonly targetCpuPercent?: number;
}

/** The proxy fleet: how it is built and on what instances. See docs/hub.md, "Fleet modes". */
export interface ProxyConfig {
  /**
   * `single`: one self-healing proxy; `multi-az`: one proxy per AZ behind a DNS failover name; `nlb`: an
   * internal NLB over an Auto Scaling group.
   * @default 'multi-az'
   */
  readonly mode?: ProxyMode;
  /**
   * The proxies' EC2 instance type.
   * @default - t4g.small for single and multi-az, c7g.large for nlb
   */
  readonly instanceType?: string;
  /**
   * A pinned AMI ID; its architecture must match the instance type's.
   * @default - the newest Amazon Linux 2023 image, looked up once and recorded in cdk.context.json
   */
  readonly image?: string;
  /**
   * Squid SMP workers per proxy, 1 to the instance type's vCPUs (at most 32).
   * @default 1
   */
  readonly workers?: number;
  /**
   * The rate, in Mbit/s, at which each proxy shares its outbound bandwidth fairly between busy tenants: just below
   * what the instance can send. 0 turns fair sharing off.
   * @default - 95 % of the instance type's burst bandwidth (none for an instance type egresshub has no facts for)
   */
  readonly lineRateMbps?: number;
  /**
   * Mode `nlb` only: the Auto Scaling group's bounds and CPU target.
   * @default - see ScalingConfig
   */
  readonly scaling?: ScalingConfig;
}

/** What each proxy connects to, to prove its own way out (hub.egressCheck). */
export interface EgressCheckConfig {
  /**
   * `host:port`: a DNS name outside the VPC (resolved through the VPC resolver, reached through the proxy's NAT
   * gateway or Elastic IP; never a VPC endpoint's name) and its port.
   * @default 'sts.<region>.amazonaws.com:443' - the hub Region's AWS STS endpoint
   */
  readonly target?: string;
}

/** Where CloudWatch alarms notify, and the denied-request spike threshold (docs/operations.md). */
export interface AlarmsConfig {
  /**
   * An email address subscribed to the alarm topic.
   * @default - no email subscription
   */
  readonly email?: string;
  /**
   * An existing SNS topic the alarms notify instead of a new one.
   * @default - the hub creates a topic
   */
  readonly topicArn?: string;
  /**
   * Denied requests in 5 minutes (of the busiest tenant) that raise the spike alarm.
   * @default 100
   */
  readonly deniedRequestsPer5Minutes?: number;
}

/** Service quotas this account has raised above their defaults (docs/config.md, "Quotas"). */
export interface QuotasConfig {
  /**
   * Amazon VPC Lattice "Resource configurations per Region": one per tenant. Declare a value only once
   * Service Quotas shows it approved.
   * @default 2000
   */
  readonly resourceConfigurationsPerRegion?: number;
}

/** The hub VPC, its egress path, its proxy fleet and its monitoring. */
export interface HubConfig {
  /**
   * The hub VPC's IPv4 block: /16 to /24 inside RFC 1918 or RFC 6598 (100.64.0.0/10) space. It may overlap
   * the spokes: they never route to it.
   * @default '10.0.0.0/16'
   */
  readonly cidr?: string;
  /** The hub's availability zones, in the config's region (at least two for mode multi-az). */
  readonly availabilityZones: readonly string[];
  /**
   * `nat`: proxies in private subnets behind NAT gateways; `public`: proxies in public subnets with an
   * Elastic IP each and no NAT gateway.
   * @default 'nat'
   */
  readonly egress?: 'nat' | 'public';
  /**
   * With `egress: nat`: one (zonal) NAT gateway for the hub, one per AZ, or one regional NAT gateway spanning
   * every AZ of the hub. Not allowed with `egress: public`.
   * @default 'one'
   */
  readonly natGateways?: 'one' | 'per-az' | 'regional';
  /**
   * Raise by one with a change that replaces the resource gateway (adding or removing an AZ, a new cidr):
   * its name is create-only and unique. `egresshub diff` says when.
   * @default 1
   */
  readonly gatewayGeneration?: number;
  /**
   * The proxy fleet.
   * @default { mode: 'multi-az', workers: 1 }
   */
  readonly proxy?: ProxyConfig;
  /**
   * Retention of the hub's log groups, one of CloudWatch Logs' periods (1, 3, 5, 7, 14, 30, 60, 90, … 3653).
   * @default 90
   */
  readonly logRetentionDays?: number;
  /**
   * Alarm notifications and thresholds.
   * @default { deniedRequestsPer5Minutes: 100 }
   */
  readonly alarms?: AlarmsConfig;
  /**
   * The proxies' egress check (docs/ha.md, "Egress health").
   * @default { target: 'sts.<region>.amazonaws.com:443' }
   */
  readonly egressCheck?: EgressCheckConfig;
  /**
   * Per-tenant limits on each proxy, for every tenant without its own `limits`.
   * @default {} - see TenantLimitsConfig
   */
  readonly tenantLimits?: TenantLimitsConfig;
  /**
   * Raised service quotas.
   * @default { resourceConfigurationsPerRegion: 2000 }
   */
  readonly quotas?: QuotasConfig;
}

/** A DNS zone under which every tenant gets its proxy name, `<tenant>.<domain>`. */
export interface DnsConfig {
  /** The domain, e.g. `egress.internal` (private) or `egress.example.com` (public, with `verify`). */
  readonly domain: string;
  /**
   * Verify a public domain through its Route 53 hosted zone, so the names resolve without a private zone.
   * @default - a private domain, no verification
   */
  readonly verify?: { readonly publicHostedZoneId: string };
}

/** Automatic client setup in a spoke: a State Manager association that points tagged instances at the proxy. */
export interface ClientSetupConfig {
  /** Instances with this tag get the proxy settings. */
  readonly tag: { readonly key: string; readonly value: string };
  /**
   * Extra NO_PROXY entries on top of the metadata addresses, localhost, `.internal` and the VPC's CIDR blocks.
   * @default []
   */
  readonly noProxy?: readonly string[];
  /**
   * The VPC has an S3 gateway endpoint: keep S3 off the proxy.
   * @default false
   */
  readonly s3?: boolean;
}

/** A project VPC attached to one tenant through a resource VPC endpoint. */
export interface SpokeConfig {
  /** The tenant this VPC belongs to (`shared` when the config lists no tenants). */
  readonly tenant: string;
  /** The VPC's 12-digit AWS account ID. */
  readonly account: string;
  /** The VPC's ID, e.g. `vpc-0123456789abcdef0`. */
  readonly vpcId: string;
  /**
   * The VPC's CIDR block (/16 to /28). Give this or `vpcCidrs`.
   * @default - none; vpcCidrs is required then
   */
  readonly vpcCidr?: string;
  /**
   * Every IPv4 block of the VPC, primary first, at most 5. Give this or `vpcCidr`.
   * @default - none; vpcCidr is required then
   */
  readonly vpcCidrs?: readonly string[];
  /** Subnets for the endpoint, in at least two AZs. */
  readonly subnetIds: readonly string[];
  /**
   * Point tagged instances at the proxy automatically.
   * @default - no client setup
   */
  readonly clientSetup?: ClientSetupConfig;
}

/**
 * An egress hub, its tenants and their spokes: the same fields as egresshub.yaml (docs/config.md). Validate
 * and plan it with `planEgress`, or pass it to `EgressHub` as `config`.
 */
export interface EgressHubConfig {
  /**
   * Prefix of every AWS resource name: 3 to 12 characters, lowercase letters, digits and single hyphens.
   * @default 'egresshub'
   */
  readonly name?: string;
  /** The hub's AWS region, e.g. `ap-northeast-1`. */
  readonly region: string;
  /** The hub's 12-digit AWS account ID. */
  readonly account: string;
  /** The hub VPC and its proxies. */
  readonly hub: HubConfig;
  /**
   * A DNS zone for per-tenant proxy names.
   * @default - no proxy names; spokes use the endpoint's own DNS name
   */
  readonly dns?: DnsConfig;
  /**
   * The tenants, each on its own port.
   * @default [] - one shared configuration on port 3128 that admits any public destination
   */
  readonly tenants?: readonly TenantConfig[];
  /**
   * Project VPCs this app also deploys an endpoint into.
   * @default []
   */
  readonly spokes?: readonly SpokeConfig[];
}
