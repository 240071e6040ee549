// Reads egresshub.yaml once: YAML with source positions, then the zod schema; every problem is
// reported with its field path, line and the value found, so the user can fix all of them at once.
import { readFileSync } from 'node:fs';
import { notUtf8Text } from '../untrusted/file';
import { isMap, isPair, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError, formatPath, UsageError, type ConfigProblem } from './errors';
import { buildPlan, type EgressPlan } from './plan';
import type { EgressHubConfig } from './props';
import { configSchema, type EgressConfig } from './schema';

/** Where the CLI and the CDK app look for the config when none is named. */
export const DEFAULT_CONFIG_FILE = 'egresshub.yaml';

/**
 * Reads and validates a config file. `hint` is what the caller's user can do when the file cannot be read
 * (commands that take --config say so; `diff` names its two arguments).
 */
export function loadConfigFile(
  file: string,
  hint = 'pass --config FILE, or copy examples/egresshub.yaml to ./egresshub.yaml',
): EgressConfig {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String((e as Error).message);
    throw new UsageError(`cannot read config ${file}: ${why}; ${hint}`);
  }
  const problem = notUtf8Text(bytes, file);
  if (problem?.startsWith('it is UTF-16')) throw new UsageError(`cannot read config ${file}: ${problem}`);
  const text = bytes.toString('utf8');
  if (problem || text.includes('\u0000')) throw new UsageError(`cannot read config ${file}: it is a binary file, not YAML; ${hint}`);
  return parseConfig(text, file);
}

/**
 * How many alias expansions (`*name`) a config may use. yaml's default (100) guards against "billion
 * laughs" documents from untrusted sources; a config is written by the platform team, and one that
 * shares tenant blocks through anchors legitimately needs a few aliases per tenant (2,000 tenants).
 * Expansion stays linear in this bound, so it still stops an exponential document.
 */
export const MAX_CONFIG_ALIASES = 20_000;

/** Parses and validates config text. Throws ConfigError listing every problem found. */
export function parseConfig(input: string, file = DEFAULT_CONFIG_FILE): EgressConfig {
  // Line ends of old Mac editors (CR alone) would make the whole file one line, read as one comment ("empty").
  const text = input.includes('\n') ? input : input.replaceAll('\r', '\n');
  const lineCounter = new LineCounter();
  // `merge`: YAML merge keys (`<<: *defaults`), which people use to share tenant blocks, work as they expect.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true, merge: true });
  if (doc.errors.length === 0 && doc.contents === null) {
    throw new ConfigError(file, [
      { path: '', line: 1, message: 'the config file is empty; start from examples/egresshub.yaml (docs/config.md)' },
    ]);
  }
  if (doc.errors.length > 0) throw new ConfigError(file, [yamlProblem(doc, lineCounter, text)]);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_CONFIG_ALIASES }) ?? {};
  } catch (e) {
    if (!/alias/i.test((e as Error).message)) throw e;
    throw new ConfigError(file, [
      {
        path: '',
        message: `the config expands YAML aliases (*name) more than ${MAX_CONFIG_ALIASES} times; share fewer blocks through anchors (e.g. one anchor per allowlist instead of per field), or split tenants across hubs`,
      },
    ]);
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(file, [{ path: '', line: 1, message: 'the config must be a YAML mapping (region:, account:, hub:, tenants:)' }]);
  }
  return checkConfig(data, file, (path, wantKey) => position(doc, lineCounter, path, wantKey));
}

/**
 * Validates a config given as an object (a CDK app's props, `EgressHubConfig`) with the rules a YAML file
 * meets. Throws ConfigError listing every problem by its field path; `source` names the config in messages.
 */
export function validateConfig(input: unknown, source = 'EgressHubConfig'): EgressConfig {
  return checkConfig(input, source);
}

/**
 * Validates a config given as props and decides every derived value (names, ports, stacks): what the
 * constructs build from. Throws ConfigError naming each invalid field.
 *
 * @example
 * const plan = planEgress({ region: 'ap-northeast-1', account: '111111111111', hub: { availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c'] } });
 */
export function planEgress(config: EgressHubConfig): EgressPlan {
  return buildPlan(validateConfig(config));
}

/** Where a field sits in the source text, when there is one. */
type Locate = (path: (string | number)[], wantKey: boolean) => { line: number; col: number } | undefined;

function checkConfig(data: unknown, file: string, locate?: Locate): EgressConfig {
  const result = configSchema.safeParse(data);
  if (result.success) return result.data;
  const problems = withoutLibraryBounds(flattenIssues(result.error.issues)).map((issue) => toProblem(issue, data, locate));
  throw new ConfigError(file, withoutMisspelledRequired(dedupe(problems)));
}

/**
 * A required key written with a typo gives two problems: the key is missing, and an unknown key looks
 * like it. The second one already says what to do ("did you mean …"), so the first is left out.
 */
function withoutMisspelledRequired(problems: ConfigProblem[]): ConfigProblem[] {
  const parent = (path: string) => path.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
  const suggested = new Set(
    problems.flatMap((p) => {
      const m = /did you mean "([^"]+)"/.exec(p.message);
      return m ? [`${parent(p.path)}.${m[1]}`] : [];
    }),
  );
  return problems.filter((p) => !(p.message === REQUIRED && suggested.has(p.path)));
}

/**
 * The first YAML error only: once the parser is lost, every later "error" follows from the first one
 * and would send the user after problems that are not there. A duplicated key names the key and both lines.
 */
function yamlProblem(doc: Document, lc: LineCounter, text: string): ConfigProblem {
  const [first] = [...doc.errors].sort((a, b) => a.pos[0] - b.pos[0]);
  const err = first!;
  const pos = lc.linePos(err.pos[0]);
  if (err.code === 'DUPLICATE_KEY') {
    const dup = duplicateKey(doc, err.pos[0]);
    if (dup) {
      const firstLine = lc.linePos(dup.firstAt).line;
      return {
        path: formatPath([...dup.path, dup.key]),
        line: pos.line,
        column: pos.col,
        message: `key "${dup.key}" appears twice in the same mapping (lines ${firstLine} and ${pos.line}); keep one of them`,
      };
    }
  }
  const message = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const near = text
    .slice(err.pos[0], err.pos[0] + 30)
    .split('\n')[0]!
    .trim();
  return {
    path: '',
    line: pos.line,
    column: pos.col,
    message: `YAML syntax: ${message}${near ? ` (near "${near}")` : ''}; fix this line first, later lines may be fine`,
  };
}

/** The mapping, key and first occurrence of a key repeated at `offset`. */
function duplicateKey(doc: Document, offset: number): { key: string; firstAt: number; path: (string | number)[] } | undefined {
  let found: { key: string; firstAt: number; path: (string | number)[] } | undefined;
  visit(doc, {
    Map(_key, map, ancestors) {
      const seen = new Map<unknown, number>();
      for (const pair of map.items) {
        const k = pair.key as Node | null;
        const value = (k as { value?: unknown } | null)?.value;
        const start = k?.range?.[0];
        if (start === undefined) continue;
        if (seen.has(value) && start === offset) {
          found = { key: String(value), firstAt: seen.get(value)!, path: pathOf(ancestors) };
          return visit.BREAK;
        }
        if (!seen.has(value)) seen.set(value, start);
      }
      return undefined;
    },
  });
  return found;
}

/** The config path of a node from its visitor ancestors (pairs give keys, sequences give indexes). */
function pathOf(ancestors: readonly unknown[]): (string | number)[] {
  const path: (string | number)[] = [];
  for (let i = 0; i < ancestors.length; i++) {
    const a = ancestors[i];
    const next = ancestors[i + 1];
    if (isPair(a)) path.push(String((a.key as { value?: unknown } | null)?.value));
    else if (isSeq(a) && next !== undefined) path.push(a.items.indexOf(next));
  }
  return path;
}

type Issue = z.core.$ZodIssue;

const REQUIRED = 'this field is required; add it';

/** Unions report one issue per branch; keep the branch that got furthest, it is the one the user meant. */
function flattenIssues(issues: readonly Issue[], prefix: PropertyKey[] = []): Issue[] {
  return issues.flatMap((issue): Issue[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const deepest = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0]!;
      if (depth(deepest) > 0) return flattenIssues(deepest, path);
      return [{ ...issue, path, message: 'expected "*" (any public destination) or a list of domain patterns' }];
    }
    return [{ ...issue, path }];
  });
}

/**
 * zod's `.int()` adds a safe-integer bound (±2^53-1) of its own; a value beyond it (e.g. `1e23`) is also
 * outside every bound we state, so the library's bound would be a second, raw message for the same mistake.
 */
function withoutLibraryBounds(issues: Issue[]): Issue[] {
  const isSafeIntBound = (i: Issue) =>
    (i.code === 'too_big' && Number(i.maximum) === Number.MAX_SAFE_INTEGER) ||
    (i.code === 'too_small' && Number(i.minimum) === Number.MIN_SAFE_INTEGER);
  const key = (i: Issue) => i.path.map(String).join('.');
  const others = new Set(issues.filter((i) => !isSafeIntBound(i)).map(key));
  return issues
    .filter((i) => !(isSafeIntBound(i) && others.has(key(i))))
    .map((i) => (isSafeIntBound(i) ? { ...i, message: 'expected a whole number of a sensible size' } : i));
}

function depth(issues: readonly Issue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length));
}

function toProblem(issue: Issue, data: unknown, locate?: Locate): ConfigProblem {
  let path = issue.path as (string | number)[];
  let message = issue.message;
  let received: string | undefined;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const known = knownKeys(path);
    const hint = closest(key, known);
    message = `unknown key "${key}"${hint ? `; did you mean "${hint}"?` : ''}${known.length ? ` (allowed here: ${known.join(', ')})` : ''}`;
    path = [...path, key];
  } else {
    const value = getAt(data, path);
    if (value === undefined && issue.code !== 'custom') {
      message = REQUIRED;
    } else {
      if (value !== undefined) received = show(value);
      if (issue.code === 'invalid_type') {
        message = `expected ${article(issue.expected)}${issue.expected === 'string' && typeof value === 'number' ? ' (put IDs in quotes)' : ''}`;
      } else if (issue.code === 'invalid_value') {
        message = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      }
    }
  }
  const pos = locate?.(path, issue.code === 'unrecognized_keys');
  return { path: formatPath(path), line: pos?.line, column: pos?.col, message, received };
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function show(value: unknown): string {
  // JSON has no Infinity or NaN (it would print `null`): show them as YAML writes them.
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf';
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function getAt(data: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>(
    (acc, key) => (acc != null && typeof acc === 'object' ? (acc as Record<string | number, unknown>)[key] : undefined),
    data,
  );
}

/** Line/column of the node at `path`, or of its nearest existing ancestor (for missing fields). */
function position(doc: Document, lc: LineCounter, path: (string | number)[], wantKey: boolean) {
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n);
    if (wantKey && n === path.length && n > 0) {
      const parent = sub.length > 1 ? doc.getIn(sub.slice(0, -1), true) : doc.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === sub[sub.length - 1]);
        const range = (pair?.key as Node | undefined)?.range;
        if (range) return lc.linePos(range[0]);
      }
      continue;
    }
    const node = (n === 0 ? doc.contents : doc.getIn(sub, true)) as Node | undefined;
    if (node?.range) return lc.linePos(node.range[0]);
    if (n > 0 && isSeq(doc.getIn(sub.slice(0, -1), true))) continue;
  }
  return undefined;
}

/** The keys the schema allows at `path`: zod's issue does not list them, so walk the schema. */
function knownKeys(path: readonly (string | number)[]): string[] {
  let schema: unknown = configSchema;
  const def = (s: unknown) => (s as { _zod: { def: Record<string, unknown> } })._zod.def;
  const unwrap = (s: unknown): unknown => {
    const d = def(s);
    return d.type === 'default' || d.type === 'optional' ? unwrap(d.innerType) : s;
  };
  for (const key of path) {
    schema = unwrap(schema);
    const d = def(schema);
    if (d.type === 'array') schema = d.element;
    else if (d.type === 'object') schema = (d.shape as Record<string, unknown>)[key];
    else return [];
    if (schema === undefined) return [];
  }
  const d = def(unwrap(schema));
  return d.type === 'object' ? Object.keys(d.shape as object) : [];
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = 3;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) [best, bestDist] = [c, d];
  }
  return best;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}|${p.message}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}
