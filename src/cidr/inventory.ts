// The VPC inventory the CIDR tools work on: read from CSV or JSON (our own shape, or the output of
// `aws ec2 describe-vpcs`), from the config's spokes, or from AWS. Every CIDR is validated and put in
// canonical form here, so the analysis never meets a malformed block.
import { readFileSync } from 'node:fs';
import { notUtf8Text } from '../untrusted/file';
import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { EgressPlan } from '../config';
import { UsageError } from '../config/errors';
import { compareBlocks, parseBlock, type Block } from './block';

export interface VpcRecord {
  readonly account: string;
  readonly region: string;
  readonly vpcId: string;
  readonly name?: string;
  /** Primary and secondary CIDR blocks, IPv4 and IPv6, canonical and sorted. */
  readonly blocks: readonly Block[];
  /** True for the egresshub hub VPC (from --config or --hub): never a project VPC. */
  readonly hub?: boolean;
}

/** Identifies a VPC across accounts and regions (VPC IDs are only unique within both). */
export function vpcKey(v: Pick<VpcRecord, 'account' | 'region' | 'vpcId'>): string {
  return `${v.account}/${v.region}/${v.vpcId}`;
}

/** A raw VPC before validation: the shape of our JSON files and of the CSV columns. */
export interface RawVpc {
  readonly account?: unknown;
  readonly region?: unknown;
  readonly vpcId?: unknown;
  readonly name?: unknown;
  readonly cidrs?: unknown;
}

/** The parts of an EC2 `Vpc` (DescribeVpcs) that the inventory reads. */
export interface Ec2Vpc {
  readonly VpcId?: string;
  readonly OwnerId?: string;
  readonly CidrBlock?: string;
  readonly CidrBlockAssociationSet?: readonly { readonly CidrBlock?: string; readonly CidrBlockState?: { readonly State?: string } }[];
  readonly Ipv6CidrBlockAssociationSet?: readonly {
    readonly Ipv6CidrBlock?: string;
    readonly Ipv6CidrBlockState?: { readonly State?: string };
  }[];
  readonly Tags?: readonly { readonly Key?: string; readonly Value?: string }[];
}

/** Blocks the VPC currently has: associations being removed or that failed are not routable space any more. */
export function fromEc2Vpc(vpc: Ec2Vpc, region: string): RawVpc {
  const v4 = (vpc.CidrBlockAssociationSet ?? []).filter((a) => a.CidrBlockState?.State === 'associated').map((a) => a.CidrBlock);
  const v6 = (vpc.Ipv6CidrBlockAssociationSet ?? [])
    .filter((a) => a.Ipv6CidrBlockState?.State === 'associated')
    .map((a) => a.Ipv6CidrBlock);
  const cidrs = [...(v4.length > 0 ? v4 : [vpc.CidrBlock]), ...v6].filter((c): c is string => typeof c === 'string');
  return { account: vpc.OwnerId, region, vpcId: vpc.VpcId, name: vpc.Tags?.find((t) => t.Key === 'Name')?.Value, cidrs };
}

/** Splits a CSV cell or accepts a JSON array: CIDRs may be separated by spaces, `;`, `,` or `|`. */
function cidrList(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') return value.split(/[\s;,|]+/).filter(Boolean);
  return undefined;
}

/**
 * Validates raw VPCs into records; rows with the same account/region/VPC are merged (one row per CIDR
 * is a common export). `where(i)` names the row in error messages.
 */
export function toRecords(raw: readonly RawVpc[], where: (i: number) => string): VpcRecord[] {
  const byKey = new Map<string, { account: string; region: string; vpcId: string; name?: string; blocks: Map<string, Block> }>();
  raw.forEach((r, i) => {
    const field = (name: keyof RawVpc, example: string): string => {
      const v = r[name];
      if (typeof v !== 'string' || v.trim() === '') {
        throw new UsageError(
          `${where(i)}: missing ${name} (got ${JSON.stringify(v) ?? 'nothing'}); every VPC needs account, region, vpcId and cidrs, e.g. ${example}`,
        );
      }
      return v.trim();
    };
    const account = field('account', '"111111111111"');
    const region = field('region', '"ap-northeast-1"');
    const vpcId = field('vpcId', '"vpc-0123456789abcdef0"');
    const cidrs = cidrList(r.cidrs);
    if (!cidrs || cidrs.length === 0) {
      throw new UsageError(
        `${where(i)}: ${vpcId} has no cidrs; list its primary and secondary CIDR blocks, e.g. "10.0.0.0/16 100.64.0.0/20"`,
      );
    }
    const key = vpcKey({ account, region, vpcId });
    const entry = byKey.get(key) ?? { account, region, vpcId, blocks: new Map<string, Block>() };
    if (typeof r.name === 'string' && r.name.trim()) entry.name = r.name.trim();
    for (const c of cidrs) {
      const p = parseBlock(c);
      if (!p.ok) throw new UsageError(`${where(i)}: ${vpcId}: "${c}": ${p.reason}`);
      entry.blocks.set(p.block.cidr, p.block);
    }
    byKey.set(key, entry);
  });
  return [...byKey.values()].map((e) => ({
    account: e.account,
    region: e.region,
    vpcId: e.vpcId,
    ...(e.name ? { name: e.name } : {}),
    blocks: [...e.blocks.values()].sort(compareBlocks),
  }));
}

/** Reads an inventory file: `.csv`, or `.json` holding an array, `{ "vpcs": [...] }` or DescribeVpcs output `{ "Vpcs": [...] }`. */
export function readInventoryFile(file: string): VpcRecord[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read inventory ${file}: ${code === 'ENOENT' ? 'no such file' : String(code)}; pass --input FILE (.csv or .json)`,
    );
  }
  const problem = notUtf8Text(bytes, file);
  if (problem) throw new UsageError(`cannot read inventory ${file}: ${problem}; pass a .csv or .json text file`);
  const text = bytes.toString('utf8');
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return parseInventoryCsv(text, file);
  if (ext === '.json') return parseInventoryJson(text, file);
  throw new UsageError(`inventory ${file}: unknown file type "${ext || '(none)'}"; use a .csv or .json file`);
}

/** CSV with a header row: account, region, vpcId (or vpc_id / vpc), optional name, cidrs (or cidr). */
export function parseInventoryCsv(text: string, file: string): VpcRecord[] {
  type Row = { record: Record<string, string>; info: { lines: number } };
  let rows: Row[];
  try {
    rows = parseCsv<Row>(text, {
      columns: (header: string[]) =>
        header.map((h) =>
          h
            .trim()
            .toLowerCase()
            .replace(/[^a-z0-9]/g, ''),
        ),
      skip_empty_lines: true,
      comment: '#',
      trim: true,
      info: true,
    });
  } catch (e) {
    throw new UsageError(
      `inventory ${file}: not valid CSV: ${(e as Error).message}; expected a header row such as account,region,vpcId,cidrs`,
    );
  }
  const col = (r: Record<string, string>, ...names: string[]) => names.map((n) => r[n]).find((v) => v !== undefined);
  checkCsvHeader(text, file, rows[0]?.record);
  const raw: RawVpc[] = rows.map(({ record }) => ({
    account: col(record, 'account', 'accountid', 'ownerid'),
    region: col(record, 'region'),
    vpcId: col(record, 'vpcid', 'vpc'),
    name: col(record, 'name'),
    cidrs: col(record, 'cidrs', 'cidr', 'cidrblocks', 'cidrblock'),
  }));
  return toRecords(raw, (i) => `${file}:${rows[i]!.info.lines}`);
}

/** The columns every inventory row needs, with the header spellings each accepts (normalised: lowercase, no punctuation). */
const CSV_COLUMNS: Record<string, readonly string[]> = {
  account: ['account', 'accountid', 'ownerid'],
  region: ['region'],
  vpcId: ['vpcid', 'vpc'],
  cidrs: ['cidrs', 'cidr', 'cidrblocks', 'cidrblock'],
};

/** A header without a needed column is one error about the header, not one "missing field" per row. */
function checkCsvHeader(text: string, file: string, first: Record<string, string> | undefined): void {
  if (first === undefined) return;
  const have = Object.keys(first);
  const missing = Object.entries(CSV_COLUMNS)
    .filter(([, names]) => !names.some((n) => have.includes(n)))
    .map(([name]) => name);
  if (missing.length === 0) return;
  const headerLine = text.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? '';
  throw new UsageError(
    `inventory ${file}: the header row has no ${missing.map((m) => `"${m}"`).join(', ')} column${missing.length === 1 ? '' : 's'} (found: ${headerLine.trim()}); expected a header row such as account,region,vpcId,cidrs`,
  );
}

export function parseInventoryJson(text: string, file: string): VpcRecord[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`inventory ${file}: not valid JSON: ${(e as Error).message}`);
  }
  const obj = (doc ?? {}) as { vpcs?: unknown; Vpcs?: unknown; Region?: unknown };
  if (Array.isArray(obj.Vpcs)) {
    // `aws ec2 describe-vpcs` output carries no region; a top-level "Region" may supply it.
    const region = typeof obj.Region === 'string' ? obj.Region : '(unknown)';
    return toRecords(
      (obj.Vpcs as Ec2Vpc[]).map((v) => fromEc2Vpc(v, region)),
      (i) => `${file}: Vpcs[${i}]`,
    );
  }
  const list = Array.isArray(doc) ? doc : obj.vpcs;
  if (!Array.isArray(list)) {
    throw new UsageError(
      `inventory ${file}: expected an array of VPCs, { "vpcs": [...] } or describe-vpcs output { "Vpcs": [...] } (got ${doc === null ? 'null' : typeof doc})`,
    );
  }
  return toRecords(list as RawVpc[], (i) => `${file}: [${i}]`);
}

/** The config's spokes as inventory, and its hub as a record marked `hub`. */
export function recordsFromPlan(plan: EgressPlan): { vpcs: VpcRecord[]; hub: VpcRecord } {
  const vpcs = toRecords(
    plan.spokes.map((s) => ({ account: s.account, region: s.region, vpcId: s.vpcId, cidrs: [s.vpcCidr] })),
    (i) => `config spokes[${i}]`,
  );
  return { vpcs, hub: hubRecord(plan.hub.cidr, plan.account, plan.region, plan.hub.stackName) };
}

export function hubRecord(cidr: string, account = '(hub)', region = '(hub)', name = 'egresshub hub'): VpcRecord {
  const p = parseBlock(cidr);
  if (!p.ok) throw new UsageError(`--hub: "${cidr}": ${p.reason}`);
  return { account, region, vpcId: 'hub', name, blocks: [p.block], hub: true };
}

/** Joins inventories; the same VPC seen twice (two profiles, file + config) keeps the union of its blocks. */
export function mergeInventories(...lists: readonly (readonly VpcRecord[])[]): VpcRecord[] {
  const byKey = new Map<string, VpcRecord>();
  for (const v of lists.flat()) {
    const key = vpcKey(v);
    const prev = byKey.get(key);
    if (!prev) {
      byKey.set(key, v);
      continue;
    }
    const blocks = new Map([...prev.blocks, ...v.blocks].map((b) => [b.cidr, b]));
    byKey.set(key, { ...prev, ...v, name: v.name ?? prev.name, blocks: [...blocks.values()].sort(compareBlocks) });
  }
  return [...byKey.values()];
}
