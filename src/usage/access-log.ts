// The proxies' access log, read back: one parser for the key=value lines squid-conf.ts tells Squid to
// write (docs/policy.md). The lab matrix, the usage report and the CloudWatch metric-filter tests all
// read lines through here, so a change to the log format breaks one place, loudly.

/** Splits a `key=value key=value` line into its fields (values never contain spaces in our format). */
export function parseLogLine(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const token of line.trim().split(/ +/)) {
    const eq = token.indexOf('=');
    if (eq > 0) fields[token.slice(0, eq)] = token.slice(eq + 1);
  }
  return fields;
}

export type Decision = 'allowed' | 'denied' | 'would-deny' | 'other';

/**
 * An audit-mode tunnel whose ClientHello would have been refused is logged twice: once by the peek, with the
 * verdict (`decision=would-deny`, Squid's `NONE_NONE`, no bytes), and once as the tunnel itself (`TCP_TUNNEL`, its
 * bytes). The first is a verdict, not a request: counts of requests and bytes skip it, would-deny counts keep it.
 */
export function isPeekVerdict(fields: Readonly<Record<string, string | undefined>>): boolean {
  return fields.method === 'CONNECT' && fields.squid === 'NONE_NONE' && fields.decision === 'would-deny' && fields.status === '200';
}

/** One request as the usage report sees it. */
export interface AccessLogEntry {
  /** Seconds since the epoch, with milliseconds (Squid's `%ts.%03tu`). */
  readonly ts: number;
  readonly tenant: string;
  readonly method: string;
  readonly host: string;
  /** Destination port; undefined when Squid logged `-`. */
  readonly port?: number;
  readonly status?: number;
  /** Bytes received from the client (request, headers included). */
  readonly bytesIn: number;
  /** Bytes sent to the client (response, headers included). */
  readonly bytesOut: number;
  /** `other` when no http_access line decided (`decision=-`, e.g. a request Squid could not parse). */
  readonly decision: Decision;
  /** The SNI of the tunnel's ClientHello (`sni=`), when the proxy peeked at one. */
  readonly sni?: string;
  /** A peek's verdict line (isPeekVerdict), not a request of its own. */
  readonly verdictOnly: boolean;
  /** The policy rule that decided (`-` when none did). */
  readonly rule: string;
}

export type ParsedLine = { readonly ok: true; readonly entry: AccessLogEntry } | { readonly ok: false; readonly reason: string };

const REQUIRED = ['ts', 'tenant', 'method', 'host', 'bytes_in', 'bytes_out', 'decision'] as const;
const UINT = /^\d+$/;

/** Parses one access-log line; never throws: a line that is not ours says why in `reason`. */
export function parseAccessLogLine(line: string): ParsedLine {
  if (line.trim() === '') return { ok: false, reason: 'empty line' };
  if (
    line
      .trim()
      .split(/ +/)
      .some((t) => t.indexOf('=') <= 0)
  )
    return { ok: false, reason: 'not a key=value line' };
  const f = parseLogLine(line);
  const missing = REQUIRED.filter((k) => f[k] === undefined || f[k] === '');
  if (missing.length > 0) return { ok: false, reason: `missing ${missing.join(', ')}` };
  const ts = Number(f.ts);
  if (!/^\d+(\.\d+)?$/.test(f.ts!) || !Number.isFinite(ts)) return { ok: false, reason: `bad ts "${f.ts}"` };
  // Squid writes `-` for a size it never measured (a connection that failed before any byte moved).
  const size = (k: 'bytes_in' | 'bytes_out'): number | undefined => (f[k] === '-' ? 0 : UINT.test(f[k]!) ? Number(f[k]) : undefined);
  const bytesIn = size('bytes_in');
  const bytesOut = size('bytes_out');
  if (bytesIn === undefined) return { ok: false, reason: `bad bytes_in "${f.bytes_in}"` };
  if (bytesOut === undefined) return { ok: false, reason: `bad bytes_out "${f.bytes_out}"` };
  const optInt = (v: string | undefined) => (v !== undefined && UINT.test(v) ? Number(v) : undefined);
  const decision: Decision = f.decision === 'allowed' || f.decision === 'denied' || f.decision === 'would-deny' ? f.decision : 'other';
  return {
    ok: true,
    entry: {
      ts,
      tenant: f.tenant!,
      method: f.method!,
      host: f.host!,
      port: optInt(f.port),
      status: optInt(f.status),
      bytesIn,
      bytesOut,
      decision,
      rule: f.rule ?? '-',
      sni: f.sni && f.sni !== '-' ? f.sni.toLowerCase() : undefined,
      verdictOnly: isPeekVerdict(f),
    },
  };
}

export interface MalformedLine {
  /** `file:line` or another label of where the line came from. */
  readonly where: string;
  readonly reason: string;
  readonly line: string;
}

/**
 * The intake every reader of the log shares (the usage report, the allowlist learner): blank lines skipped,
 * lines counted, a line that is not ours counted as malformed with a few samples kept, and the entry returned.
 */
export class AccessLogIntake {
  lines = 0;
  malformed = 0;
  readonly samples: MalformedLine[] = [];

  constructor(private readonly maxSamples = 5) {}

  /** The line's entry; undefined for a blank line (not counted) or a malformed one (counted, maybe sampled). */
  read(line: string, where = '-'): AccessLogEntry | undefined {
    if (line.trim() === '') return undefined;
    this.lines++;
    const parsed = parseAccessLogLine(line);
    if (parsed.ok) return parsed.entry;
    this.malformed++;
    if (this.samples.length < this.maxSamples) this.samples.push({ where, reason: parsed.reason, line: line.slice(0, 200) });
    return undefined;
  }
}
