// The proxy settings a project server needs, as a pure function of the plan: HTTP(S)_PROXY and a
// NO_PROXY that keeps metadata services, the VPC itself and (optionally) S3 off the proxy.
import { UsageError } from '../config/errors';
import { isCidr4 } from '../config/schema';
import type { EgressPlan, TenantPlan } from '../config/plan';
import { findTenant } from '../config/plan';
import { checkNoProxy, checkProxyUrl } from './setup-script';

/**
 * Addresses that must never go through a proxy: the EC2 instance metadata service (IPv4 and IPv6,
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html), the ECS task
 * metadata / credentials endpoint (169.254.170.2) and the EKS Pod Identity agent (169.254.170.23,
 * fd00:ec2::23). A proxy would either fail to reach them or, worse, reach the hub's own metadata.
 */
export const METADATA_NO_PROXY = ['169.254.169.254', 'fd00:ec2::254', '169.254.170.2', '169.254.170.23', 'fd00:ec2::23'] as const;
export const LOCAL_NO_PROXY = ['localhost', '127.0.0.1', '::1', '.internal'] as const;

export interface ClientEnvOptions {
  /** Host name of the proxy; required when the config has no `dns` section (the endpoint's DNS name). */
  readonly proxyHost?: string;
  /** The project VPC's CIDR; when omitted, every CIDR block of the tenant's spoke VPC in the config. */
  readonly vpcCidr?: string;
  /** Keep S3 on the VPC's S3 gateway endpoint (free) instead of the proxy. */
  readonly s3?: boolean;
  /** Further NO_PROXY entries (names, .suffixes, IPs or CIDRs). */
  readonly noProxy?: readonly string[];
}

export interface ClientEnv {
  readonly tenant: string;
  readonly proxyUrl: string;
  readonly noProxy: readonly string[];
  /** Variable name → value, upper- and lower-case twins (tools disagree on which they read). */
  readonly variables: Readonly<Record<string, string>>;
}

export function clientEnv(plan: EgressPlan, tenantName: string, opts: ClientEnvOptions = {}): ClientEnv {
  const tenant = findTenant(plan, tenantName);
  const host = opts.proxyHost ?? tenant.proxyHost;
  if (!host) {
    throw new UsageError(
      `tenant "${tenant.name}" has no stable proxy name because the config has no dns section; add dns: { domain: egress.internal } ` +
        `or pass --proxy-host with the resource endpoint's DNS name (aws ec2 describe-vpc-endpoint-associations --vpc-endpoint-id vpce-…)`,
    );
  }
  const vpcCidrs = opts.vpcCidr !== undefined ? [opts.vpcCidr] : vpcCidrsOf(plan, tenant);
  const noProxy = noProxyFor(plan.region, vpcCidrs, opts);
  // The values end up in shell lines and SSM documents: only URL/host characters are accepted.
  const proxyUrl = checkProxyUrl(`http://${host}:${tenant.port}`, '--proxy-host');
  checkNoProxy(noProxy.join(','), '--no-proxy');
  const variables: Record<string, string> = {};
  for (const [name, value] of [
    ['HTTP_PROXY', proxyUrl],
    ['HTTPS_PROXY', proxyUrl],
    ['NO_PROXY', noProxy.join(',')],
  ] as const) {
    variables[name] = value;
    variables[name.toLowerCase()] = value;
  }
  return { tenant: tenant.name, proxyUrl, noProxy, variables };
}

/**
 * NO_PROXY for a VPC: metadata addresses, local names, every CIDR block of the VPC (primary first), optionally
 * S3, plus the user's entries. The one source for `client-env` and a spoke's client-setup association.
 */
export function noProxyFor(region: string, vpcCidrs: readonly string[], opts: Pick<ClientEnvOptions, 's3' | 'noProxy'> = {}): string[] {
  const bad = vpcCidrs.find((c) => !isCidr4(c));
  if (bad !== undefined) throw new UsageError(`--vpc-cidr: expected an IPv4 CIDR such as 10.0.0.0/16 (got ${bad})`);
  const s3 = opts.s3 ? [`s3.${region}.amazonaws.com`, `.s3.${region}.amazonaws.com`] : [];
  return [...new Set([...METADATA_NO_PROXY, ...LOCAL_NO_PROXY, ...vpcCidrs, ...s3, ...(opts.noProxy ?? [])])];
}

/** The CIDR blocks of the tenant's VPC, from its spokes: all of them must be the same VPC layout. */
function vpcCidrsOf(plan: EgressPlan, tenant: TenantPlan): readonly string[] {
  const layouts = new Map(plan.spokes.filter((s) => s.tenant === tenant.name).map((s) => [s.vpcCidrs.join(', '), s.vpcCidrs]));
  if (layouts.size === 1) return [...layouts.values()][0]!;
  const why =
    layouts.size === 0 ? 'the config lists no spoke for it' : `its spokes use ${[...layouts.keys()].map((k) => `[${k}]`).join(' and ')}`;
  throw new UsageError(`cannot tell the VPC CIDR of tenant "${tenant.name}" (${why}); pass --vpc-cidr with the project VPC's CIDR`);
}

/** A value as one single-quoted POSIX shell word (a quote inside becomes '\\''). */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** POSIX shell lines, safe to `eval`: values are checked above and single-quoted here all the same. */
export function toShell(env: ClientEnv): string {
  return Object.entries(env.variables)
    .map(([k, v]) => `export ${k}=${shellQuote(v)}`)
    .join('\n');
}
