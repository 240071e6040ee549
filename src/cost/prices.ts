// The price book: list prices per Region from prices.json (each with its source, the date read and
// whether it is an assumption), plus the user's `--price key=value` overrides. The cost model reads
// prices only through a PriceBook, so every number in a report can be traced to its source.
import { readNumber } from '../untrusted/number';
import { UsageError } from '../config/errors';
import data from './prices.json';

/** One list price, with its source page, the date it was read and whether it is an assumption. */
export interface Price {
  readonly usd: number;
  readonly unit: string;
  readonly source: string;
  /** ISO date the price was read from its source. */
  readonly read: string;
  /** True when no AWS page states the amount: the result depends on it and the output says so. */
  readonly assumption: boolean;
  readonly note?: string;
  /** True when the user set it with --price. */
  readonly overridden?: boolean;
}

/** Prices by key (e.g. `nat.hour`) for one region. */
export type PriceBook = Readonly<Record<string, Price>>;

interface PriceFile {
  readonly hoursPerMonth: number;
  readonly regions: Readonly<Record<string, Readonly<Record<string, Price>>>>;
}

const FILE = data as PriceFile;

/** AWS bills hourly resources over an average month of 730 hours (8,760 h / 12). */
export const HOURS_PER_MONTH = FILE.hoursPerMonth;

/** The regions prices.json has prices for. */
export const PRICED_REGIONS: readonly string[] = Object.keys(FILE.regions).sort();

/** Prices of the hub's monitoring (CloudWatch Logs, metrics, alarms, dashboard, Contributor Insights). */
export const MONITORING_PRICE_KEYS = [
  'logs.ingest-gb',
  'logs.store-gb-month',
  'cw.metric-month',
  'cw.alarm-metric-month',
  'cw.composite-alarm-month',
  'cw.dashboard-month',
  'cw.insight-rule-month',
  'cw.insight-events-million',
] as const;

/** Price keys every region must carry; `ec2.<type>` keys are open-ended (any instance type may be added). */
export const PRICE_KEYS = [
  'nat.hour',
  'nat.gb',
  'endpoint.hour',
  'endpoint.gb',
  'endpoint.gb.next-4pb',
  'endpoint.gb.over-5pb',
  'service-network.resource-hour',
  'service-network.gb',
  'ipv4.hour',
  'cross-az.gb',
  'nlb.hour',
  'nlb.lcu-hour',
  'resource-gateway.hour',
  ...MONITORING_PRICE_KEYS,
  'tgw.attachment-hour',
  'tgw.gb',
  'nfw.endpoint-hour',
  'nfw.gb',
] as const;

const EC2_KEY_RE = /^ec2\.[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/;

/** The price book of `region` with `overrides` applied; overrides may also add `ec2.<type>` prices. */
export function priceBook(region: string, overrides: Readonly<Record<string, number>> = {}): PriceBook {
  const table = FILE.regions[region];
  if (!table) {
    throw new UsageError(
      `no prices for region "${region}": prices.json covers ${PRICED_REGIONS.join(', ')}; pick one of them with --region, or add the region to src/cost/prices.json`,
    );
  }
  const book: Record<string, Price> = { ...table };
  for (const [key, usd] of Object.entries(overrides)) {
    const base = book[key];
    book[key] = {
      usd,
      unit: base?.unit ?? (key.startsWith('ec2.') ? 'per instance-hour, Linux on-demand' : 'as given'),
      source: '--price',
      read: new Date().toISOString().slice(0, 10),
      assumption: false,
      overridden: true,
    };
  }
  return book;
}

/** Parses repeated `--price key=value` flags into overrides, rejecting unknown keys and bad numbers. */
export function parsePriceOverrides(flags: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const key = eq > 0 ? flag.slice(0, eq).trim() : '';
    const raw = eq > 0 ? flag.slice(eq + 1).trim() : '';
    if (!key || !raw) {
      throw new UsageError(`--price expects key=value in USD, e.g. --price endpoint.hour=0.014 (got "${flag}")`);
    }
    if (!(PRICE_KEYS as readonly string[]).includes(key) && !EC2_KEY_RE.test(key)) {
      throw new UsageError(
        `--price: unknown price key "${key}"; known keys: ${PRICE_KEYS.join(', ')}, or ec2.<instance type> such as ec2.t4g.small`,
      );
    }
    const usd = readNumber(raw, { min: 0, max: 1_000_000 });
    if (!/^\d+(\.\d+)?$/.test(raw) || !usd.ok) {
      throw new UsageError(`--price ${key}: expected an amount in USD from 0 to 1,000,000 such as 0.014 (got "${raw}")`);
    }
    out[key] = usd.value;
  }
  return out;
}

/** The amount of a price that must exist (region tables carry every PRICE_KEY). */
export function usd(book: PriceBook, key: string): number {
  const p = book[key];
  if (!p) {
    if (key.startsWith('ec2.')) {
      const type = key.slice(4);
      throw new UsageError(
        `no price for instance type ${type} in this region; known: ${Object.keys(book)
          .filter((k) => k.startsWith('ec2.'))
          .map((k) => k.slice(4))
          .join(', ')}; add it with --price ec2.${type}=<USD per hour>`,
      );
    }
    throw new Error(`price key ${key} missing from prices.json`);
  }
  return p.usd;
}
