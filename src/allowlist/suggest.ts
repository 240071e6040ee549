// `egresshub allowlist suggest`: an allowlist proposal for one tenant, learned from its access-log lines. Every
// host the tenant reached or was refused (by name, never by address) is counted with its requests and bytes;
// hosts are merged into `*.parent` only where no public suffix (ICANN or private: `co.jp`, `s3.amazonaws.com`,
// `github.io`) sits at or under the parent, so a wildcard never spans two registrants; internal destinations and
// IP literals are never proposed. The proposal is compared with the tenant's current allowlist on request.
import { isIP } from 'node:net';
import { stringify } from 'yaml';
import type { TenantPlan } from '../config';
import { normaliseAllowlist, underSuffix } from '../config/plan';
import { isDomainPattern } from '../config/schema';
import { AccessLogIntake, type AccessLogEntry, type MalformedLine } from '../usage/access-log';
import { hasSuffixAtOrBelow } from './public-suffixes';
import { ruleById } from '../policy/rules';
import { plural } from '../untrusted/text';

/**
 * What a line's host says, by the rule that decided it (each rule's `logHost`, src/policy/rules/): `internal` (an
 * address or Squid itself: never a destination to propose), `asked` or `sni` (a name the tenant asked for, as the
 * request's host or the ClientHello's SNI), or nothing about names (ports, schemes, protocols; rules we do not know).
 */
const logHostOf = (rule: string) => ruleById(rule)?.logHost ?? 'none';

export interface HostUsage {
  readonly host: string;
  readonly requests: number;
  readonly bytes: number;
  /** Requests the policy refused or (audit) would refuse: the ones the current allowlist does not cover. */
  readonly refused: number;
}

export interface AllowEntry {
  /** `registry.npmjs.org` or `*.github.com`. */
  readonly pattern: string;
  readonly hosts: readonly string[];
  readonly requests: number;
  readonly bytes: number;
  readonly refused: number;
}

export interface Suggestion {
  readonly tenant: string;
  readonly lines: number;
  readonly malformed: number;
  readonly malformedSamples: readonly MalformedLine[];
  /** Lines of this tenant whose destination was internal or an IP literal (never proposed). */
  readonly internal: number;
  /**
   * Requests of this tenant naming a host no allowlist entry may hold (what `validate` refuses: `a..b.com`,
   * `host:8443`, control characters, a literal `*`): counted, a few kept as they were logged, never proposed.
   */
  readonly invalid: number;
  readonly invalidSamples: readonly string[];
  readonly hosts: readonly HostUsage[];
  readonly entries: readonly AllowEntry[];
}

export interface SuggestOptions {
  /** Hosts under one safe parent before they are merged into `*.parent`. @default 3 */
  readonly minHostsPerWildcard?: number;
}

/** Accumulates lines (the same sink shape as the usage report's, so the same file and CloudWatch readers feed it). */
export class AllowlistLearner {
  private readonly intake = new AccessLogIntake();
  private internal = 0;
  private invalid = 0;
  private readonly invalidSamples: string[] = [];
  private readonly hosts = new Map<string, { requests: number; bytes: number; refused: number }>();

  constructor(private readonly tenant: string) {}

  add(line: string, where = '-'): void {
    const entry = this.intake.read(line, where);
    if (entry?.tenant === this.tenant) this.addEntry(entry);
  }

  private addEntry(e: AccessLogEntry): void {
    // What the client named: the SNI for a verdict on the ClientHello, else the request's host.
    const said = logHostOf(e.rule);
    const host = (said === 'sni' && e.sni ? e.sni : e.host).toLowerCase().replace(/\.$/, '');
    if (said === 'internal' || isIP(host.replace(/^\[|\]$/g, '')) !== 0 || /^[0-9.]+$/.test(host) || !host.includes('.')) {
      this.internal++;
      return;
    }
    if (said !== 'asked' && said !== 'sni') return; // port and scheme refusals say nothing about which names are needed
    // A proposal passes the same check as a config's allow entries, and is a name, never a pattern.
    if (host.includes('*') || !isDomainPattern(host)) {
      this.invalid++;
      if (this.invalidSamples.length < 5 && !this.invalidSamples.includes(host)) this.invalidSamples.push(host.slice(0, 200));
      return;
    }
    const h = this.hosts.get(host) ?? { requests: 0, bytes: 0, refused: 0 };
    if (!e.verdictOnly) {
      h.requests++;
      h.bytes += e.bytesIn + e.bytesOut;
    }
    if (e.decision === 'denied' || e.decision === 'would-deny') h.refused++;
    this.hosts.set(host, h);
  }

  suggestion(options: SuggestOptions = {}): Suggestion {
    const hosts = [...this.hosts.entries()]
      .map(([host, h]) => ({ host, ...h }))
      .sort((a, b) => b.requests - a.requests || a.host.localeCompare(b.host));
    return {
      tenant: this.tenant,
      lines: this.intake.lines,
      malformed: this.intake.malformed,
      malformedSamples: [...this.intake.samples],
      internal: this.internal,
      invalid: this.invalid,
      invalidSamples: [...this.invalidSamples],
      hosts,
      entries: collapse(hosts, options.minHostsPerWildcard ?? 3),
    };
  }
}

/** The parents of a host below which a wildcard is safe, highest first (no public suffix at or under them). */
function safeParents(host: string, isSafe: (name: string) => boolean): string[] {
  const labels = host.split('.');
  const parents: string[] = [];
  for (let i = 1; i < labels.length - 1; i++) {
    const parent = labels.slice(i).join('.');
    if (isSafe(parent)) parents.push(parent);
  }
  return parents.reverse();
}

/**
 * Merges hosts into the highest safe parent that covers at least `minHosts` of them; the rest stay exact.
 * Linear in the hosts' labels: each host's parents are listed once, a parent's count of hosts not yet taken is
 * kept up to date as hosts are taken, and a parent's hosts are walked only when it becomes an entry (once).
 */
export function collapse(hosts: readonly HostUsage[], minHosts: number): AllowEntry[] {
  const safe = new Map<string, boolean>();
  const isSafe = (name: string) => {
    let v = safe.get(name);
    if (v === undefined) safe.set(name, (v = !hasSuffixAtOrBelow(name)));
    return v;
  };
  const parentsOf = hosts.map((h) => safeParents(h.host, isSafe));
  const under = new Map<string, number[]>();
  parentsOf.forEach((ps, i) => {
    for (const p of ps) {
      const list = under.get(p);
      if (list) list.push(i);
      else under.set(p, [i]);
    }
  });
  const left = new Map([...under].map(([p, list]) => [p, list.length]));
  const taken = new Uint8Array(hosts.length);
  const take = (i: number) => {
    taken[i] = 1;
    for (const p of parentsOf[i]!) left.set(p, left.get(p)! - 1);
  };
  const entries: AllowEntry[] = [];
  hosts.forEach((h, i) => {
    if (taken[i]) return;
    const parent = parentsOf[i]!.find((p) => left.get(p)! >= minHosts);
    const group = parent ? under.get(parent)!.filter((x) => !taken[x]) : [i];
    for (const x of group) take(x);
    const members = group.map((x) => hosts[x]!);
    entries.push({
      pattern: parent ? `*.${parent}` : h.host,
      hosts: members.map((x) => x.host).sort(),
      requests: members.reduce((n, x) => n + x.requests, 0),
      bytes: members.reduce((n, x) => n + x.bytes, 0),
      refused: members.reduce((n, x) => n + x.refused, 0),
    });
  });
  return entries.sort((a, b) => b.requests - a.requests || a.pattern.localeCompare(b.pattern));
}

export interface AllowlistDiff {
  /** Proposed entries the current allowlist does not cover. */
  readonly add: readonly AllowEntry[];
  /** Current entries that no host in the logs matched. */
  readonly unused: readonly string[];
  /** True when the tenant allows "*": nothing to add, everything is "used". */
  readonly any: boolean;
}

/** What the proposal adds to the tenant's allowlist, and which of its entries the logs never used. */
export function diffAllowlist(tenant: TenantPlan, s: Suggestion): AllowlistDiff {
  if (tenant.allow.any) return { add: [], unused: [], any: true };
  const exact = new Set(tenant.allow.exact);
  const suffixes = new Set(tenant.allow.suffixes);
  // `*.x` covers x itself too, as Squid's `.x` does.
  const covered = (host: string) => exact.has(host) || underSuffix(host, suffixes);
  const add = s.entries.filter((e) => !e.hosts.every(covered));
  const used = new Set<string>();
  for (const { host } of s.hosts) {
    if (exact.has(host)) used.add(host);
    if (suffixes.has(host)) used.add(`*.${host}`);
    for (let i = host.indexOf('.'); i >= 0; i = host.indexOf('.', i + 1))
      if (suffixes.has(host.slice(i + 1))) used.add(`*.${host.slice(i + 1)}`);
  }
  const unused = [...tenant.allow.exact, ...tenant.allow.suffixes.map((x) => `*.${x}`)].filter((c) => !used.has(c));
  return { add, unused, any: false };
}

/** The proposal as a YAML snippet for the tenant's `allow:` key, each entry commented with what it carried. */
export function renderSuggestion(s: Suggestion, humanBytes: (n: number) => string): string {
  const patterns = normaliseAllowlist(s.entries.map((e) => e.pattern));
  const kept = new Set(patterns.any ? [] : [...patterns.exact, ...patterns.suffixes.map((x) => `*.${x}`)]);
  const lines = [
    `# allowlist learned from ${plural(s.lines, 'log line')} for tenant ${s.tenant}: ${plural(s.hosts.length, 'host')} in ${plural(kept.size, 'entry', 'entries')}`,
    `- name: ${s.tenant}`,
    kept.size === 0 ? '  allow: [] # no host seen: the tenant made no request by name' : '  allow:',
  ];
  for (const e of s.entries.filter((x) => kept.has(x.pattern))) {
    const what = e.pattern.startsWith('*.') ? `${plural(e.hosts.length, 'host')}, ` : '';
    const refused = e.refused > 0 ? `, ${e.refused} refused or would-deny` : '';
    lines.push(`    - ${stringify(e.pattern).trim()} # ${what}${plural(e.requests, 'request')}, ${humanBytes(e.bytes)}${refused}`);
  }
  return `${lines.join('\n')}\n`;
}
