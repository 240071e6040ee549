// What a policy rule is: one file per rule in this folder (docs/architecture.md, "A policy rule"), each a
// PolicyRule: its name in the access log, its kind, whether audit mode relaxes it, the lines it puts into squid.conf
// (or the nftables and tc scripts squid.conf carries), the lab matrix cases that prove it, and its line in
// docs/policy.md. The registry (index.ts) lists them in order; renderSquidConf, `allowlist suggest`, the lab
// matrix and the docs table read it.
import type { EgressPlan, TenantPlan } from '../../config';
import type { CaseContext, RuleCase } from './case';

/**
 * What a rule looks at. `address`: where the connection would go (or Squid itself); `name`: the host the client
 * named; `port`: the destination port; `protocol`: the request's scheme; `tls`: what travels inside a tunnel;
 * `verdict`: the allow and the default deny that close the list; `limit`: a tenant's share of the proxy (nftables, tc).
 */
export type RuleKind = 'address' | 'name' | 'port' | 'protocol' | 'tls' | 'verdict' | 'limit';

/**
 * Where a rule's lines go. renderSquidConf writes its own lines (listeners, shared ACLs, hygiene, logging) and,
 * at each slot, every rule's lines for that slot in registry order: the slots fix the file's order (first match
 * wins in `http_access` and `ssl_bump`), the registry the order within a slot.
 */
export const SLOTS = [
  /** ACLs on the request line, after `acl tunnel method CONNECT`. */
  'acl.request',
  /** ACLs on the host's spelling and the destination address. */
  'acl.address',
  /** The destination-port ACL pairs, one per distinct port set. */
  'acl.ports',
  /** `http_access` right after the health probe's allow. */
  'access.manager',
  /** Audit mode's would-deny annotations, which let evaluation go on. */
  'access.audit',
  /** Denies on what was asked for: cheap, no DNS. */
  'deny.name',
  /** Denies on the destination port. */
  'deny.port',
  /** Denies on the resolved address (a DNS lookup). */
  'deny.address',
  /** The last `http_access` lines: the allow and the default deny. */
  'access.final',
  /** `ssl_bump` at step 2: a ClientHello without SNI. */
  'bump.presence',
  /** `ssl_bump` at step 2: the SNI against the allowlist. */
  'bump.name',
  /** `on_unsupported_protocol`: bytes that are no TLS ClientHello. */
  'bump.unsupported',
  /** Comment lines at the top of the tenant-limits section. */
  'limits.comment',
  /** nftables maps and hook chains, inside the tenants' table (tenantLimitsRuleset). */
  'nft.hooks',
  /** nftables per-tenant chains, after the hooks. */
  'nft.tenants',
  /** `tc -batch` lines (fairShareTree). */
  'tc',
] as const;
export type Slot = (typeof SLOTS)[number];

/** A set of destination ports and the tenants that share it (one ACL pair for all of them). */
export type PortGroup = readonly [ports: string, tenants: readonly string[]];

/** What a rule renders from: the plan, and what renderSquidConf works out once for every rule. */
export interface RenderContext {
  readonly plan: EgressPlan;
  /** Names of the tenants in audit mode. */
  readonly audit: readonly string[];
  readonly groups: {
    /** Tenants by their CONNECT ports (TLS and raw). */
    readonly connect: readonly PortGroup[];
    /** Tenants by their plain-HTTP ports. */
    readonly http: readonly PortGroup[];
    /** Tenants by their raw tunnel ports (only tenants that have some). */
    readonly raw: readonly PortGroup[];
  };
}

/** A rule's line in docs/policy.md's rule table. */
export interface RuleDoc {
  /** What it refuses (or, for a limit, what it holds a tenant to). */
  readonly refuses: string;
  /** Which tenants, where, and why it sits where it does. */
  readonly notes: string;
}

export interface PolicyRule {
  /** The name in the access log's `rule=` field (and, for a limit, in its own log lines). */
  readonly id: string;
  readonly kind: RuleKind;
  /** Where the rule decides. */
  readonly enforcedBy: 'http_access' | 'ssl_bump' | 'nftables' | 'tc';
  /** An audit-mode tenant logs this rule as `decision=would-deny` instead of enforcing it. */
  readonly auditable: boolean;
  /** The `decision=` it logs (limits log none: their refusals never reach Squid). */
  readonly decision?: 'allowed' | 'denied';
  /**
   * What the host of a line this rule decided tells `allowlist suggest`: `internal`, an address or Squid itself, never
   * proposed; `asked`, the name the tenant asked for; `sni`, the name is the ClientHello's SNI; `none`, nothing about
   * which names the tenant needs (a port, a scheme, a protocol).
   */
  readonly logHost: 'internal' | 'asked' | 'sni' | 'none';
  /** Its lines, by slot. */
  readonly render?: { readonly [S in Slot]?: (ctx: RenderContext) => readonly string[] };
  /** The lab matrix cases it brings, run for every lab tenant (each names the rule it expects to decide). */
  readonly cases?: (ctx: CaseContext) => readonly RuleCase[];
  /** Lab tests that prove a rule no matrix case can show (a limit needs load, not one request). */
  readonly provenBy?: readonly string[];
  readonly doc: RuleDoc;
}

/**
 * A host made only of decimal or 0x-hex labels (an IPv4 literal in some spelling), and the one spelling accepted: the
 * canonical dotted quad. ip-literal-spelling.ts renders them; case.ts's first-match order reads them too.
 */
export const NUMERIC_HOST_RE = '^((0x[0-9a-f]*|[0-9]+)\\.){0,3}(0x[0-9a-f]*|[0-9]+)\\.?$';
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
export const CANONICAL_IPV4_RE = `^${OCTET}(\\.${OCTET}){3}$`;

/** The ACL that tags a transaction with the rule's verdict (`annotate_transaction` always matches: last on a line). */
export const ruleAcl = (id: string) => `r_${id.replaceAll('-', '_')}`;
/** The ACL that tags an audit-mode transaction as would-deny by the rule. */
export const wouldDenyAcl = (id: string) => `wd_${id.replaceAll('-', '_')}`;

/** The ACL name of a port group (`connect_ports_80_443`). */
export const groupAcl = (kind: 'connect' | 'http' | 'raw', ports: string) => `${kind}_ports_${ports.replaceAll(' ', '_')}`;

/** One deny: the ACLs that must all match, on plain requests, tunnels (CONNECT) or both. */
export interface Check {
  readonly on: 'request' | 'tunnel' | 'both';
  readonly acls: string;
  readonly rule: string;
}

/**
 * A deny as `http_access` lines. A plain request is denied with a 403. A CONNECT cannot be: on an ssl-bump port
 * Squid answers a CONNECT denied with any status but 407 by bumping the tunnel to show its error page, with a
 * certificate no client trusts (src/client_side_request.cc, sslBumpAccessCheck: "Force bump action on error"; 407 is
 * its one exception). Closing it without a reply is worse: Node's fetch retries such a CONNECT about a thousand times
 * a second until its timeout (seen in the lab). So a refused CONNECT gets 407, as smokescreen answers, from an
 * authentication scheme that never accepts anyone (POLICY_DENIED, `policy_denied`).
 */
export function denyLines(c: Check): string[] {
  const r = ruleAcl(c.rule);
  const lines: string[] = [];
  if (c.on !== 'tunnel') lines.push(`http_access deny !tunnel ${c.acls} ${r}`);
  // The second line is unreachable while the helper answers ERR; it keeps the deny should the helper fail.
  if (c.on !== 'request') lines.push(`http_access deny tunnel ${c.acls} ${r} policy_denied`, `http_access deny tunnel ${c.acls} ${r}`);
  return lines;
}

/**
 * A port rule's lines: an ACL per port group (the ports, and the tenants that share them), and a deny of a request
 * of the group's tenants to any other port. `http-port` and `connect-port` differ only in the group and what they deny.
 */
export function portGroupRender(group: 'http' | 'connect', on: Check['on'], rule: string): PolicyRule['render'] {
  return {
    'acl.ports': ({ groups }) =>
      groups[group].flatMap(([ports, names]) => [
        `acl ${groupAcl(group, ports)} port ${ports}`,
        `acl ${groupAcl(group, ports)}_tenants myportname ${names.join(' ')}`,
      ]),
    'deny.port': ({ groups }) =>
      groups[group].flatMap(([ports]) => {
        const acl = groupAcl(group, ports);
        return denyLines({ on, acls: `${acl}_tenants !${acl}`, rule });
      }),
  };
}

/** Tenants with an allowlist (not `"*"`) in the given mode. */
export const listedTenants = (plan: EgressPlan, mode: TenantPlan['mode']) => plan.tenants.filter((t) => !t.allow.any && t.mode === mode);

/** An nftables map's elements, a few dozen a line (squid.conf's lines must stay short, see MAX_CONF_LINE). */
export function mapElements(elements: readonly string[]): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < elements.length; i += 50) chunks.push(elements.slice(i, i + 50).join(', '));
  return chunks.map((c, i) => `    ${i === 0 ? 'elements = { ' : '             '}${c}${i === chunks.length - 1 ? ' }' : ','}`);
}
