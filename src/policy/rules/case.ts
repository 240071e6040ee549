// The lab matrix's cases, as the rules bring them (src/lab/matrix.ts runs them with real clients against real
// Squid). A case is built per lab tenant from a CaseContext, so the policy needs nothing of the lab's own code.
import type { TenantPlan } from '../../config';
import { tunnelPortsOf } from '../ports';
import { CANONICAL_IPV4_RE, NUMERIC_HOST_RE } from './rule';

/** What a client saw: the origin's answer, the proxy's refusal, or no TCP connection at all. */
export type CaseOutcome = 'allowed' | 'denied' | 'no-connect';

export interface RuleCase {
  readonly id: string;
  readonly title: string;
  readonly expected: CaseOutcome;
  /**
   * The rule the access log names for the case's request (curl's, or the raw client's where there is no curl):
   * `tenant-allow` when it passes, the deciding deny, or an audit rule's name when audit mode lets it through as
   * would-deny. null: the request never reaches Squid (no-connect).
   */
  readonly rule: string | null;
  /** The rule for Node's fetch where it asks something else (it tunnels `http://` URLs: CONNECT :80). */
  readonly fetchRule?: string;
  /** What is asked, for the table. */
  readonly request: string;
  readonly curl?: {
    readonly url: string;
    readonly proxy: 'endpoint' | 'none' | { readonly port: number };
    readonly connectTimeout?: number;
    /** More curl options (`--connect-to` to choose the SNI apart from the CONNECT host, `-p`, `--http2`). */
    readonly args?: readonly string[];
    /** 'allowed' only when the origin answered over HTTP/2 (ALPN survived the peek). */
    readonly http2?: boolean;
  };
  readonly fetch?: string;
  readonly raw?: { readonly line: string; readonly port?: number; readonly payload?: string };
}

/** The lab as one tenant's cases see it (src/lab/matrix.ts builds it from the topology). */
export interface CaseContext {
  readonly tenant: TenantPlan;
  /** A name the tenant may reach (any for a `"*"` tenant). */
  readonly allowedHost: string;
  /** The tenant's first wildcard's parent (example.net for a `"*"` tenant), if it has one. */
  readonly suffix: string | undefined;
  /** The hub proxy's address in the lab. */
  readonly squidIp: string;
  /** The emulated internet's web server. */
  readonly webIp: string;
  /** A public name that resolves to rebindTarget, a blocked address. */
  readonly rebindHost: string;
  readonly rebindTarget: string;
  /** Every lab tenant's CONNECT and plain-HTTP ports, so each tenant is tried on the others' ports too. */
  readonly labConnectPorts: readonly number[];
  readonly labHttpPorts: readonly number[];
}

/** `*.github.com` admits github.com and any subdomain; "*" admits every name (the policy's documented semantics). */
export function allowedByConfig(t: TenantPlan, host: string): boolean {
  if (t.allow.any) return true;
  const h = host.toLowerCase().replace(/\.$/, '');
  return t.allow.exact.includes(h) || t.allow.suffixes.some((s) => h === s || h.endsWith(`.${s}`));
}

/** 'allowed' when the host is on the tenant's allowlist and `ok`, else 'denied'. */
export const expectFor = (t: TenantPlan, host: string, ok = true): CaseOutcome => (ok && allowedByConfig(t, host) ? 'allowed' : 'denied');

/** A request as the `http_access` rules see it: the host as Squid canonicalised it, and where it resolves. */
export interface ModelRequest {
  readonly method: 'GET' | 'CONNECT';
  readonly host: string;
  readonly port: number;
  /** The resolved address: public, in the hub CIDR, or in BLOCKED_DESTINATIONS. */
  readonly to: 'public' | 'hub' | 'blocked';
}

/**
 * The rule the `http_access` list decides a request by, first match wins: the order renderSquidConf writes (the
 * spelling, the allowlist, the ports, then the addresses). Only the cases' expectations use it; the lab proves each
 * against Squid's access log (checkRules in src/lab/matrix.ts).
 */
export function httpAccessRule(t: TenantPlan, r: ModelRequest): string {
  if (new RegExp(NUMERIC_HOST_RE, 'i').test(r.host) && !new RegExp(CANONICAL_IPV4_RE).test(r.host)) return 'ip-literal-spelling';
  const listed = allowedByConfig(t, r.host);
  if (!listed && t.mode === 'enforce') return 'not-allowlisted';
  if (r.method === 'CONNECT' ? !tunnelPortsOf(t).includes(r.port) : !t.httpPorts.includes(r.port))
    return r.method === 'CONNECT' ? 'connect-port' : 'http-port';
  if (r.to === 'hub') return 'hub-cidr';
  if (r.to === 'blocked') return 'blocked-destination';
  return listed ? 'tenant-allow' : 'not-allowlisted';
}

/** The rule for a URL fetched by Node's fetch (which tunnels `http://` through CONNECT :80). */
export function fetchRule(t: TenantPlan, host: string, to: ModelRequest['to']): string {
  return httpAccessRule(t, { method: 'CONNECT', host, port: 80, to });
}

/** The same URL through curl and Node's fetch. */
export const viaBoth = (url: string) => ({ curl: { url, proxy: 'endpoint' as const }, fetch: url });
