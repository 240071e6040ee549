// The proxies' access log, read back: one parser for the key=value lines squid-conf.ts tells Squid to
// write (docs/policy.md). The lab matrix, the usage report and the CloudWatch metric-filter tests all
// read lines through here, so a change to the log format breaks one place, loudly.
import { MAX_BYTES, readNumber, type NumberBounds } from '../untrusted/number';
import { shown } from '../untrusted/text';

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
/** Squid's `%ts.%03tu`: from the epoch to the last second an ISO 8601 date with a 4-digit year can show. */
const TS_BOUNDS = { min: 0, max: 253_402_300_799.999 } as const;
const BYTES_BOUNDS = { min: 0, max: MAX_BYTES, integer: true } as const;
const PORT_BOUNDS = { min: 0, max: 65_535, integer: true } as const;
const STATUS_BOUNDS = { min: 0, max: 999, integer: true } as const;

/** A log field's number: the digits Squid writes, within bounds; undefined otherwise. */
function field(v: string | undefined, bounds: NumberBounds, format = UINT): number | undefined {
  if (v === undefined || !format.test(v)) return undefined;
  const r = readNumber(v, bounds);
  return r.ok ? r.value : undefined;
}

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
  const ts = field(f.ts, TS_BOUNDS, /^\d+(\.\d+)?$/);
  if (ts === undefined) return { ok: false, reason: `bad ts "${shown(f.ts!, 40)}" (expected epoch seconds before the year 10000)` };
  // Squid writes `-` for a size it never measured (a connection that failed before any byte moved).
  const size = (k: 'bytes_in' | 'bytes_out'): number | undefined => (f[k] === '-' ? 0 : field(f[k], BYTES_BOUNDS));
  const bytesIn = size('bytes_in');
  const bytesOut = size('bytes_out');
  if (bytesIn === undefined) return { ok: false, reason: `bad bytes_in "${shown(f.bytes_in!, 40)}" (expected a whole number up to 2^53)` };
  if (bytesOut === undefined)
    return { ok: false, reason: `bad bytes_out "${shown(f.bytes_out!, 40)}" (expected a whole number up to 2^53)` };
  const decision: Decision = f.decision === 'allowed' || f.decision === 'denied' || f.decision === 'would-deny' ? f.decision : 'other';
  return {
    ok: true,
    entry: {
      ts,
      tenant: f.tenant!,
      method: f.method!,
      host: f.host!,
      port: field(f.port, PORT_BOUNDS),
      status: field(f.status, STATUS_BOUNDS),
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
