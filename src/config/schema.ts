// The shape of egresshub.yaml: one zod schema, strict everywhere so that a typo is an error,
// with the cross-field rules (duplicates, AZ/region, subnet room) as named checks (src/config/checks.ts)
// that carry the path of the offending field, so the loader can point at the YAML line.
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { DEFAULT_PROXY_MODE, PROXY_MODES, type ProxyMode } from './fleet-modes';
import { runConfigChecks } from './checks';
import { DEFAULT_RESOURCE_CONFIGURATIONS_QUOTA, isCidr4, MAX_TENANT_PORT, MIN_TENANT_PORT } from './facts';

// The facts the schema and its checks share live in facts.ts (checks.ts reads them there, so no module cycle).
export * from './facts';

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
    .default({ mode: DEFAULT_PROXY_MODE, workers: 1 }),
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
  // The cross-field refusals, one named check each (src/config/checks.ts); the issue carries the check's id.
  .superRefine((cfg, ctx) => {
    for (const { path, message, check } of runConfigChecks(cfg)) ctx.addIssue({ code: 'custom', path, message, params: { check } });
  });

export type EgressConfigInput = z.input<typeof configSchema>;
export type EgressConfig = z.output<typeof configSchema>;
