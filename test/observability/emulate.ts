// An offline stand-in for what CloudWatch Logs does with an access-log line: the transformer
// (parseKeyValue on @message, then typeConverter) and the small part of the JSON filter-pattern
// grammar our metric filters use (`$.key != "text"`, `$.key >= 0`, joined by `&&` and `||`), and Contributor
// Insights rules of the shape ours have (one key, In/NotIn filters, Count or Sum). It follows
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
 * Does the event match the filter pattern? Supports `{ group }` and `{ (group) && (group) ... }`, where a group
 * is one term or terms joined by `||`, and a term is `$.key op value` with value `*`, `"text"` or an integer.
 */
export function matches(pattern: string, event: Event): boolean {
  const body = /^\{ (.*) \}$/.exec(pattern)?.[1];
  if (body === undefined) throw new Error(`emulator: pattern ${pattern} is outside the supported subset`);
  const groups = body.includes(' && ') ? body.split(' && ').map((t) => /^\((.*)\)$/.exec(t)?.[1]) : [body];
  return groups.every((g) => {
    if (g === undefined) throw new Error(`emulator: pattern ${pattern} is outside the supported subset`);
    return g.split(' || ').some((t) => term(t, event, pattern));
  });
}

/**
 * What a Contributor Insights rule (CloudWatchLogRule schema, JSON log format, one key) counts per contributor
 * over these events: Filters with `In`/`NotIn` must all hold; Count adds 1, Sum adds the numeric `ValueOf`.
 */
export function contributions(ruleBody: string, events: readonly Event[]): Map<string, number> {
  const rule = JSON.parse(ruleBody) as {
    LogFormat: string;
    Contribution: { Keys: string[]; ValueOf?: string; Filters: { Match: string; In?: string[]; NotIn?: string[] }[] };
    AggregateOn: 'Count' | 'Sum';
  };
  if (rule.LogFormat !== 'JSON' || rule.Contribution.Keys.length !== 1) throw new Error('emulator: one-key JSON rules only');
  const field = (path: string, e: Event) => e[path.replace(/^\$\./, '')];
  const out = new Map<string, number>();
  for (const e of events) {
    const ok = rule.Contribution.Filters.every((f) => {
      if (Object.keys(f).some((k) => k !== 'Match' && k !== 'In' && k !== 'NotIn')) throw new Error('emulator: In/NotIn filters only');
      const v = field(f.Match, e);
      if (v === undefined) return false;
      return (f.In === undefined || f.In.includes(String(v))) && (f.NotIn === undefined || !f.NotIn.includes(String(v)));
    });
    if (!ok) continue;
    const key = field(rule.Contribution.Keys[0]!, e);
    if (key === undefined) continue;
    let add = 1;
    if (rule.AggregateOn === 'Sum') {
      const v = field(rule.Contribution.ValueOf ?? '', e);
      if (typeof v !== 'number') continue;
      add = v;
    }
    out.set(String(key), (out.get(String(key)) ?? 0) + add);
  }
  return out;
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
