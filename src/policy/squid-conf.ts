// squid.conf as a pure function of the plan: one named http_port per tenant, per-tenant allowlists and
// port rules keyed on `myportname`, SSRF denials on the resolved address and on odd IP-literal spellings,
// and an access log line that names the tenant and the rule that decided. The hub and the lab run this text.
import type { EgressPlan, TenantPlan } from '../config';
import { fleetMode } from '../config/fleet-modes';
import { NLB_HEALTH_PORT } from '../config/schema';
import { LOG_DAEMON_PATH, LOG_DAEMON_SOURCE } from './log-daemon';

/** Options of {@link renderSquidConf}. */
export interface SquidConfOptions {
  /**
   * Host-specific settings the lab overrides (log/pid/cache paths, the DNS resolver). Everything else
   * is identical to what the hub deploys.
   * @default - Amazon Linux 2023 paths and the system resolver (the VPC's Route 53 Resolver)
   */
  readonly host?: {
    /** @default '/var/log/squid' */
    readonly logDir?: string;
    /**
     * The access-log daemon Squid starts (`logfile_daemon`): src/policy/logd.py, which the proxies install at
     * LOG_DAEMON_PATH before Squid starts (docs/operations.md, "Access log on the proxy").
     * @default LOG_DAEMON_PATH without host overrides (the hub); LOG_DAEMON_SOURCE with any (the lab, tests)
     */
    readonly logDaemon?: string;
    /** @default '/run/squid.pid' */
    readonly pidFile?: string;
    /** @default - the resolvers in /etc/resolv.conf (on AWS, the VPC's Route 53 Resolver) */
    readonly dnsNameservers?: readonly string[];
    /** @default - Squid's built-in /etc/hosts */
    readonly hostsFile?: string;
    /** @default '/var/spool/squid' */
    readonly coredumpDir?: string;
    /**
     * The certificate (key included) Squid needs on an `ssl-bump` port even though it never presents it: it
     * only peeks at ClientHellos and splices or closes. Made per host at boot (`ensure_tls_peek`), never shared.
     * @default PEEK_CERT_FILE
     */
    readonly peekCertFile?: string;
    /**
     * How long Squid lets open transfers finish on shutdown or `-k restart`.
     * @default 10 (seconds): rolling replacements drain quickly; the lab uses 1
     */
    readonly shutdownLifetimeSeconds?: number;
  };
  /**
   * TCP keepalive on the tenant listeners; `false` for none (the lab's idle-timeout fault uses both, scaled down).
   * @default TENANT_KEEPALIVE
   */
  readonly tcpKeepalive?: TcpKeepalive | false;
}

/** Squid's `http_port … tcpkeepalive=idle,interval,timeout`, in seconds (src/comm/Tcp.cc: Comm::ApplyTcpKeepAlive). */
export interface TcpKeepalive {
  /** Idle time before the first probe. */
  readonly idleSeconds: number;
  /** Between unanswered probes. */
  readonly intervalSeconds: number;
  /** How long unanswered probes go on before the connection is dropped (Squid sends timeout/interval of them). */
  readonly timeoutSeconds: number;
}

/**
 * Keepalive on every tenant connection, so a tunnel idle for longer than a hop's idle timeout stays open: the probes
 * refresh the flow at every hop between the proxy and the client. The shortest timeouts on that path: NLB 350 s by
 * default (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html), VPC Lattice
 * services 60 s by default (https://docs.aws.amazon.com/vpc-lattice/latest/ug/services.html); a resource gateway's
 * is not documented (UNCONFIRMED), so the first probe comes after 30 s, under both. A client that no longer answers
 * is dropped after 30 + 60 s instead of read_timeout's 15 minutes. Toward origins Squid (5.7, 6.x) offers no
 * keepalive: only listeners take `tcpkeepalive` (docs/hub.md, "Idle connections").
 */
export const TENANT_KEEPALIVE: TcpKeepalive = { idleSeconds: 30, intervalSeconds: 10, timeoutSeconds: 60 };

/** Where a proxy keeps the throwaway certificate of its ssl-bump ports (src/hub/user-data.ts makes it). */
export const PEEK_CERT_FILE = '/etc/squid/egresshub-peek.pem';

/**
 * The SNI helper, an external ACL that answers OK when the client's ClientHello carried a server name. Squid's
 * `ssl::server_name --client-requested` falls back to the CONNECT host when there is no SNI (src/acl/ServerName.cc),
 * so it cannot tell "no SNI" from "SNI = CONNECT host". Squid sends `<sni> -` per lookup, `-` for none; a DNS name
 * never starts with `-`. sed (in every base image) keeps it one line with no file to install, and the result is
 * cached per distinct SNI for an hour, so the helper runs once per name, not per connection.
 */
export const SNI_HELPER = '/usr/bin/sed -u -e s/^-$/ERR/;s/^-[[:blank:]].*/ERR/;t;s/.*/OK/';

/**
 * A refused CONNECT is answered 407 with this realm (`Proxy-Authenticate: Basic realm="…"`): no credentials open it,
 * the realm says why, and the access log names the rule.
 */
export const POLICY_DENIED_REALM = 'egresshub-refused-by-policy';
/** The basic-auth helper behind POLICY_DENIED_REALM: answers ERR to every line, so no credentials are ever accepted. */
export const POLICY_DENIED_HELPER = '/usr/bin/sed -u -e s/.*/ERR/';

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

/**
 * Rules an audit-mode tenant logs as `decision=would-deny` instead of enforcing: the allowlist and the TLS checks.
 * Every other rule (address checks, IP spellings, ports, scheme) denies in both modes.
 */
export const AUDITABLE_RULES = ['not-allowlisted', 'sni-mismatch', 'no-sni', 'not-tls'] as const;

/** Rule names as they appear in the access log's `rule=` field. */
export const RULES = {
  manager: 'cache-manager',
  ipSpelling: 'ip-literal-spelling',
  notAllowlisted: 'not-allowlisted',
  connectPort: 'connect-port',
  httpPort: 'http-port',
  scheme: 'scheme',
  sniMismatch: 'sni-mismatch',
  noSni: 'no-sni',
  notTls: 'not-tls',
  hub: 'hub-cidr',
  blocked: 'blocked-destination',
  allow: 'tenant-allow',
  default: 'default-deny',
} as const;

/**
 * Squid reads squid.conf in lines of at most 8,191 characters (its BUFSIZ buffer): the rest of a longer line is
 * parsed as a line of its own ("unrecognized: …", seen with Squid 5.7 at 1,000 tenants). Every line stays below
 * this; an `acl` line with more values is split into several lines of the same name, type and flags, which Squid
 * joins into one ACL.
 */
export const MAX_CONF_LINE = 4000;

export function splitLongAcl(line: string): string[] {
  if (line.length <= MAX_CONF_LINE || !line.startsWith('acl ')) return [line];
  const words = line.split(' ');
  let head = 3; // acl NAME TYPE
  while (head < words.length && words[head]!.startsWith('-')) head++;
  const prefix = words.slice(0, head).join(' ');
  const lines: string[] = [];
  let current = prefix;
  for (const value of words.slice(head)) {
    if (current !== prefix && current.length + 1 + value.length > MAX_CONF_LINE) {
      lines.push(current);
      current = prefix;
    }
    current += ` ${value}`;
  }
  lines.push(current);
  return lines;
}

/**
 * squid.conf carries the nftables ruleset of the tenants' connection limits as comment lines with this prefix, so
 * the one file the policy rollout already ships, checks and applies also brings the limits (user-data.ts's
 * `apply_tenant_limits` loads them with `nft -f`). Squid ignores them.
 */
export const NFT_LINE_PREFIX = '#nft: ';
/** The nftables table of the tenants' connection limits, replaced whole on every apply. */
export const TENANT_LIMITS_TABLE = 'egresshub_tenants';

/** nftables names allow no hyphen where tenant names have one (and tenant names have no underscore). */
export const nftName = (tenant: string) => tenant.replaceAll('-', '_');

/**
 * The tenants' connection limits as one atomic nftables script: every new TCP connection to a tenant port jumps to
 * that tenant's chain (one verdict-map lookup, whatever the tenant count), which refuses it with a TCP reset once
 * the tenant holds `limits.connections` on this proxy, counts the refusal (`refused_<tenant>`) and logs it, at most
 * 10 lines a second, as `egresshub rule=tenant-connections tenant=<name>`. `ct count` counts the connections
 * conntrack still tracks as open. https://wiki.nftables.org/wiki-nftables/index.php/Meters (connlimit)
 */
export function tenantLimitsRuleset(plan: EgressPlan): string[] {
  const tbl = `inet ${TENANT_LIMITS_TABLE}`;
  const out = [
    // Create-then-delete makes the script work whether or not the table exists; nft -f applies it all or nothing.
    `table ${tbl} {}`,
    `delete table ${tbl}`,
    `table ${tbl} {`,
  ];
  // The port → chain map, a few dozen elements a line (squid.conf's lines must stay short, see MAX_CONF_LINE).
  const elements = plan.tenants.map((t) => `${t.port} : jump t_${nftName(t.name)}`);
  out.push(
    '  map tenant_ports {',
    '    type inet_service : verdict',
    ...mapElements(elements),
    '  }',
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    '    ct state new tcp dport vmap @tenant_ports',
    '  }',
  );
  if (plan.hub.proxy.lineRateMbps !== undefined) {
    // Fair share: every packet Squid sends from a tenant's port (its responses to that tenant's clients) goes to the
    // tenant's HTB class (fairShareTree). skb->priority names the class directly: no tc filter, no Squid marks.
    const classes = plan.tenants.map((t) => `${t.port} : ${tenantClassId(t)}`);
    out.push(
      '  map tenant_classes {',
      '    type inet_service : classid',
      ...mapElements(classes),
      '  }',
      '  chain shape {',
      '    type filter hook output priority filter; policy accept;',
      '    meta priority set tcp sport map @tenant_classes',
      '  }',
    );
  }
  for (const t of plan.tenants) {
    const n = nftName(t.name);
    const over = `ct count over ${t.limits.connections}`;
    out.push(
      `  counter refused_${n} {}`,
      `  chain t_${n} {`,
      `    ${over} limit rate 10/second log prefix "egresshub rule=tenant-connections tenant=${t.name} " level info`,
      `    ${over} counter name refused_${n} reject with tcp reset`,
      '  }',
    );
  }
  out.push('}');
  return out;
}

/** An nftables map's elements, a few dozen a line (squid.conf's lines must stay short, see MAX_CONF_LINE). */
function mapElements(elements: readonly string[]): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < elements.length; i += 50) chunks.push(elements.slice(i, i + 50).join(', '));
  return chunks.map((c, i) => `    ${i === 0 ? 'elements = { ' : '             '}${c}${i === chunks.length - 1 ? ' }' : ','}`);
}

/**
 * squid.conf carries each proxy's fair-share tree as a `tc -batch` script in comment lines with this prefix, next to
 * the `#nft: ` lines, so the policy rollout brings it along (the apply document's `apply_fair_share` loads it, with
 * `@DEV@` replaced by the device that carries the tenants' responses). Squid ignores them.
 */
export const TC_LINE_PREFIX = '#tc: ';
/** The placeholder for the shaped network device in the `#tc: ` lines. */
export const TC_DEVICE = '@DEV@';

/** A tenant's HTB class: the tenant's port as the minor number (ports are at least 1024, clear of 1:1 and 1:2). */
export const tenantClassId = (t: Pick<TenantPlan, 'port'>) => `1:${t.port.toString(16)}`;

/** The class everything else leaves by (Squid's own requests and ACKs to origins, DNS, SSM, the health probe). */
export const OTHER_CLASS_ID = '1:2';

/** The share of the line kept for traffic that is no tenant's, so it is never starved by busy tenants. */
const OTHER_SHARE = 0.05;

/**
 * HTB's per-round byte allowance of a weight-1 class while classes borrow from the root: what they borrow is shared
 * in rounds of `quantum × weight` bytes. Measured in the lab (100 Mbit/s tree, 3 tenants, 2 busy, 4 connections
 * against 1): one frame (1,514) gave 40/60 and 63/37; 30,000 gave 45/55; 60,000 gave 48/52 and 51/49, weights 3:1
 * 73/27; 150,000 50/50 (docs/hub.md, "Tenant isolation"). Large rounds delay only borrowers: a tenant under its
 * guaranteed rate is served before any borrower.
 */
const QUANTUM_BYTES = 60_000;

/**
 * A class's bursts: what it may send at once, 2 ms of its rate (and of its ceiling), at least ten frames. tc's own
 * default on a kernel with high-resolution timers is about one frame, which HTB cannot refill fast enough at
 * gigabits: measured in the lab, a 4,750 Mbit/s tree held a lone download to 3,865 Mbit/s; with 2 ms, 4,456–4,484
 * (the payload of a full 4,750 Mbit/s line; 5,619–5,872 without a tree).
 */
function bursts(rateKbit: number, ceilKbit: number): string {
  const bytes = (kbit: number) => Math.max(15_140, Math.round(kbit / 4));
  return ` burst ${bytes(rateKbit)}b cburst ${bytes(ceilKbit)}b`;
}

/**
 * Each proxy's fair-share tree (tc -batch lines; run with -force so a leaf qdisc the kernel lacks fails alone): an HTB
 * root at the line rate, one class per tenant guaranteed its weighted share of the line and allowed to borrow up to
 * the whole line (or its ceiling) while others are idle, so a tenant alone gets everything and busy tenants split
 * by weight whatever their connection counts. Leaves are fq_codel where the kernel has it, pfifo otherwise.
 * HTB: https://man7.org/linux/man-pages/man8/tc-htb.8.html; classification: the `#nft: ` shape chain.
 */
export function fairShareTree(plan: EgressPlan): string[] {
  const line = plan.hub.proxy.lineRateMbps;
  if (line === undefined) return [];
  const dev = `dev ${TC_DEVICE}`;
  const lineKbit = line * 1000;
  const otherKbit = Math.max(1000, Math.round(lineKbit * OTHER_SHARE));
  const weights = plan.tenants.reduce((sum, t) => sum + t.limits.weight, 0);
  const leaf = (classId: string) => {
    const handle = `${classId.split(':')[1]}:`;
    // The first that the kernel has wins; the other then fails (its handle is taken) and is ignored.
    return [
      `qdisc add ${dev} parent ${classId} handle ${handle} fq_codel`,
      `qdisc add ${dev} parent ${classId} handle ${handle} pfifo limit 1000`,
    ];
  };
  const out = [
    // Rebuilt whole on every apply (the first line fails harmlessly where no tree exists yet): what is queued at that
    // moment is dropped, milliseconds of traffic that TCP resends.
    `qdisc del ${dev} root`,
    `qdisc add ${dev} root handle 1: htb default ${OTHER_CLASS_ID.split(':')[1]}`,
    `class add ${dev} parent 1: classid 1:1 htb rate ${lineKbit}kbit ceil ${lineKbit}kbit${bursts(lineKbit, lineKbit)} quantum ${QUANTUM_BYTES}`,
    `class add ${dev} parent 1:1 classid ${OTHER_CLASS_ID} htb rate ${otherKbit}kbit ceil ${lineKbit}kbit${bursts(otherKbit, lineKbit)} quantum ${QUANTUM_BYTES}`,
    ...leaf(OTHER_CLASS_ID),
  ];
  for (const t of plan.tenants) {
    const ceil = Math.min(lineKbit, Math.round((t.limits.bandwidthMbps ?? line) * 1000));
    const share = Math.max(8, Math.floor(((lineKbit - otherKbit) * t.limits.weight) / weights));
    const id = tenantClassId(t);
    out.push(
      `class add ${dev} parent 1:1 classid ${id} htb rate ${Math.min(share, ceil)}kbit ceil ${ceil}kbit${bursts(Math.min(share, ceil), ceil)} quantum ${QUANTUM_BYTES * t.limits.weight}`,
      ...leaf(id),
    );
  }
  return out;
}

/** squid.conf's own note on what each tenant gets of a proxy's bandwidth. */
function fairShareComment(plan: EgressPlan): string[] {
  const line = plan.hub.proxy.lineRateMbps;
  if (line === undefined) {
    return ['# fair share: off (hub.proxy.lineRateMbps is 0, or unknown for this instance type); no bandwidth ceilings apply'];
  }
  const ceilings = plan.tenants.filter((t) => t.limits.bandwidthMbps !== undefined);
  return [
    `# fair share: busy tenants split ${line} Mbit/s per proxy by weight; a tenant alone may use all of it`,
    ...(ceilings.length > 0
      ? [`# ceilings (Mbit/s per proxy): ${ceilings.map((t) => `${t.name} ${Math.min(line, t.limits.bandwidthMbps!)}`).join(', ')}`]
      : []),
  ];
}

/** The squid.conf every proxy of the plan runs (and the lab runs): tenants, allowlists, address rules, logs, limits. */
export function renderSquidConf(plan: EgressPlan, options: SquidConfOptions = {}): string {
  const host = options.host ?? {};
  const logDir = host.logDir ?? '/var/log/squid';
  const out: string[] = [];
  const section = (title: string) => out.push('', `# --- ${title}`);

  out.push(
    `# generated by egresshub for "${plan.name}" (${plan.tenants.length} tenant${plan.tenants.length === 1 ? '' : 's'}): do not edit.`,
    '# Regenerate with `egresshub squid-conf`; apply with `squid -k parse && squid -k reconfigure`.',
  );

  if (plan.hub.proxy.workers > 1) {
    section('SMP: worker processes (docs/hub.md, "Sizing")');
    out.push(`workers ${plan.hub.proxy.workers}`);
  }

  section('listeners: one per tenant; the port is the tenant (the gateway hides client addresses)');
  // ssl-bump with nothing ever bumped: Squid peeks at each tunnel's ClientHello, then splices or closes it. Squid
  // still wants a certificate on such a port; it is never presented (generate-host-certificates=off: no helper).
  const peek = `ssl-bump generate-host-certificates=off tls-cert=${host.peekCertFile ?? PEEK_CERT_FILE}`;
  const k = options.tcpKeepalive ?? TENANT_KEEPALIVE;
  const keepalive = k ? `tcpkeepalive=${k.idleSeconds},${k.intervalSeconds},${k.timeoutSeconds} ` : '';
  for (const t of plan.tenants) out.push(`http_port ${t.port} name=${t.name} ${keepalive}${peek}`);
  if (fleetMode(plan.hub.proxy.mode).nlbHealthListener) {
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

  section('tenant limits: a fair share of the bandwidth (HTB) and connections per tenant (nftables), both below');
  out.push(...fairShareComment(plan));
  out.push(...tenantLimitsRuleset(plan).map((l) => `${NFT_LINE_PREFIX}${l}`));
  out.push(...fairShareTree(plan).map((l) => `${TC_LINE_PREFIX}${l}`));

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
    // The same names against the SNI the client sent. Matching ignores case, like dstdomain; Squid does not strip a
    // trailing dot from an SNI as it does from a URL host (RFC 6066 forbids one, yet a client may send it), so each
    // name is listed with one too: `REGISTRY.NPMJS.ORG.` passes here exactly as it does as a request host.
    out.push(`acl sni_${t.name} ssl::server_name --client-requested ${names.flatMap((n) => [n, `${n}.`]).join(' ')}`);
  }
  const audit = plan.tenants.filter((t) => t.mode === 'audit').map((t) => t.name);
  const enforcedAllowlists = plan.tenants.filter((t) => t.mode === 'enforce' && !t.allow.any).map((t) => t.name);
  if (audit.length) out.push(`acl audit_tenants myportname ${audit.join(' ')}`);
  if (enforcedAllowlists.length) out.push(`acl sni_enforced_tenants myportname ${enforcedAllowlists.join(' ')}`);
  out.push(
    'acl tls_step1 at_step SslBump1',
    // POLICY_DENIED: a refused CONNECT's 407 (see the access rules). The scheme accepts no one: its helper answers ERR.
    `auth_param basic program ${POLICY_DENIED_HELPER}`,
    'auth_param basic children 1 startup=0 idle=1',
    `auth_param basic realm ${POLICY_DENIED_REALM}`,
    'acl policy_denied proxy_auth REQUIRED',
    `external_acl_type sni_present ttl=3600 negative_ttl=3600 children-max=1 children-startup=1 %ssl::>sni ${SNI_HELPER}`,
    'acl sni_sent external sni_present',
    // Set on a would-deny verdict, so that later rules neither allow over it nor count it twice.
    'acl would_deny note decision would-deny',
    // The peek's own record of a tunnel it spliced: the tunnel is logged once, by its own line (TCP_TUNNEL).
    'acl peek_record note tls spliced',
  );
  const connectGroups = groupByPorts(plan.tenants, tunnelPortsOf);
  const rawGroups = groupByPorts(
    plan.tenants.filter((t) => t.rawTunnelPorts.length),
    (t) => t.rawTunnelPorts,
  );
  const httpGroups = groupByPorts(plan.tenants, (t) => t.httpPorts);
  for (const [ports, names] of connectGroups) {
    out.push(`acl connect_ports_${ports.replaceAll(' ', '_')} port ${ports}`);
    out.push(`acl connect_ports_${ports.replaceAll(' ', '_')}_tenants myportname ${names.join(' ')}`);
  }
  for (const [ports, names] of httpGroups) {
    out.push(`acl http_ports_${ports.replaceAll(' ', '_')} port ${ports}`);
    out.push(`acl http_ports_${ports.replaceAll(' ', '_')}_tenants myportname ${names.join(' ')}`);
  }
  for (const [ports, names] of rawGroups) {
    out.push(`acl raw_ports_${ports.replaceAll(' ', '_')} port ${ports}`);
    out.push(`acl raw_ports_${ports.replaceAll(' ', '_')}_tenants myportname ${names.join(' ')}`);
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
  if (audit.length) {
    for (const name of AUDITABLE_RULES) out.push(`acl ${wouldDenyAcl(name)} annotate_transaction decision=would-deny rule=${name}`);
  }
  out.push('acl tls_spliced annotate_transaction tls=spliced');

  // The checks that deny in every mode, in order (first match wins). A plain request is denied with a 403. A CONNECT
  // cannot be: on an ssl-bump port Squid answers a CONNECT denied with any status but 407 by bumping the tunnel to
  // show its error page, with a certificate no client trusts (src/client_side_request.cc, sslBumpAccessCheck: "Force
  // bump action on error"; 407 is its one exception). Closing it without a reply is worse: Node's fetch retries such
  // a CONNECT about a thousand times a second until its timeout (seen in the lab). So a refused CONNECT gets 407, as
  // smokescreen answers, from an authentication scheme that never accepts anyone (POLICY_DENIED).
  type Check = { readonly on: 'request' | 'tunnel' | 'both'; readonly acls: string; readonly rule: string };
  const checks: Check[] = [
    { on: 'both', acls: 'numeric_host !canonical_ipv4', rule: RULES.ipSpelling },
    ...plan.tenants
      .filter((t) => !t.allow.any && t.mode === 'enforce')
      .map((t): Check => ({ on: 'both', acls: `tenant_${t.name} !allow_${t.name}`, rule: RULES.notAllowlisted })),
    { on: 'request', acls: '!http_scheme', rule: RULES.scheme },
    ...connectGroups.map(([ports]): Check => {
      const id = ports.replaceAll(' ', '_');
      return { on: 'tunnel', acls: `connect_ports_${id}_tenants !connect_ports_${id}`, rule: RULES.connectPort };
    }),
    ...httpGroups.map(([ports]): Check => {
      const id = ports.replaceAll(' ', '_');
      return { on: 'request', acls: `http_ports_${id}_tenants !http_ports_${id}`, rule: RULES.httpPort };
    }),
    // Address checks come after the cheap name checks, so a denied name costs no DNS lookup.
    { on: 'both', acls: 'hub_cidr', rule: RULES.hub },
    { on: 'both', acls: 'blocked_dst', rule: RULES.blocked },
  ];

  section('access rules: first match wins');
  const r = ruleAcl;
  // The only allow before the denies: it matches nothing a tenant can send (see HEALTH_PROBE).
  out.push(`http_access allow ${HEALTH_PROBE.acl}`);
  out.push(`http_access deny manager ${r(RULES.manager)}`);
  for (const t of plan.tenants.filter((x) => !x.allow.any && x.mode === 'audit')) {
    // Audit: the annotation runs, then `!all` fails the line, so evaluation goes on to the checks below.
    out.push(`http_access deny tenant_${t.name} !allow_${t.name} ${wouldDenyAcl(RULES.notAllowlisted)} !all`);
  }
  for (const c of checks) {
    if (c.on !== 'tunnel') out.push(`http_access deny !tunnel ${c.acls} ${r(c.rule)}`);
    // The second line is unreachable while the helper answers ERR; it keeps the deny should the helper fail.
    if (c.on !== 'request')
      out.push(`http_access deny tunnel ${c.acls} ${r(c.rule)} policy_denied`, `http_access deny tunnel ${c.acls} ${r(c.rule)}`);
  }
  // An audited request that passed every check it cannot skip keeps its would-deny verdict.
  if (audit.length) out.push('http_access allow any_tenant would_deny');
  // One allow for every tenant: each has passed its own denies above; a port no tenant owns still falls through.
  out.push(`http_access allow any_tenant ${r(RULES.allow)}`);
  out.push(`http_access deny all ${r(RULES.default)}`);

  section('tunnels that passed: peek at the ClientHello, then splice or close; nothing is decrypted');
  for (const [ports] of rawGroups) {
    const id = ports.replaceAll(' ', '_');
    out.push(`ssl_bump splice tls_step1 raw_ports_${id}_tenants raw_ports_${id} tls_spliced`);
  }
  out.push('ssl_bump peek tls_step1');
  // Step 2: the ClientHello is in. An audited tunnel already marked would-deny by its CONNECT is not counted again.
  if (audit.length) out.push('ssl_bump splice would_deny tls_spliced');
  if (enforcedAllowlists.length) out.push(`ssl_bump terminate sni_enforced_tenants !sni_sent ${r(RULES.noSni)}`);
  const auditedAllowlists = plan.tenants.filter((t) => t.mode === 'audit' && !t.allow.any).map((t) => `tenant_${t.name}`);
  if (auditedAllowlists.length) {
    out.push(`acl sni_audited_tenants any-of ${auditedAllowlists.join(' ')}`);
    out.push(`ssl_bump splice sni_audited_tenants !sni_sent ${wouldDenyAcl(RULES.noSni)}`);
  }
  for (const t of plan.tenants) {
    if (t.allow.any) continue;
    const verdict =
      t.mode === 'enforce'
        ? `terminate tenant_${t.name} !sni_${t.name} ${r(RULES.sniMismatch)}`
        : `splice tenant_${t.name} !sni_${t.name} ${wouldDenyAcl(RULES.sniMismatch)}`;
    out.push(`ssl_bump ${verdict}`);
  }
  out.push('ssl_bump splice all tls_spliced');
  // Bytes that are not a TLS ClientHello (plain HTTP, SSH) after CONNECT: an error reply, then close.
  if (audit.length) out.push(`on_unsupported_protocol tunnel audit_tenants ${wouldDenyAcl(RULES.notTls)}`);
  out.push(`on_unsupported_protocol respond all ${r(RULES.notTls)}`);

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

  section('logging: one key=value line per request (docs/policy.md), written by the log daemon, which never stops Squid');
  // daemon: Squid hands each line to logd.py through a pipe and never waits on the disk. The daemon rotates by size
  // within a budget and drops and counts what it cannot write: with stdio, a full log disk either ended Squid
  // (on-error=die, "FATAL: logfileWrite: … No space left on device") or lost lines uncounted (on-error=drop, which
  // src/log/ModStdio.cc ignores silently). Squid's own queue toward the daemon is bounded (4 MiB, ModDaemon.cc), past
  // which it discards lines with a cache.log warning (counted by a metric filter). test/policy/log-disk-full.test.ts.
  out.push(
    `logfile_daemon ${host.logDaemon ?? (options.host ? LOG_DAEMON_SOURCE : LOG_DAEMON_PATH)}`,
    `logformat ${ACCESS_LOG_FORMAT} ts=%ts.%03tu tenant=%{tenant}note client=%>a:%>p listener=%lp method=%rm host=%>rd port=%>rP ` +
      'status=%>Hs bytes_in=%>st bytes_out=%<st duration_ms=%tr decision=%{decision}note rule=%{rule}note squid=%Ss server=%<a sni=%ssl::>sni',
    `access_log daemon:${logDir}/access.log logformat=${ACCESS_LOG_FORMAT} !${HEALTH_PROBE.acl} !peek_record`,
    `cache_log ${logDir}/cache.log`,
    'logfile_rotate 0',
  );

  section('host');
  out.push(`pid_filename ${host.pidFile ?? '/run/squid.pid'}`, `coredump_dir ${host.coredumpDir ?? '/var/spool/squid'}`);
  if (host.dnsNameservers?.length) out.push(`dns_nameservers ${host.dnsNameservers.join(' ')}`);
  if (host.hostsFile) out.push(`hosts_file ${host.hostsFile}`);
  return `${out.flatMap(splitLongAcl).join('\n')}\n`;
}

/**
 * Destination ports a tenant may CONNECT to: its TLS ports (SNI checked) and its raw tunnel ports. Not its
 * httpPorts: plain HTTP goes through the proxy as a request, where the Host is checked; a raw tunnel to port 80
 * would carry any Host unseen (docs/policy.md).
 */
export function tunnelPortsOf(t: TenantPlan): readonly number[] {
  return [...new Set([...t.connectPorts, ...t.rawTunnelPorts])].sort((a, b) => a - b);
}

/** Every destination port a tenant's traffic may leave the hub on (the proxies' egress security group). */
export function egressPortsOf(t: TenantPlan): readonly number[] {
  return [...new Set([...tunnelPortsOf(t), ...t.httpPorts])].sort((a, b) => a - b);
}

const ruleAcl = (name: string) => `r_${name.replaceAll('-', '_')}`;
const wouldDenyAcl = (name: string) => `wd_${name.replaceAll('-', '_')}`;

/** Tenants sharing a destination-port set share one ACL pair, so the file grows by names, not rules. */
function groupByPorts(tenants: readonly TenantPlan[], ports: (t: TenantPlan) => readonly number[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const t of tenants) {
    const key = ports(t).join(' ');
    groups.set(key, [...(groups.get(key) ?? []), t.name]);
  }
  return [...groups];
}
