// The shape of egresshub.yaml: one zod schema, strict everywhere so that a typo is an error,
// with the cross-field rules (duplicates, AZ/region, subnet room) as refinements that carry the
// path of the offending field, so the loader can point at the YAML line.
import { domainToASCII } from 'node:url';
import { Address4 } from 'ip-address';
import { z } from 'zod';
import { DEFAULT_PROXY_MODE, PROXY_MODES, type ProxyMode } from './fleet-modes';
import { INSTANCE_FACTS } from './instance-types';

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

const ACCOUNT_RE = /^\d{12}$/;
const ORG_RE = /^arn:aws[a-z-]*:organizations::\d{12}:organization\/o-[a-z0-9]{10,32}$/;
const OU_RE = /^arn:aws[a-z-]*:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/;
const REGION_RE = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;
/** VPC Lattice names: lowercase letters, digits and single hyphens, starting with a letter. */
const NAME_RE = /^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/;
const LABEL_RE = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** AWS allows VPC blocks from /16 to /28. */
const VPC_PREFIX = /\/(1[6-9]|2[0-8])$/;
const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/;
const SNS_TOPIC_ARN_RE = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
/** How the proxy fleet is built (docs/hub.md#fleet-modes): the names come from the one list of modes. */
export { PROXY_MODES, type ProxyMode };
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
/**
 * nlb: the port every target group health-checks (TCP), a Squid listener of its own that every nlb policy has
 * (renderSquidConf) and that serves no tenant. One fixed port, not each group's traffic port: a new tenant's
 * target group is attached before the policy rollout reaches the instances, and a health check on the new port
 * would fail on every instance not yet reached, so Auto Scaling (ELB health checks: an instance is unhealthy if
 * any of its target groups says so) would replace them. Reserved from tenants (RESERVED_PORTS).
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/healthcheck.html
 */
export const NLB_HEALTH_PORT = 3129;
/**
 * nlb: the group's average CPU that target tracking keeps. Squid runs one worker, so on a 2-vCPU type a saturated
 * Squid reads as about half the instance's CPU: 40 scales out when that worker is about 80 % busy (docs/hub.md).
 */
export const DEFAULT_TARGET_CPU_PERCENT = 40;
/** Denied requests per tenant in 5 minutes that raise the spike alarm, unless the config says otherwise. */
export const DEFAULT_DENIED_THRESHOLD = 100;

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

/** A domain pattern of an allowlist: `example.com`, `*.example.com`, with an optional trailing dot. */
export function isDomainPattern(value: string): boolean {
  let v = value.toLowerCase().replace(/\.$/, '');
  if (v.startsWith('*.')) v = v.slice(2);
  if (v.length === 0 || v.length > 253 || !v.includes('.')) return false;
  if (/^[\d.]+$/.test(v) || v.includes(':')) return false; // IP literals are not domain patterns
  const labels = v.split('.');
  if (!labels.every((l) => LABEL_RE.test(l))) return false;
  return /[a-z]/.test(labels[labels.length - 1]!); // a TLD is never all digits
}

const cidr = z.string().refine(isCidr4, {
  message: 'expected an IPv4 CIDR block such as 10.0.0.0/16 (network address, no host bits set)',
});

const port = z
  .number()
  .int()
  .min(MIN_TENANT_PORT, { message: `ports must be between ${MIN_TENANT_PORT} and ${MAX_TENANT_PORT}` })
  .max(MAX_TENANT_PORT, { message: `ports must be between ${MIN_TENANT_PORT} and ${MAX_TENANT_PORT}` });

const destPort = z
  .number()
  .int()
  .min(1, { message: 'destination ports must be between 1 and 65535' })
  .max(65535, { message: 'destination ports must be between 1 and 65535' });

const accountId = z.string().regex(ACCOUNT_RE, {
  message: 'expected a 12-digit AWS account ID in quotes, e.g. "111111111111"',
});

const principal = z.string().refine((v) => ACCOUNT_RE.test(v) || ORG_RE.test(v) || OU_RE.test(v), {
  message:
    'expected a 12-digit account ID, an organization ARN (arn:aws:organizations::111111111111:organization/o-…) or an OU ARN (…:ou/o-…/ou-…)',
});

const DOMAIN_PATTERN_MESSAGE =
  'expected a domain name (registry.npmjs.org) or a wildcard suffix (*.github.com); IP addresses and bare words are not allowed';

const domainPattern = z.string().superRefine((value, ctx) => {
  if (isDomainPattern(value)) return;
  // An international name (bücher.de) is allowed in its ASCII form, the one Squid and the TLS SNI carry.
  const ascii = /[^ -~]/.test(value) ? domainToASCII(value.replace(/^\*\./, '')) : '';
  const hint =
    ascii && isDomainPattern(ascii) ? `; write an international name in its ASCII form: ${value.startsWith('*.') ? '*.' : ''}${ascii}` : '';
  ctx.addIssue({ code: 'custom', message: `${DOMAIN_PATTERN_MESSAGE}${hint}` });
});

/** A tenant's policy mode (see the tenant schema's `mode`). */
export const TENANT_MODES = ['enforce', 'audit'] as const;
export type TenantMode = (typeof TENANT_MODES)[number];

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

/**
 * Per-tenant limits on one proxy: concurrent connections (nftables on the tenant's port), the tenant's weight in the
 * fair share of the proxy's bandwidth, and an optional absolute bandwidth ceiling (both an HTB class, docs/hub.md).
 */
const WEIGHT_MESSAGE = 'weight is a whole number from 1 to 10 (a tenant with weight 3 gets 3 times the share of one with 1)';
const limitsSchema = z.strictObject({
  connections: z
    .number()
    .int({ message: 'connections is a whole number of concurrent connections per proxy' })
    .min(1, { message: 'connections must be at least 1' })
    .max(32_768, { message: 'connections is at most 32768 (a proxy has 65,536 file descriptors, 2 per connection)' })
    .optional(),
  /** The tenant's share of a busy proxy relative to the other busy tenants': 1 to 10. */
  weight: z.number().int({ message: WEIGHT_MESSAGE }).min(1, { message: WEIGHT_MESSAGE }).max(10, { message: WEIGHT_MESSAGE }).optional(),
  /** An absolute ceiling, Mbit/s, even on an idle proxy; 0 or absent: none (the tenant may take the whole line). */
  bandwidthMbps: z
    .number()
    .refine((v) => v === 0 || v >= 0.1, { message: 'bandwidthMbps is 0 (no ceiling) or at least 0.1 (Mbit/s)' })
    .max(100_000, { message: 'bandwidthMbps is at most 100000 (100 Gbit/s)' })
    .optional(),
});

const tenantSchema = z.strictObject({
  name: z
    .string()
    .min(2, { message: 'tenant names need 2 to 24 characters' })
    .max(24, { message: 'tenant names need 2 to 24 characters' })
    .regex(NAME_RE, {
      message:
        'tenant names are used in AWS resource names and DNS labels: lowercase letters, digits and single hyphens, starting with a letter',
    }),
  accounts: z.array(principal).default([]),
  port,
  allow: z.union([
    z.literal('*'),
    z.array(domainPattern).min(1, { message: 'an empty allowlist admits nothing; list domains or use "*"' }),
  ]),
  /**
   * What the tenant's clients see when the allowlist would deny: `enforce` refuses it, `audit` lets it pass and
   * logs `decision=would-deny` (address checks never relax). docs/policy.md gives the rollout audit → enforce.
   */
  mode: z
    .enum(TENANT_MODES, { message: 'mode is enforce (deny what the allowlist does not admit) or audit (log it as would-deny)' })
    .default('enforce'),
  /**
   * Publish this tenant's own CloudWatch metrics (Requests, DeniedRequests, BytesIn, BytesOut with a `Tenant`
   * dimension). Off by default: every tenant is already in the hub-wide metrics, the Contributor Insights
   * rules and the saved queries; at most MAX_METRIC_TENANTS tenants may opt in (docs/operations.md).
   */
  metrics: z.boolean({ message: 'metrics is true (publish per-tenant metrics) or false (the default)' }).default(false),
  /** Overrides hub.tenantLimits for this tenant (docs/hub.md, "Tenant isolation"). */
  limits: limitsSchema.optional(),
  connectPorts: z
    .array(
      z.union([
        destPort,
        z.strictObject({
          port: destPort,
          tls: z.literal(false, {
            message: 'an object entry declares a raw (non-TLS) tunnel port: { port: 22, tls: false }; write a TLS port as a plain number',
          }),
        }),
      ]),
    )
    .min(1, { message: 'list at least one port HTTPS (CONNECT) may reach, e.g. [443]; leave the key out for the default [443]' })
    .default([443]),
  httpPorts: z
    .array(destPort)
    .min(1, { message: 'list at least one port plain HTTP may reach, e.g. [80]; leave the key out for the default [80]' })
    .default([80]),
});

/** IPv4 CIDR blocks per VPC, default quota (the primary and four secondary). */
export const MAX_SPOKE_CIDRS = 5;

const vpcCidrSchema = cidr.refine((c) => VPC_PREFIX.test(c), {
  message: "a VPC CIDR is /16 to /28 (the endpoint admits it, and NO_PROXY carries it); give the VPC's own block, e.g. 10.0.0.0/16",
});

const spokeSchema = z.strictObject({
  tenant: z.string(),
  account: accountId,
  vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, { message: 'expected a VPC ID such as vpc-0123456789abcdef0' }),
  /** The VPC's CIDR block when it has one; with secondary blocks, list them all in vpcCidrs instead. */
  vpcCidr: vpcCidrSchema.optional(),
  /**
   * Every IPv4 CIDR block of the VPC, primary first: the endpoint admits each (servers in secondary blocks
   * too) and NO_PROXY carries each. At most 5, the default quota of blocks per VPC.
   * https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html
   */
  vpcCidrs: z
    .array(vpcCidrSchema)
    .min(1, { message: "list the VPC's CIDR blocks, primary first, e.g. [10.0.0.0/16, 100.64.0.0/16]" })
    .max(MAX_SPOKE_CIDRS, {
      message: `a VPC has at most ${MAX_SPOKE_CIDRS} IPv4 CIDR blocks by default (1 primary + 4 secondary); list each once`,
    })
    .optional(),
  subnetIds: z
    .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { message: 'expected a subnet ID such as subnet-0123456789abcdef0' }))
    .min(2, { message: 'a resource endpoint needs subnets in at least two AZs for availability; list two or more subnets' }),
  /** Optional: a State Manager association that points every instance with this tag at the proxy. */
  clientSetup: z
    .strictObject({
      tag: z.strictObject({
        key: z.string().regex(/^[^\s].{0,127}$/, { message: 'tag keys have 1 to 128 characters and do not start with a space' }),
        value: z.string().max(256, { message: 'tag values have at most 256 characters' }),
      }),
      /** Extra NO_PROXY entries on top of the metadata addresses, localhost, .internal and the VPC CIDR. */
      noProxy: z
        .array(z.string().regex(/^[A-Za-z0-9.:/*_-]+$/, { message: 'NO_PROXY entries are names, .suffixes, IPs or CIDRs' }))
        .default([]),
      /** The VPC has an S3 gateway endpoint: keep S3 off the proxy. */
      s3: z.boolean().default(false),
    })
    .optional(),
});

/**
 * How the hub's private subnets reach the internet with `egress: nat`: `one` zonal NAT gateway (its AZ is every
 * tenant's egress), a zonal NAT gateway `per-az`, or one `regional` NAT gateway that serves every AZ where the hub
 * has subnets (no public subnet needed; https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateways-regional.html).
 */
export const NAT_GATEWAY_MODES = ['one', 'per-az', 'regional'] as const;
export type NatGatewayMode = (typeof NAT_GATEWAY_MODES)[number];

/** `host:port` of the proxies' egress check: a DNS name (two labels or more) and a port from 1 to 65535. */
export const EGRESS_TARGET_RE =
  /^(?=[^:]{1,253}:)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?:(?:[1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])$/i;

const hubSchema = z.strictObject({
  cidr: cidr.default('10.0.0.0/16'),
  availabilityZones: z.array(z.string()).min(1, { message: 'list at least one availability zone' }),
  /**
   * `nat`: proxies in private subnets behind NAT gateways (the organisation's default). `public`: proxies in
   * public subnets with an Elastic IP each and no NAT gateway (cheapest; static egress IPs).
   */
  egress: z.enum(['nat', 'public']).default('nat'),
  /**
   * NAT gateways with `egress: nat`: one (zonal) for the hub, one per AZ, or one regional NAT gateway that spans
   * every AZ of the hub. Not allowed with `egress: public`.
   */
  natGateways: z.enum(NAT_GATEWAY_MODES).optional(),
  /**
   * The resource gateway's name is create-only and unique, so a change that replaces the gateway (adding or
   * removing an AZ, a new cidr) needs a new name: raise this by one with such a change (`egresshub diff` says
   * when). 1 keeps the name every hub deployed so far has (`<name>-gateway`).
   */
  gatewayGeneration: z
    .number()
    .int({ message: 'gatewayGeneration is a whole number from 1 to 999' })
    .min(1, { message: 'gatewayGeneration is a whole number from 1 to 999' })
    .max(999, { message: 'gatewayGeneration is a whole number from 1 to 999' })
    .default(1),
  proxy: z
    .strictObject({
      /** single: one self-healing proxy; multi-az: one per AZ with DNS failover; nlb: an NLB over a scaling group. */
      mode: z.enum(PROXY_MODES).default(DEFAULT_PROXY_MODE),
      /** @default DEFAULT_INSTANCE_TYPES[mode] */
      instanceType: z.string().regex(INSTANCE_TYPE_RE, { message: 'expected an EC2 instance type such as t4g.small' }).optional(),
      /**
       * A pinned AMI for the proxies (its architecture must match instanceType's). Without it the newest
       * Amazon Linux 2023 image is looked up once and recorded in cdk.context.json (`egresshub image`).
       */
      image: z
        .string()
        .regex(/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/, {
          message: 'expected an AMI ID such as ami-0123456789abcdef0, or leave image out to use the recorded Amazon Linux 2023 image',
        })
        .optional(),
      /**
       * Squid SMP workers per proxy. One worker relays HTTPS tunnels at several Gbit/s per core but plain HTTP at
       * about 1 Gbit/s (docs/hub.md, "Sizing"): more only pay off for plain-HTTP-heavy traffic above that, on
       * instances with the cores for them.
       */
      workers: z
        .number()
        .int({ message: 'workers is a whole number of Squid worker processes' })
        .min(1, { message: 'workers is at least 1' })
        .max(32, { message: 'workers is at most 32' })
        .default(1),
      /**
       * The rate, Mbit/s, at which each proxy shares its outbound bandwidth fairly between busy tenants (the root of
       * its HTB tree, docs/hub.md "Tenant isolation"): just below what the instance can send, so the queue forms where
       * the sharing happens. 0 turns fair sharing off.
       * @default - 95 % of the instance type's burst bandwidth; none (off) for an instance type egresshub has no facts for
       */
      lineRateMbps: z
        .number()
        .int({ message: 'lineRateMbps is a whole number of Mbit/s (0 turns fair sharing off)' })
        .min(0, { message: 'lineRateMbps is 0 (no fair sharing) or a rate in Mbit/s' })
        .max(400_000, { message: 'lineRateMbps is at most 400000 (400 Gbit/s)' })
        .optional(),
      /** nlb only: the Auto Scaling group's bounds and its CPU target (target tracking). */
      scaling: z
        .strictObject({
          min: z
            .number()
            .int()
            .min(1, { message: 'scaling.min must be at least 1' })
            .max(100, { message: 'scaling.min is at most 100 proxies (as scaling.max)' })
            .optional(),
          max: z
            .number()
            .int()
            .min(1, { message: 'scaling.max must be at least 1' })
            .max(100, { message: 'scaling.max is at most 100 proxies' })
            .optional(),
          targetCpuPercent: z
            .number()
            .int()
            .min(10, { message: 'targetCpuPercent must be 10 to 90' })
            .max(90, { message: 'targetCpuPercent must be 10 to 90' })
            .default(DEFAULT_TARGET_CPU_PERCENT),
        })
        .optional(),
    })
    .default({ mode: 'multi-az', workers: 1 }),
  logRetentionDays: z
    .number()
    .int()
    .refine((d) => RETENTION_DAYS.includes(d), {
      message: `expected one of CloudWatch Logs' retention periods: ${'1, 3, 5, 7, 14, 30, 60, 90, …, 3653'}`,
    })
    .default(90),
  /** Where CloudWatch alarms notify, and the denied-request spike threshold (docs/operations.md). */
  alarms: z
    .strictObject({
      email: z.email({ message: 'expected an email address such as platform-team@example.com' }).optional(),
      topicArn: z
        .string()
        .regex(SNS_TOPIC_ARN_RE, { message: 'expected an SNS topic ARN such as arn:aws:sns:ap-northeast-1:111111111111:egress-alarms' })
        .optional(),
      deniedRequestsPer5Minutes: z
        .number()
        .int()
        .min(1, { message: 'the denied-request spike threshold must be at least 1 request per 5 minutes' })
        .default(DEFAULT_DENIED_THRESHOLD),
    })
    .default({ deniedRequestsPer5Minutes: DEFAULT_DENIED_THRESHOLD }),
  /**
   * What each proxy's health check connects to, to prove its own way out (docs/ha.md, "Egress health"): a name
   * resolved through the VPC resolver and a TCP connection to it through the proxy's NAT gateway or Elastic IP.
   * @default - the hub Region's AWS STS endpoint, `sts.<region>.amazonaws.com:443`
   */
  egressCheck: z
    .strictObject({
      target: z
        .string()
        .regex(EGRESS_TARGET_RE, {
          message:
            'expected host:port with a DNS name and a port from 1 to 65535, such as sts.ap-northeast-1.amazonaws.com:443 (a name, so that the check also proves the VPC resolver)',
        })
        .optional(),
    })
    .default({}),
  /**
   * Per-tenant limits on each proxy, for every tenant without its own `limits`.
   * @default connections: a quarter of a proxy's capacity; weight: 1; bandwidthMbps: none (fair share only)
   */
  tenantLimits: limitsSchema.default({}),
  /**
   * Service quotas this account has raised above their defaults, so validation admits what they allow
   * (docs/config.md, "Quotas"). Declare a value only once Service Quotas shows it approved.
   */
  quotas: z
    .strictObject({
      /** Amazon VPC Lattice "Resource configurations per Region": one per tenant. @default 2000 */
      resourceConfigurationsPerRegion: z
        .number()
        .int({ message: 'resourceConfigurationsPerRegion is a whole number' })
        .min(1, { message: 'resourceConfigurationsPerRegion is at least 1' })
        .max(100_000, {
          message: 'resourceConfigurationsPerRegion above 100,000 is not a quota AWS grants; check the approved value in Service Quotas',
        })
        .default(DEFAULT_RESOURCE_CONFIGURATIONS_QUOTA),
    })
    .default({ resourceConfigurationsPerRegion: DEFAULT_RESOURCE_CONFIGURATIONS_QUOTA }),
});

/** A private or public DNS zone under which every tenant gets its proxy name (`<tenant>.<domain>`). */
const dnsSchema = z.strictObject({
  domain: z
    .string()
    .transform((d) => d.toLowerCase().replace(/\.$/, ''))
    .refine((d) => isDomainPattern(d) && !d.startsWith('*.') && d.length <= 200, {
      message: 'expected a DNS domain such as egress.internal (private) or egress.example.com (public, with verify)',
    }),
  verify: z
    .strictObject({
      publicHostedZoneId: z
        .string()
        .regex(/^Z[A-Z0-9]{1,32}$/, { message: 'expected a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ' }),
    })
    .optional(),
});

/** CloudWatch Logs accepts only these retention periods (PutRetentionPolicy). */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

export const configSchema = z
  .strictObject({
    name: z
      .string()
      .min(3, { message: 'the name needs 3 to 12 characters' })
      .max(12, { message: 'the name needs 3 to 12 characters' })
      .regex(NAME_RE, {
        message: 'the name is a prefix of AWS resource names: lowercase letters, digits and single hyphens, starting with a letter',
      })
      .default('egresshub'),
    region: z.string().regex(REGION_RE, { message: 'expected an AWS region such as ap-northeast-1' }),
    account: accountId,
    hub: hubSchema,
    dns: dnsSchema.optional(),
    tenants: z.array(tenantSchema).default([]),
    spokes: z.array(spokeSchema).default([]),
  })
  .superRefine((cfg, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });

    cfg.hub.availabilityZones.forEach((az, i) => {
      if (!new RegExp(`^${cfg.region}[a-z]$`).test(az)) {
        issue(['hub', 'availabilityZones', i], `availability zone "${az}" is not in region ${cfg.region}; use names like ${cfg.region}a`);
      }
    });
    const seenAz = new Map<string, number>();
    cfg.hub.availabilityZones.forEach((az, i) => {
      if (seenAz.has(az))
        issue(['hub', 'availabilityZones', i], `availability zone "${az}" is listed twice (also at index ${seenAz.get(az)})`);
      seenAz.set(az, i);
    });

    const { proxy, egress } = cfg.hub;
    if (egress === 'public' && cfg.hub.natGateways !== undefined) {
      issue(
        ['hub', 'natGateways'],
        'egress: public puts the proxies in public subnets with their own Elastic IPs, so the hub has no NAT gateway; remove natGateways or set egress: nat',
      );
    }
    if (proxy.mode === 'multi-az' && cfg.hub.availabilityZones.length < 2) {
      issue(
        ['hub', 'availabilityZones'],
        `proxy mode multi-az (the default) runs one proxy per AZ and needs at least two availability zones; list another one (e.g. ${cfg.region}c) or set hub.proxy.mode: single`,
      );
    }
    if (proxy.mode === 'nlb' && egress === 'public') {
      issue(
        ['hub', 'egress'],
        'egress: public gives each fixed proxy its own Elastic IP; an NLB fleet scales in and out, so it has no static egress addresses. Use egress: nat with mode nlb, or mode multi-az with egress: public',
      );
    }
    const facts = INSTANCE_FACTS[proxy.instanceType ?? DEFAULT_INSTANCE_TYPES[proxy.mode]];
    if (facts && proxy.workers > facts.vcpus) {
      issue(
        ['hub', 'proxy', 'workers'],
        `${proxy.workers} Squid workers on ${proxy.instanceType ?? DEFAULT_INSTANCE_TYPES[proxy.mode]} (${facts.vcpus} vCPU${facts.vcpus === 1 ? '' : 's'}) would share cores: use at most ${facts.vcpus}, or a larger instance type`,
      );
    }
    // A bandwidth ceiling is a class of the fair-share tree: without a tree nothing would enforce it.
    const lineRate = proxy.lineRateMbps ?? (facts ? 1 : 0);
    if (lineRate === 0) {
      const capped: (string | number)[][] = [];
      if (cfg.hub.tenantLimits.bandwidthMbps) capped.push(['hub', 'tenantLimits', 'bandwidthMbps']);
      cfg.tenants.forEach((t, i) => {
        if (t.limits?.bandwidthMbps) capped.push(['tenants', i, 'limits', 'bandwidthMbps']);
      });
      for (const path of capped) {
        issue(
          path,
          proxy.lineRateMbps === 0
            ? "a bandwidth ceiling is enforced by the fair-share tree, which hub.proxy.lineRateMbps: 0 turns off: set lineRateMbps to the instance's bandwidth in Mbit/s, or remove the ceiling"
            : `a bandwidth ceiling is enforced by the fair-share tree, whose rate egresshub does not know for ${proxy.instanceType}: set hub.proxy.lineRateMbps to the instance's bandwidth in Mbit/s, or remove the ceiling`,
        );
      }
    }
    if (proxy.mode !== 'nlb' && proxy.scaling) {
      issue(
        ['hub', 'proxy', 'scaling'],
        `scaling applies to mode nlb only (mode ${proxy.mode} runs ${proxy.mode === 'single' ? 'one proxy' : 'one proxy per AZ'}); remove it or set hub.proxy.mode: nlb`,
      );
    }
    if (proxy.mode === 'nlb') {
      const min = proxy.scaling?.min ?? cfg.hub.availabilityZones.length;
      const max = proxy.scaling?.max ?? Math.max(min, 2 * cfg.hub.availabilityZones.length);
      if (min > max) issue(['hub', 'proxy', 'scaling', 'min'], `scaling.min (${min}) is larger than scaling.max (${max})`);
      const listeners = Math.max(cfg.tenants.length, 1);
      if (listeners > NLB_MAX_LISTENERS) {
        issue(
          ['hub', 'proxy', 'mode'],
          `mode nlb gives each tenant port an NLB listener, and an NLB holds at most ${NLB_MAX_LISTENERS} (not adjustable); this config has ${listeners} tenants. Use mode multi-az, or split the tenants across hubs`,
        );
      }
      // Every proxy is registered in every tenant port's target group, and each registration counts as a target.
      if (listeners * max > NLB_MAX_TARGETS) {
        issue(
          ['hub', 'proxy', 'scaling', 'max'],
          `mode nlb registers every proxy in each tenant port's target group, so ${listeners} tenant${listeners === 1 ? '' : 's'} x scaling.max ${max} = ${listeners * max} NLB targets, above the ${NLB_MAX_TARGETS} an NLB with cross-zone load balancing holds; ` +
            `lower scaling.max to ${Math.floor(NLB_MAX_TARGETS / listeners)} or less, put fewer tenants on this hub, or use mode multi-az`,
        );
      }
    }

    const configurations = Math.max(cfg.tenants.length, 1);
    const quota = cfg.hub.quotas.resourceConfigurationsPerRegion;
    if (configurations > quota) {
      issue(
        ['tenants'],
        `${configurations} tenants need ${configurations} resource configurations, above the quota "Resource configurations per Region" (Amazon VPC Lattice) of ${quota}${quota === DEFAULT_RESOURCE_CONFIGURATIONS_QUOTA ? ', its default' : ''}, which also counts every other configuration in ${cfg.region}; ` +
          `request an increase in the Service Quotas console (Amazon VPC Lattice, "Resource configurations per Region"), then declare the approved value as hub.quotas.resourceConfigurationsPerRegion, or split the tenants across hubs in two Regions or accounts`,
      );
    }
    const metricTenants = cfg.tenants.flatMap((t, i) => (t.metrics ? [i] : []));
    if (metricTenants.length > MAX_METRIC_TENANTS) {
      issue(
        ['tenants', metricTenants[MAX_METRIC_TENANTS]!, 'metrics'],
        `${metricTenants.length} tenants set metrics: true; at most ${MAX_METRIC_TENANTS} may (their names must fit one metric filter pattern, and each is 4 billed custom metrics). ` +
          'Every tenant is already in the Contributor Insights rules and saved queries (docs/operations.md); keep metrics: true for the tenants you alarm on',
      );
    }

    cfg.tenants.forEach((t, ti) => {
      const tls = new Set(t.connectPorts.filter((p) => typeof p === 'number'));
      t.connectPorts.forEach((p, i) => {
        if (typeof p !== 'number' && tls.has(p.port)) {
          issue(
            ['tenants', ti, 'connectPorts', i],
            `port ${p.port} is listed as a TLS port (checked by SNI) and as a raw tunnel ({ port: ${p.port}, tls: false }); keep one of the two`,
          );
        }
      });
    });

    if (!isPrivateCidr4(cfg.hub.cidr)) {
      issue(
        ['hub', 'cidr'],
        `${cfg.hub.cidr} is not private address space: every tenant is denied the hub's own range, so a public hub range would also block egress to those public addresses; use a block inside ${PRIVATE_HUB_RANGES.join(', ')}`,
      );
    }
    const hubPrefix = Number(cfg.hub.cidr.split('/')[1]);
    if (hubPrefix < HUB_PREFIX_MIN || hubPrefix > HUB_PREFIX_MAX) {
      issue(['hub', 'cidr'], `the hub CIDR must be /${HUB_PREFIX_MIN} to /${HUB_PREFIX_MAX} (got /${hubPrefix})`);
    } else {
      const mask = subnetPrefix(hubPrefix, cfg.hub.availabilityZones.length);
      if (mask > MAX_SUBNET_PREFIX) {
        issue(
          ['hub', 'cidr'],
          `${cfg.hub.cidr} is too small for ${cfg.hub.availabilityZones.length} AZs: each of the ${2 * cfg.hub.availabilityZones.length} subnets would be /${mask}, smaller than /${MAX_SUBNET_PREFIX}; use a larger block or fewer AZs`,
        );
      }
    }

    const names = new Map<string, number>();
    const ports = new Map<number, number>();
    cfg.tenants.forEach((t, i) => {
      if (names.has(t.name))
        issue(
          ['tenants', i, 'name'],
          `tenant name "${t.name}" is already used by tenants[${names.get(t.name)}]; tenant names must be unique`,
        );
      names.set(t.name, i);
      if (ports.has(t.port))
        issue(['tenants', i, 'port'], `port ${t.port} is already used by tenants[${ports.get(t.port)}]; give every tenant its own port`);
      ports.set(t.port, i);
      const reserved = RESERVED_PORTS.get(t.port);
      if (reserved) {
        const used = new Set(cfg.tenants.map((x) => x.port));
        let free = Math.max(...used) + 1;
        if (free > MAX_TENANT_PORT) free = MIN_TENANT_PORT;
        while (used.has(free) || RESERVED_PORTS.has(free)) free++;
        issue(['tenants', i, 'port'], `port ${t.port} is reserved (${reserved}); pick a port no tenant uses, e.g. ${free}`);
      }
    });

    cfg.spokes.forEach((s, i) => {
      const tenant = cfg.tenants.find((t) => t.name === s.tenant);
      const known = cfg.tenants.map((t) => t.name);
      if (cfg.tenants.length === 0) {
        if (s.tenant !== SHARED_TENANT)
          issue(['spokes', i, 'tenant'], `unknown tenant "${s.tenant}": with no tenants configured the only tenant is "${SHARED_TENANT}"`);
        else if (s.account !== cfg.account)
          issue(
            ['spokes', i, 'account'],
            `the shared configuration is not shared with other accounts; spoke account ${s.account} must be the hub account ${cfg.account}, or configure tenants`,
          );
      } else if (!tenant) {
        issue(['spokes', i, 'tenant'], `unknown tenant "${s.tenant}"; known tenants: ${known.join(', ')}`);
      } else if (s.account !== cfg.account && !tenant.accounts.includes(s.account) && !tenant.accounts.some((p) => p.startsWith('arn:'))) {
        issue(
          ['spokes', i, 'account'],
          `account ${s.account} is not among tenant "${s.tenant}"'s accounts, so the resource configuration is not shared with it; add it to that tenant's accounts`,
        );
      }
    });
    cfg.spokes.forEach((s, i) => {
      if (s.vpcCidr === undefined && s.vpcCidrs === undefined)
        issue(['spokes', i, 'vpcCidr'], "this field is required; add the VPC's CIDR block (or vpcCidrs with every block, primary first)");
      if (s.vpcCidr !== undefined && s.vpcCidrs !== undefined)
        issue(['spokes', i, 'vpcCidrs'], 'give either vpcCidr (one block) or vpcCidrs (every block, primary first), not both');
      const blocks = s.vpcCidrs ?? [];
      blocks.forEach((c, j) => {
        const k = blocks.findIndex((other, m) => m < j && cidrsOverlap(other, c));
        if (k >= 0)
          issue(
            ['spokes', i, 'vpcCidrs', j],
            `${c} overlaps vpcCidrs[${k}] (${blocks[k]}); a VPC's CIDR blocks never overlap: list each block once`,
          );
      });
    });
    const vpcs = new Map<string, number>();
    cfg.spokes.forEach((s, i) => {
      const key = `${s.tenant}/${s.vpcId}`;
      if (vpcs.has(key))
        issue(['spokes', i, 'vpcId'], `${s.vpcId} already has a spoke for tenant "${s.tenant}" (spokes[${vpcs.get(key)}])`);
      vpcs.set(key, i);
    });
  });

/** Name of the implicit tenant when the config lists none. */
export const SHARED_TENANT = 'shared';

/** Prefix length of each hub subnet: the hub block split evenly into one public + one private subnet per AZ. */
export function subnetPrefix(hubPrefix: number, azCount: number): number {
  return hubPrefix + Math.ceil(Math.log2(2 * azCount));
}

export type EgressConfigInput = z.input<typeof configSchema>;
export type EgressConfig = z.output<typeof configSchema>;
