// squid.conf as a pure function of the plan: one named http_port per tenant, per-tenant allowlists and
// port rules keyed on `myportname`, SSRF denials on the resolved address and on odd IP-literal spellings,
// and an access log line that names the tenant and the rule that decided. The hub and the lab run this text.
// The rules' own lines come from src/policy/rules/ (one file per rule), each at its slot; this file writes the rest.
import type { EgressPlan, TenantPlan } from '../config';
import { fleetMode } from '../config/fleet-modes';
import { NLB_HEALTH_PORT } from '../config/schema';
import { LOG_DAEMON_PATH, LOG_DAEMON_SOURCE } from './log-daemon';
import { tunnelPortsOf } from './ports';
import {
  AUDITABLE_RULES,
  groupAcl,
  listedTenants,
  renderSlot,
  ruleAcl,
  SQUID_RULES,
  wouldDenyAcl,
  type RenderContext,
  type Slot,
} from './rules';

// Moved to the rule files that own them; still importable from here.
export { AUDITABLE_RULES, BLOCKED_DESTINATIONS, fairShareTree, nftName, OTHER_CLASS_ID, RULES, TC_DEVICE, tenantClassId } from './rules';
export { egressPortsOf, tunnelPortsOf } from './ports';

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

/**
 * The tenants' limits as one atomic nftables script: the table holds every limit rule's lines (slots `nft.hooks` and
 * `nft.tenants`: tenant-connections' per-tenant caps, fair-share's classification), replaced whole on every apply.
 */
export function tenantLimitsRuleset(plan: EgressPlan): string[] {
  const tbl = `inet ${TENANT_LIMITS_TABLE}`;
  const ctx = renderContext(plan);
  return [
    // Create-then-delete makes the script work whether or not the table exists; nft -f applies it all or nothing.
    `table ${tbl} {}`,
    `delete table ${tbl}`,
    `table ${tbl} {`,
    ...renderSlot('nft.hooks', ctx),
    ...renderSlot('nft.tenants', ctx),
    '}',
  ];
}

/**
 * squid.conf carries each proxy's fair-share tree as a `tc -batch` script in comment lines with this prefix, next to
 * the `#nft: ` lines, so the policy rollout brings it along (the apply document's `apply_fair_share` loads it, with
 * `@DEV@` replaced by the device that carries the tenants' responses). Squid ignores them.
 */
export const TC_LINE_PREFIX = '#tc: ';

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

  const ctx = renderContext(plan);
  const rules = (slot: Slot) => out.push(...renderSlot(slot, ctx));
  const { audit } = ctx;

  section('tenant limits: a fair share of the bandwidth (HTB) and connections per tenant (nftables), both below');
  rules('limits.comment');
  out.push(...tenantLimitsRuleset(plan).map((l) => `${NFT_LINE_PREFIX}${l}`));
  out.push(...renderSlot('tc', ctx).map((l) => `${TC_LINE_PREFIX}${l}`));

  section('what is asked for');
  // Not `CONNECT`: newer Squid releases predefine that name; our own name parses the same everywhere.
  out.push('acl tunnel method CONNECT');
  rules('acl.request');
  rules('acl.address');
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
  const enforcedAllowlists = listedTenants(plan, 'enforce').map((t) => t.name);
  if (audit.length) out.push(`acl audit_tenants myportname ${audit.join(' ')}`);
  if (enforcedAllowlists.length) out.push(`acl sni_enforced_tenants myportname ${enforcedAllowlists.join(' ')}`);
  out.push(
    'acl tls_step1 at_step SslBump1',
    // POLICY_DENIED: a refused CONNECT's 407 (see denyLines). The scheme accepts no one: its helper answers ERR.
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
  rules('acl.ports');
  for (const [ports, names] of ctx.groups.raw) {
    out.push(`acl ${groupAcl('raw', ports)} port ${ports}`, `acl ${groupAcl('raw', ports)}_tenants myportname ${names.join(' ')}`);
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
  for (const r of SQUID_RULES) out.push(`acl ${ruleAcl(r.id)} annotate_transaction decision=${r.decision} rule=${r.id}`);
  if (audit.length) {
    for (const id of AUDITABLE_RULES) out.push(`acl ${wouldDenyAcl(id)} annotate_transaction decision=would-deny rule=${id}`);
  }
  out.push('acl tls_spliced annotate_transaction tls=spliced');

  section('access rules: first match wins');
  // The only allow before the denies: it matches nothing a tenant can send (see HEALTH_PROBE).
  out.push(`http_access allow ${HEALTH_PROBE.acl}`);
  rules('access.manager');
  rules('access.audit');
  // The checks that deny in every mode: names first (no DNS), then ports, then the resolved address.
  rules('deny.name');
  rules('deny.port');
  rules('deny.address');
  // An audited request that passed every check it cannot skip keeps its would-deny verdict.
  if (audit.length) out.push('http_access allow any_tenant would_deny');
  // One allow for every tenant (each has passed its own denies above), then the default deny.
  rules('access.final');

  section('tunnels that passed: peek at the ClientHello, then splice or close; nothing is decrypted');
  for (const [ports] of ctx.groups.raw) {
    const id = groupAcl('raw', ports);
    out.push(`ssl_bump splice tls_step1 ${id}_tenants ${id} tls_spliced`);
  }
  out.push('ssl_bump peek tls_step1');
  // Step 2: the ClientHello is in. An audited tunnel already marked would-deny by its CONNECT is not counted again.
  if (audit.length) out.push('ssl_bump splice would_deny tls_spliced');
  rules('bump.presence');
  rules('bump.name');
  out.push('ssl_bump splice all tls_spliced');
  rules('bump.unsupported');

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

/** What every rule renders from, worked out once. */
function renderContext(plan: EgressPlan): RenderContext {
  return {
    plan,
    audit: plan.tenants.filter((t) => t.mode === 'audit').map((t) => t.name),
    groups: {
      connect: groupByPorts(plan.tenants, tunnelPortsOf),
      http: groupByPorts(plan.tenants, (t) => t.httpPorts),
      raw: groupByPorts(
        plan.tenants.filter((t) => t.rawTunnelPorts.length),
        (t) => t.rawTunnelPorts,
      ),
    },
  };
}

/** Tenants sharing a destination-port set share one ACL pair, so the file grows by names, not rules. */
function groupByPorts(tenants: readonly TenantPlan[], ports: (t: TenantPlan) => readonly number[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const t of tenants) {
    const key = ports(t).join(' ');
    groups.set(key, [...(groups.get(key) ?? []), t.name]);
  }
  return [...groups];
}
