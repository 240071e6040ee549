// The charge-back report: access-log lines in, per-tenant requests, bytes, decisions, top destinations
// and top denials out, plus each tenant's share of the bytes (the key to split the hub's bill by).
// Pure and streaming: lines are added one at a time, so a month of logs never has to fit in memory.
import { AccessLogIntake, type AccessLogEntry, type MalformedLine } from './access-log';

export interface UsageOptions {
  /** Inclusive start, in milliseconds since the epoch. @default - no lower bound */
  readonly from?: number;
  /** Exclusive end, in milliseconds since the epoch. @default - no upper bound */
  readonly to?: number;
  /** Entries in each tenant's top lists. @default 5 */
  readonly top?: number;
  /** Malformed lines kept as examples. @default 5 */
  readonly malformedSamples?: number;
}

export interface Destination {
  readonly host: string;
  readonly requests: number;
  /** Bytes in + out of those requests. */
  readonly bytes: number;
}

export interface Denial {
  readonly host: string;
  readonly rule: string;
  /** `would-deny`: an audit-mode tenant's request the rule would have refused (it passed). */
  readonly decision: 'denied' | 'would-deny';
  readonly requests: number;
}

export interface TenantUsage {
  readonly tenant: string;
  readonly requests: number;
  readonly allowed: number;
  readonly denied: number;
  /**
   * Audit-mode verdicts: requests that passed but that enforcement would refuse (counted in `allowed` or the
   * tunnel's own line as well), and peeks whose ClientHello would have been refused.
   */
  readonly wouldDeny: number;
  /** Requests no policy line decided (`decision=-`). */
  readonly other: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** bytesIn + bytesOut. */
  readonly bytes: number;
  /** This tenant's bytes as a percentage of all tenants' bytes (0 when nothing moved). */
  readonly sharePercent: number;
  readonly topDestinations: readonly Destination[];
  readonly topDenials: readonly Denial[];
}

export interface UsageReport {
  /** The period asked for (ISO 8601), or null when open. */
  readonly from: string | null;
  readonly to: string | null;
  /** Timestamps of the first and last request counted (ISO 8601), null when none. */
  readonly firstRequest: string | null;
  readonly lastRequest: string | null;
  /** Lines read, blank lines excluded. */
  readonly lines: number;
  /** Requests counted (inside the period). */
  readonly requests: number;
  /** Well-formed lines outside the period. */
  readonly outsidePeriod: number;
  readonly malformed: number;
  readonly malformedSamples: readonly MalformedLine[];
  /**
   * Lines Squid wrote without a tenant (`tenant=-`: a connection closed before it sent a request, so no
   * listener rule ran). Counted here, never charged to a tenant, and left out of the totals and shares.
   */
  readonly unattributed: { readonly requests: number; readonly bytes: number };
  readonly totals: {
    readonly requests: number;
    readonly allowed: number;
    readonly denied: number;
    readonly wouldDeny: number;
    readonly other: number;
    readonly bytesIn: number;
    readonly bytesOut: number;
    readonly bytes: number;
  };
  /** By bytes, largest first (ties by name). */
  readonly tenants: readonly TenantUsage[];
}

interface Acc {
  requests: number;
  allowed: number;
  denied: number;
  'would-deny': number;
  other: number;
  bytesIn: number;
  bytesOut: number;
  destinations: Map<string, { requests: number; bytes: number }>;
  denials: Map<string, { host: string; rule: string; decision: 'denied' | 'would-deny'; requests: number }>;
}

export const DEFAULT_TOP = 5;

export class UsageAccumulator {
  private readonly tenants = new Map<string, Acc>();
  private readonly intake: AccessLogIntake;
  private outside = 0;
  private unattributed = { requests: 0, bytes: 0 };
  private first = Infinity;
  private last = -Infinity;

  constructor(private readonly options: UsageOptions = {}) {
    this.intake = new AccessLogIntake(options.malformedSamples ?? 5);
  }

  /** Adds one raw line; blank lines are ignored, anything unparseable is counted as malformed. */
  add(line: string, where = '-'): void {
    const entry = this.intake.read(line, where);
    if (entry) this.addEntry(entry);
  }

  private addEntry(e: AccessLogEntry): void {
    const ms = e.ts * 1000;
    if ((this.options.from !== undefined && ms < this.options.from) || (this.options.to !== undefined && ms >= this.options.to)) {
      this.outside++;
      return;
    }
    if (e.tenant === '-') {
      this.unattributed.requests++;
      this.unattributed.bytes += e.bytesIn + e.bytesOut;
      return;
    }
    this.first = Math.min(this.first, ms);
    this.last = Math.max(this.last, ms);
    let a = this.tenants.get(e.tenant);
    if (!a) {
      a = {
        requests: 0,
        allowed: 0,
        denied: 0,
        'would-deny': 0,
        other: 0,
        bytesIn: 0,
        bytesOut: 0,
        destinations: new Map(),
        denials: new Map(),
      };
      this.tenants.set(e.tenant, a);
    }
    if (e.decision === 'denied' || e.decision === 'would-deny') {
      const host = e.rule.startsWith('sni-') && e.sni ? e.sni : e.host;
      const key = `${host} ${e.rule} ${e.decision}`;
      const d = a.denials.get(key) ?? { host, rule: e.rule, decision: e.decision, requests: 0 };
      d.requests++;
      a.denials.set(key, d);
    }
    a[e.decision]++;
    // A peek's verdict line is not a request: the tunnel has its own line, with its bytes.
    if (e.verdictOnly) return;
    a.requests++;
    a.bytesIn += e.bytesIn;
    a.bytesOut += e.bytesOut;
    if (e.decision !== 'denied') {
      const d = a.destinations.get(e.host) ?? { requests: 0, bytes: 0 };
      d.requests++;
      d.bytes += e.bytesIn + e.bytesOut;
      a.destinations.set(e.host, d);
    }
  }

  report(): UsageReport {
    const top = this.options.top ?? DEFAULT_TOP;
    const all = [...this.tenants.values()];
    const sum = (f: (a: Acc) => number) => all.reduce((n, a) => n + f(a), 0);
    const totalBytes = sum((a) => a.bytesIn + a.bytesOut);
    const tenants: TenantUsage[] = [...this.tenants.entries()]
      .map(([tenant, a]) => ({
        tenant,
        requests: a.requests,
        allowed: a.allowed,
        denied: a.denied,
        wouldDeny: a['would-deny'],
        other: a.other,
        bytesIn: a.bytesIn,
        bytesOut: a.bytesOut,
        bytes: a.bytesIn + a.bytesOut,
        sharePercent: totalBytes === 0 ? 0 : (100 * (a.bytesIn + a.bytesOut)) / totalBytes,
        topDestinations: [...a.destinations.entries()]
          .map(([host, d]) => ({ host, requests: d.requests, bytes: d.bytes }))
          .sort((x, y) => y.bytes - x.bytes || y.requests - x.requests || x.host.localeCompare(y.host))
          .slice(0, top),
        topDenials: [...a.denials.values()]
          .map((d) => ({ ...d }))
          .sort((x, y) => y.requests - x.requests || x.host.localeCompare(y.host) || x.rule.localeCompare(y.rule))
          .slice(0, top),
      }))
      .sort((x, y) => y.bytes - x.bytes || x.tenant.localeCompare(y.tenant));
    const iso = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString());
    return {
      from: iso(this.options.from),
      to: iso(this.options.to),
      firstRequest: iso(this.first),
      lastRequest: iso(this.last),
      lines: this.intake.lines,
      requests: sum((a) => a.requests),
      outsidePeriod: this.outside,
      malformed: this.intake.malformed,
      malformedSamples: [...this.intake.samples],
      unattributed: { ...this.unattributed },
      totals: {
        requests: sum((a) => a.requests),
        allowed: sum((a) => a.allowed),
        denied: sum((a) => a.denied),
        wouldDeny: sum((a) => a['would-deny']),
        other: sum((a) => a.other),
        bytesIn: sum((a) => a.bytesIn),
        bytesOut: sum((a) => a.bytesOut),
        bytes: totalBytes,
      },
      tenants,
    };
  }
}

/** The report for an in-memory list of lines (tests, small inputs). */
export function usageReport(lines: Iterable<string>, options: UsageOptions = {}): UsageReport {
  const acc = new UsageAccumulator(options);
  let n = 0;
  for (const l of lines) acc.add(l, `line ${++n}`);
  return acc.report();
}
