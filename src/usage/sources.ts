// Where access-log lines come from: files copied off the proxies (streamed line by line), or the hub's
// CloudWatch Logs group through FilterLogEvents, page by page. Both feed a UsageAccumulator; the period
// is parsed here so `--from`/`--to` mean the same for both.
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { CloudWatchLogsClient, paginateFilterLogEvents } from '@aws-sdk/client-cloudwatch-logs';
import { explainAwsError, quietSdkNodeWarning } from '../aws/errors';
import { notUtf8Text } from '../untrusted/file';
import { UsageError } from '../config/errors';

const RELATIVE_RE = /^(\d+)([mhdw])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const MAX_SPAN_MS = 100 * 366 * UNIT_MS.d;

/** `2026-11-01`, `2026-11-01T09:00`, `2026-11-01 09:00:00.5`, each with an optional `Z` or `±hh:mm` after a time. */
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/i;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * A point in time for --from/--to: ISO 8601 (`2026-11-01`, `2026-11-01T09:00:00Z`, a space instead of the `T`),
 * epoch seconds, or a span before `now` (`30m`, `24h`, `7d`, `2w`). A time without a zone is UTC, like the log,
 * whatever the machine's zone; an impossible date (`2026-02-30`) is refused, not rolled over.
 */
export function parseTime(value: string, flag: string, now = Date.now()): number {
  const v = value.trim();
  const rel = RELATIVE_RE.exec(v);
  if (rel) {
    const span = Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS];
    // A span past every log (and past what a Date can hold) is a typo: say so instead of failing on the date.
    if (span > MAX_SPAN_MS)
      throw new UsageError(
        `${flag}: "${value}" reaches more than 100 years back; give a date instead (e.g. 2026-11-01) or a shorter span such as 30d`,
      );
    return now - span;
  }
  if (/^\d{9,10}(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const m = ISO_RE.exec(v);
  if (!m) {
    throw new UsageError(
      `${flag}: cannot read "${value}" as a time; use ISO 8601 (2026-11-01 or 2026-11-01T09:00:00Z), epoch seconds, or a span before now such as 24h or 7d`,
    );
  }
  // Built from its parts with Date.UTC: Date.parse reads some forms in the machine's zone and rolls 02-30 over.
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const impossible = (what: string) => new UsageError(`${flag}: "${value}" is not a real time (${what}); fix the date or time`);
  if (month < 1 || month > 12) throw impossible(`there is no month ${month}`);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > days) throw impossible(`${MONTHS[month - 1]} ${year} has ${days} days`);
  if (hour > 23 || minute > 59 || second > 59) throw impossible('hours run to 23, minutes and seconds to 59');
  const zone = m[8]?.toUpperCase();
  let offsetMin = 0;
  if (zone && zone !== 'Z') {
    const [, sign, hh, mm] = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    if (Number(hh) > 23 || Number(mm) > 59) throw impossible(`offset ${zone} is not one`);
    offsetMin = (sign === '-' ? -1 : 1) * (Number(hh) * 60 + Number(mm));
  }
  const ms = Math.round(Number(m[7] ?? 0) * 1000);
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day); // setUTCFullYear keeps years below 100 as written (Date.UTC would add 1900)
  utc.setUTCHours(hour, minute, second, ms);
  return utc.getTime() - offsetMin * 60_000;
}

/** Checks that the period is not empty. */
export function checkPeriod(from: number | undefined, to: number | undefined): void {
  if (from !== undefined && to !== undefined && from >= to) {
    throw new UsageError(
      `--from ${new Date(from).toISOString()} is not before --to ${new Date(to).toISOString()}; the period would be empty: swap them or widen it`,
    );
  }
}

/** Streams every line of every file into the accumulator; a missing file is a usage error, named. */
/** Where read lines go: the usage report's accumulator, the allowlist learner. */
export interface LineSink {
  add(line: string, where?: string): void;
}

export async function readLogFiles(files: readonly string[], acc: LineSink, onFile: (file: string) => void = () => {}): Promise<void> {
  // Every file is checked before any is read: a bad last file fails at once, and one file named twice (or by two
  // names) would be summed twice, doubling someone's bill.
  const seen = new Map<string, string>();
  for (const file of files) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(file);
    } catch {
      throw new UsageError(`--log ${file}: no such file; copy the access log off the proxy first (see docs/operations.md) or fix the path`);
    }
    if (!stat.isFile()) throw new UsageError(`--log ${file}: not a regular file; pass the access.log file itself`);
    const id = `${stat.dev}:${stat.ino}`;
    const first = seen.get(id);
    if (first !== undefined)
      throw new UsageError(`--log ${file}: the same file as --log ${first}; it would be counted twice: name each file once`);
    seen.set(id, file);
    const problem = notUtf8Text(firstBytes(file), file);
    if (problem?.startsWith('it is UTF-16')) throw new UsageError(`--log ${file}: ${problem}`);
    if (problem) throw new UsageError(`--log ${file}: a binary file, not a Squid access log; pass the access.log file itself`);
  }
  for (const file of files) {
    onFile(file);
    const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    let n = 0;
    for await (const line of rl) acc.add(line, `${file}:${++n}`);
  }
}

/** The first 8 KiB of a file, to tell text from what is not (notUtf8Text). */
function firstBytes(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(8192);
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
  } finally {
    closeSync(fd);
  }
}

export interface CloudWatchSource {
  readonly logGroupName: string;
  /** Milliseconds since the epoch; CloudWatch filters on the event timestamp. */
  readonly startTime?: number;
  readonly endTime?: number;
  /** @default - a client for the default region and credentials chain */
  readonly client?: CloudWatchLogsClient;
  readonly region?: string;
  /**
   * Stop after this many pages, so a mistaken period cannot run for hours.
   * @default 10000 (up to 10,000 events or 1 MB each: far above a month of a busy hub's lines per call)
   */
  readonly maxPages?: number;
  /** How errors name the source to the user. @default '--from-cloudwatch' (the usage command's flag) */
  readonly flag?: string;
  /** The options that narrow the period, for the page-limit error. @default '--from/--to' */
  readonly narrowWith?: string;
}

/**
 * Reads the log group's events into the accumulator with FilterLogEvents, following nextToken until
 * CloudWatch returns none (a page may be empty while the search continues, so an empty page is not the end).
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
 */
export async function readCloudWatch(
  src: CloudWatchSource,
  acc: LineSink,
  onPage: (page: number, events: number) => void = () => {},
): Promise<{ pages: number; events: number }> {
  quietSdkNodeWarning();
  const client = src.client ?? new CloudWatchLogsClient(src.region ? { region: src.region } : {});
  const maxPages = src.maxPages ?? 10_000;
  let pages = 0;
  let events = 0;
  const paginator = paginateFilterLogEvents(
    { client },
    // The endTime of FilterLogEvents is inclusive; the report's `to` is exclusive, and the accumulator applies it exactly.
    { logGroupName: src.logGroupName, startTime: src.startTime, endTime: src.endTime },
  );
  try {
    for await (const page of paginator) {
      pages++;
      for (const e of page.events ?? []) {
        events++;
        acc.add(e.message ?? '', `${src.logGroupName}/${e.logStreamName ?? '?'}@${e.timestamp ?? '?'}`);
      }
      onPage(pages, events);
      if (pages >= maxPages) {
        throw new UsageError(
          `${src.flag ?? '--from-cloudwatch'}: stopped after ${maxPages} pages (${events} events) of ${src.logGroupName}; narrow the period with ${src.narrowWith ?? '--from/--to'}`,
        );
      }
    }
  } catch (e) {
    throw explainCloudWatchError(e, `${src.flag ?? '--from-cloudwatch'} ${src.logGroupName}`);
  }
  return { pages, events };
}

/** The AWS errors a user can fix, as usage errors that say how (src/aws/errors.ts). */
function explainCloudWatchError(e: unknown, source: string): unknown {
  return explainAwsError(
    e,
    source,
    'logs:FilterLogEvents on the log group',
    'the log group does not exist in this region; check --log-group and --region',
  );
}
