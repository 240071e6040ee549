// squid.conf as a pure function of the plan: one named http_port per tenant, per-tenant allowlists and
// port rules keyed on `myportname`, SSRF denials on the resolved address and on odd IP-literal spellings,
// and an access log line that names the tenant and the rule that decided. The hub and the lab run this text.
import type { EgressPlan, TenantPlan } from '../config';
import { NLB_HEALTH_PORT } from '../config/schema';

export interface SquidConfOptions {
  /**
   * Host-specific settings the lab overrides (log/pid/cache paths, the DNS resolver). Everything else
   * is identical to what the hub deploys.
   * @default - Amazon Linux 2023 paths and the system resolver (the VPC's Route 53 Resolver)
   */
  readonly host?: {
    /** @default '/var/log/squid' */
    readonly logDir?: string;
    /** @default '/run/squid.pid' */
    readonly pidFile?: string;
    /** @default - the resolvers in /etc/resolv.conf (on AWS, the VPC's Route 53 Resolver) */
    readonly dnsNameservers?: readonly string[];
    /** @default - Squid's built-in /etc/hosts */
    readonly hostsFile?: string;
    /** @default '/var/spool/squid' */
    readonly coredumpDir?: string;
    /**
     * How long Squid lets open transfers finish on shutdown or `-k restart`.
     * @default 10 (seconds): rolling replacements drain quickly; the lab uses 1
     */
    readonly shutdownLifetimeSeconds?: number;
  };
}

/** The log format's name; docs/policy.md documents its fields. */
export const ACCESS_LOG_FORMAT = 'egresshub';

/**
 * Destinations no tenant may reach, whatever name led there: RFC 1918, CGNAT, loopback, link-local
 * (IMDS 169.254.169.254, ECS task metadata 169.254.170.2), "this network", IETF protocol space,
 * benchmarking, multicast and reserved; and the IPv6 equivalents (incl. IMDS fd00:ec2::254 in ULA,
 * NAT64's 64:ff9b::/96 and 64:ff9b:1::/48, which embed an IPv4 address, and the discard prefix 100::/64).
 * IPv4-mapped ::ffff:0:0/96 is not listed: Squid reads it as 0.0.0.0/0 (and then ignores it); it maps
 * such addresses to IPv4 itself, so the IPv4 ranges above catch them (lab cases ip-ipv4-mapped*).
 * The documentation ranges stay reachable:
 * they are not routed on the internet, and the lab's emulated internet lives there.
 */
export const BLOCKED_DESTINATIONS: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  '64:ff9b::/96',
  '64:ff9b:1::/48',
  '100::/64',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
];

// A host made only of decimal or 0x-hex labels is an IPv4 literal in some spelling (2130706433, 0x7f.1,
// 0177.0.0.1, 127.1); only the canonical dotted quad is accepted, so every check sees one spelling.
const NUMERIC_HOST_RE = '^((0x[0-9a-f]*|[0-9]+)\\.){0,3}(0x[0-9a-f]*|[0-9]+)\\.?$';
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const CANONICAL_IPV4_RE = `^${OCTET}(\\.${OCTET}){3}$`;

/** Squid's visible_hostname; origin-form requests for Squid's own pages are addressed to it. */
export const VISIBLE_HOSTNAME = 'egresshub';

/**
 * The proxies' health probe (src/hub/health-probe.ts): `GET http://127.0.0.1:<tenant port>/squid-internal-mgr/info`
 * from the instance itself. Squid rewrites such an origin-form request to `http://<visible_hostname>:<port>/…`
 * and answers it from its cache manager, without DNS or an upstream connection. `acl` is the ACL that matches
 * exactly that request (manager URL, on Squid's own name, from 127.0.0.1): it alone is allowed past the
 * cache-manager deny and it alone is kept out of the access log, so tenants' usage and metrics never see it.
 * Tenants cannot match it: they arrive from resource-gateway (or NLB) addresses, never from loopback.
 */
export const HEALTH_PROBE = {
  acl: 'health_probe',
  path: '/squid-internal-mgr/info',
  source: '127.0.0.1',
} as const;

/**
 * nlb mode: the listener every target group health-checks (TCP accept on NLB_HEALTH_PORT), the same port in every
 * policy, so a target group added for a new tenant is healthy on instances the policy rollout has not reached yet.
 * It serves no tenant: its name contains `_`, which tenant names cannot (so no `tenant_*` or `any_tenant`
 * myportname ACL can match it), and a request on it falls through to `deny all`. Only the NLB's security group
 * (and loopback) can reach it.
 */
export const NLB_HEALTH_LISTENER = { name: 'egresshub_health', port: NLB_HEALTH_PORT } as const;

/** Rule names as they appear in the access log's `rule=` field. */
export const RULES = {
  manager: 'cache-manager',
  ipSpelling: 'ip-literal-spelling',
  notAllowlisted: 'not-allowlisted',
  connectPort: 'connect-port',
  httpPort: 'http-port',
  scheme: 'scheme',
  hub: 'hub-cidr',
  blocked: 'blocked-destination',
  allow: 'tenant-allow',
  default: 'default-deny',
} as const;

export function renderSquidConf(plan: EgressPlan, options: SquidConfOptions = {}): string {
  const host = options.host ?? {};
  const logDir = host.logDir ?? '/var/log/squid';
  const out: string[] = [];
  const section = (title: string) => out.push('', `# --- ${title}`);

  out.push(
    `# generated by egresshub for "${plan.name}" (${plan.tenants.length} tenant${plan.tenants.length === 1 ? '' : 's'}): do not edit.`,
    '# Regenerate with `egresshub squid-conf`; apply with `squid -k parse && squid -k reconfigure`.',
  );

  section('listeners: one per tenant; the port is the tenant (the gateway hides client addresses)');
  for (const t of plan.tenants) out.push(`http_port ${t.port} name=${t.name}`);
  if (plan.hub.proxy.mode === 'nlb') {
    out.push(
      `# nlb: the health-check port of every target group (a TCP accept); no tenant, so every request on it is denied`,
      `http_port ${NLB_HEALTH_LISTENER.port} name=${NLB_HEALTH_LISTENER.name}`,
    );
  }

  section('who is calling');
  for (const t of plan.tenants) {
    out.push(`acl tenant_${t.name} myportname ${t.name}`);
    // `note` tags the transaction so every access-log line names its tenant, denied ones included.
    out.push(`note tenant ${t.name} tenant_${t.name}`);
  }

  out.push(`acl any_tenant myportname ${plan.tenants.map((t) => t.name).join(' ')}`);

  section('what is asked for');
  out.push(
    // Not `CONNECT`: newer Squid releases predefine that name; our own name parses the same everywhere.
    'acl tunnel method CONNECT',
    'acl http_scheme proto HTTP',
    // -n: match the name as written; never reverse-resolve an IP literal into an allowlisted name.
    `acl numeric_host dstdom_regex -n -i ${NUMERIC_HOST_RE}`,
    `acl canonical_ipv4 dstdom_regex -n ${CANONICAL_IPV4_RE}`,
    // dst matches the address Squid will connect to, so a public name resolving to a private address is caught.
    `acl hub_cidr dst ${plan.hub.cidr}`,
    `acl blocked_dst dst ${BLOCKED_DESTINATIONS.join(' ')}`,
  );
  for (const t of plan.tenants) {
    if (t.allow.any) continue;
    const names = [...t.allow.exact, ...t.allow.suffixes.map((s) => `.${s}`)];
    // Squid lowercases the host and strips a trailing dot before ACLs run (checked in the lab matrix),
    // and `.github.com` also matches github.com itself, as `*.github.com` does in the plan.
    out.push(`acl allow_${t.name} dstdomain -n ${names.join(' ')}`);
  }
  const connectGroups = groupByPorts(plan.tenants, tunnelPortsOf);
  const httpGroups = groupByPorts(plan.tenants, (t) => t.httpPorts);
  for (const [ports, names] of connectGroups) {
    out.push(`acl connect_ports_${ports.replaceAll(' ', '_')} port ${ports}`);
    out.push(`acl connect_ports_${ports.replaceAll(' ', '_')}_tenants myportname ${names.join(' ')}`);
  }
  for (const [ports, names] of httpGroups) {
    out.push(`acl http_ports_${ports.replaceAll(' ', '_')} port ${ports}`);
    out.push(`acl http_ports_${ports.replaceAll(' ', '_')}_tenants myportname ${names.join(' ')}`);
  }

  section("health probe: Squid's own info page, from this host only, never logged (src/hub/health-probe.ts)");
  out.push(
    `acl ${HEALTH_PROBE.acl}_src src ${HEALTH_PROBE.source}/32`,
    // The probe's origin-form request is rewritten to Squid's own name; requiring that name (matched as
    // written, -n) keeps a loopback client from proxying a manager-looking URL to another host.
    `acl ${HEALTH_PROBE.acl}_self dstdomain -n ${VISIBLE_HOSTNAME}`,
    `acl ${HEALTH_PROBE.acl} all-of manager ${HEALTH_PROBE.acl}_src ${HEALTH_PROBE.acl}_self`,
  );

  section('decisions, logged as decision= and rule= (annotate_transaction always matches, so it goes last on a line)');
  for (const name of Object.values(RULES)) {
    out.push(`acl ${ruleAcl(name)} annotate_transaction decision=${name === RULES.allow ? 'allowed' : 'denied'} rule=${name}`);
  }

  section('access rules: first match wins');
  const r = ruleAcl;
  // The only allow before the denies: it matches nothing a tenant can send (see HEALTH_PROBE).
  out.push(`http_access allow ${HEALTH_PROBE.acl}`);
  out.push(`http_access deny manager ${r(RULES.manager)}`);
  out.push(`http_access deny numeric_host !canonical_ipv4 ${r(RULES.ipSpelling)}`);
  for (const t of plan.tenants) {
    if (!t.allow.any) out.push(`http_access deny tenant_${t.name} !allow_${t.name} ${r(RULES.notAllowlisted)}`);
  }
  out.push(`http_access deny !tunnel !http_scheme ${r(RULES.scheme)}`);
  for (const [ports] of connectGroups) {
    const id = ports.replaceAll(' ', '_');
    out.push(`http_access deny tunnel connect_ports_${id}_tenants !connect_ports_${id} ${r(RULES.connectPort)}`);
  }
  for (const [ports] of httpGroups) {
    const id = ports.replaceAll(' ', '_');
    out.push(`http_access deny !tunnel http_ports_${id}_tenants !http_ports_${id} ${r(RULES.httpPort)}`);
  }
  // Address checks come after the cheap name checks, so a denied name costs no DNS lookup.
  out.push(`http_access deny hub_cidr ${r(RULES.hub)}`);
  out.push(`http_access deny blocked_dst ${r(RULES.blocked)}`);
  // One allow for every tenant: each has passed its own denies above; a port no tenant owns still falls through.
  out.push(`http_access allow any_tenant ${r(RULES.allow)}`);
  out.push(`http_access deny all ${r(RULES.default)}`);

  section('privacy and hygiene: no cache, no internal addresses or versions leaked');
  out.push(
    'cache deny all',
    'via off',
    'forwarded_for delete',
    'httpd_suppress_version_string on',
    `visible_hostname ${VISIBLE_HOSTNAME}`,
    'reply_header_access X-Cache deny all',
    'reply_header_access X-Cache-Lookup deny all',
    'pinger_enable off',
    'client_db off',
  );

  section('timeouts: resource-gateway idle timeout is unconfirmed, so idle keep-alives end well below 350 s');
  out.push(
    'connect_timeout 15 seconds',
    'forward_timeout 60 seconds',
    'request_timeout 60 seconds',
    'read_timeout 5 minutes',
    'client_idle_pconn_timeout 2 minutes',
    'pconn_timeout 1 minute',
    'dns_timeout 30 seconds',
    `shutdown_lifetime ${host.shutdownLifetimeSeconds ?? 10} seconds`,
  );

  section('logging: one key=value line per request (docs/policy.md)');
  out.push(
    `logformat ${ACCESS_LOG_FORMAT} ts=%ts.%03tu tenant=%{tenant}note client=%>a:%>p listener=%lp method=%rm host=%>rd port=%>rP ` +
      'status=%>Hs bytes_in=%>st bytes_out=%<st duration_ms=%tr decision=%{decision}note rule=%{rule}note squid=%Ss server=%<a',
    `access_log stdio:${logDir}/access.log logformat=${ACCESS_LOG_FORMAT} !${HEALTH_PROBE.acl}`,
    `cache_log ${logDir}/cache.log`,
    'logfile_rotate 0',
  );

  section('host');
  out.push(`pid_filename ${host.pidFile ?? '/run/squid.pid'}`, `coredump_dir ${host.coredumpDir ?? '/var/spool/squid'}`);
  if (host.dnsNameservers?.length) out.push(`dns_nameservers ${host.dnsNameservers.join(' ')}`);
  if (host.hostsFile) out.push(`hosts_file ${host.hostsFile}`);
  return `${out.join('\n')}\n`;
}

/**
 * Destination ports a tenant may CONNECT to: its connectPorts plus its httpPorts. Node's fetch (undici's
 * ProxyAgent) tunnels even plain http:// through CONNECT, and a tunnel to host:80 reaches exactly what a
 * proxied GET to host:80 reaches; the host and address checks apply to both (docs/policy.md).
 */
export function tunnelPortsOf(t: TenantPlan): readonly number[] {
  return [...new Set([...t.connectPorts, ...t.httpPorts])].sort((a, b) => a - b);
}

const ruleAcl = (name: string) => `r_${name.replaceAll('-', '_')}`;

/** Tenants sharing a destination-port set share one ACL pair, so the file grows by names, not rules. */
function groupByPorts(tenants: readonly TenantPlan[], ports: (t: TenantPlan) => readonly number[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const t of tenants) {
    const key = ports(t).join(' ');
    groups.set(key, [...(groups.get(key) ?? []), t.name]);
  }
  return [...groups];
}
