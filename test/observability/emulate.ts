// An offline stand-in for what CloudWatch Logs does with an access-log line: the transformer
// (parseKeyValue on @message, then typeConverter) and the small part of the JSON filter-pattern
// grammar our metric filters use (`$.key != "text"`, `$.key >= 0`, joined by `&&`). It follows
// the documented semantics; it is not CloudWatch, so patterns outside this subset are refused.
import type * as logs from 'aws-cdk-lib/aws-logs';

type Processor = logs.CfnTransformer.ProcessorProperty;
type Event = Record<string, string | number>;

export function transform(message: string, processors: readonly Processor[]): Event {
  const event: Event = {};
  for (const p of processors) {
    const kv = p.parseKeyValue as logs.CfnTransformer.ParseKeyValueProperty | undefined;
    const tc = p.typeConverter as { entries: { key: string; type: string }[] } | undefined;
    if (kv) {
      if (kv.source !== '@message') throw new Error(`emulator: parseKeyValue source ${String(kv.source)} not supported`);
      for (const pair of message.split(kv.fieldDelimiter ?? '&')) {
        const at = pair.indexOf(kv.keyValueDelimiter ?? '=');
        if (at <= 0) continue;
        event[pair.slice(0, at)] = pair.slice(at + 1);
      }
    } else if (tc) {
      for (const { key, type } of tc.entries) {
        const v = event[key];
        if (type !== 'integer') throw new Error(`emulator: type ${type} not supported`);
        // A value that is not an integer is left as it was (what CloudWatch does then is not documented).
        if (typeof v === 'string' && /^-?\d+$/.test(v)) event[key] = Number(v);
      }
    } else {
      throw new Error(`emulator: processor ${Object.keys(p).join(',')} not supported`);
    }
  }
  return event;
}

const TERM_RE = /^\$\.([a-z_]+) (=|!=|>=|<=|>|<) (\*|"[^"]*"|-?\d+)$/;

/**
 * Does the event match the filter pattern? Supports `{ term }` and `{ (term) && (term) ... }`, where a
 * term is `$.key op value` with value `*`, `"text"` or an integer.
 */
export function matches(pattern: string, event: Event): boolean {
  const body = /^\{ (.*) \}$/.exec(pattern)?.[1];
  if (body === undefined) throw new Error(`emulator: pattern ${pattern} is outside the supported subset`);
  const terms = body.includes('&&') ? body.split(' && ').map((t) => /^\((.*)\)$/.exec(t)?.[1]) : [body];
  return terms.every((t) => {
    if (t === undefined) throw new Error(`emulator: pattern ${pattern} is outside the supported subset`);
    return term(t, event, pattern);
  });
}

function term(text: string, event: Event, pattern: string): boolean {
  const m = TERM_RE.exec(text);
  if (!m) throw new Error(`emulator: pattern ${pattern} is outside the supported subset`);
  const [, key, op, raw] = m as unknown as [string, string, string, string];
  const v = event[key];
  if (v === undefined) return false;
  if (raw === '*') return op === '=';
  if (raw.startsWith('"')) {
    const text = raw.slice(1, -1);
    return op === '=' ? String(v) === text : op === '!=' ? String(v) !== text : false;
  }
  // Numeric comparisons only match numeric fields.
  if (typeof v !== 'number') return false;
  const n = Number(raw);
  const results: Record<string, boolean> = { '=': v === n, '!=': v !== n, '>=': v >= n, '<=': v <= n, '>': v > n, '<': v < n };
  return results[op] ?? false;
}

/** The value a metric transformation publishes for a matching event, or undefined when it publishes nothing. */
export function metricValue(value: string, event: Event): number | undefined {
  if (!value.startsWith('$.')) return Number(value);
  const v = event[value.slice(2)];
  return typeof v === 'number' ? v : undefined;
}
