// `egresshub cidr report|allocate`: overlap groups and Transit Gateway readiness of a VPC inventory
// (CSV/JSON, the config's spokes, or DescribeVpcs over profiles × regions), and the next free blocks of
// a pool for new projects, avoiding everything in use and the hub.
import type { Command } from 'commander';
import { UsageError } from '../../config/errors';
import {
  allocate,
  analyze,
  awsTargets,
  fetchInventory,
  hubRecord,
  mergeInventories,
  parseBlock,
  readInventoryFile,
  recordsFromPlan,
  type Block,
  type VpcRecord,
} from '../../cidr';
import { checkRegion } from '../../aws/errors';
import { plural, shown, terminalSafe } from '../../untrusted/text';
import type { CommandSpec } from '../command';
import { addConfigOption, numberOption, optionalPlanFromOptions } from '../options';
import type { Printer } from '../printer';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const splitList = (values: unknown): string[] =>
  ((values as string[] | undefined) ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);

function inventoryOptions(cmd: Command): Command {
  cmd
    .option('-i, --input <file>', 'VPC inventory, .csv or .json (repeatable)', collect)
    .option('--from-aws', 'read the inventory with DescribeVpcs (AWS SDK v3, default credential chain)')
    .option('--profiles <list>', 'with --from-aws: AWS profiles to read, comma-separated or repeated', collect)
    .option('--regions <list>', 'with --from-aws: regions to read, comma-separated or repeated', collect);
  return addConfigOption(cmd, 'its spokes join the inventory and its hub CIDR is avoided').option(
    '--hub <cidr>',
    'the hub VPC CIDR, when not taken from --config',
  );
}

/** The inventory from every source given, plus the hub record when known. */
async function gatherInventory(
  printer: Printer,
  opts: Record<string, unknown>,
  required: boolean,
): Promise<{ vpcs: VpcRecord[]; hub?: VpcRecord }> {
  const lists: VpcRecord[][] = [];
  let hub: VpcRecord | undefined;
  for (const file of (opts.input as string[] | undefined) ?? []) lists.push(readInventoryFile(file));
  const plan = optionalPlanFromOptions(opts);
  if (plan) {
    const fromPlan = recordsFromPlan(plan);
    lists.push(fromPlan.vpcs);
    hub = fromPlan.hub;
  }
  if (typeof opts.hub === 'string') hub = hubRecord(opts.hub);
  const profiles = splitList(opts.profiles);
  const regions = splitList(opts.regions).map((r) => checkRegion(r, '--regions'));
  if (opts.fromAws) {
    const targets = awsTargets(profiles, regions);
    lists.push(
      await fetchInventory({
        targets,
        onTarget: (t) => printer.step(`DescribeVpcs in ${t.region}${t.profile ? ` (profile ${t.profile})` : ''}`),
      }),
    );
  } else if (profiles.length > 0 || regions.length > 0) {
    throw new UsageError('--profiles and --regions only apply with --from-aws; add --from-aws to read the VPCs from AWS');
  }
  const vpcs = mergeInventories(...lists);
  if (required && vpcs.length === 0) {
    throw new UsageError('no VPCs to analyse: pass --input FILE (.csv or .json), --from-aws --regions R, or --config FILE with spokes');
  }
  return { vpcs, hub };
}

const report: CommandSpec = {
  name: 'report',
  summary: 'overlap groups and which VPCs could join a Transit Gateway as they are',
  configure: (cmd) => {
    inventoryOptions(cmd).option('--per-region', 'compare only VPCs of the same region (one Transit Gateway per region, not peered)');
  },
  run: async ({ printer }, opts) => {
    const { vpcs, hub } = await gatherInventory(printer, opts, true);
    const r = analyze(hub ? [...vpcs, hub] : vpcs, opts.perRegion ? 'region' : 'all');
    // Inventory fields come from files and APIs: escaped where they enter the tables (cells keep their own line breaks).
    const label = new Map(r.vpcs.map((v) => [v.vpc, v.hub ? 'the hub' : `${shown(v.vpcId)} (${shown(v.account)}, ${shown(v.region)})`]));
    printer.data(r);
    const ready = r.vpcs.filter((v) => !v.hub && v.tgwReady).length;
    printer.line(
      `${plural(r.vpcCount, 'VPC')}${hub ? ` and the hub (${hub.blocks[0]!.cidr})` : ''}: ${plural(r.overlaps.length, 'overlapping block pair')} in ${plural(r.groups.length, 'group')}; ${plural(ready, 'VPC')} could join a Transit Gateway as they are, ${r.vpcCount - ready} could not`,
    );
    printer.table(
      ['vpc', 'account', 'region', 'cidrs', 'TGW as-is', 'why not'],
      r.vpcs.map((v) => [
        v.hub ? `hub${v.name ? ` (${shown(v.name)})` : ''}` : `${shown(v.vpcId)}${v.name ? ` (${shown(v.name)})` : ''}`,
        shown(v.account),
        shown(v.region),
        v.cidrs.join('\n'),
        v.tgwReady ? printer.ok('yes') : printer.bad('no'),
        v.reasons.map((x) => terminalSafe(x)).join('\n'),
      ]),
    );
    if (r.groups.length > 0) {
      printer.line('overlap groups (VPCs that share address space, directly or through another member):');
      printer.table(
        ['group', 'VPCs', 'overlapping blocks'],
        r.groups.map((g, i) => [
          i + 1,
          g.vpcs.map((k) => label.get(k) ?? k).join('\n'),
          [...new Set(g.overlaps.flatMap((o) => [o.a.cidr, o.b.cidr]))].join('\n'),
        ]),
      );
    }
    return 0;
  },
};

const allocateCmd: CommandSpec = {
  name: 'allocate',
  summary: 'the next free, non-overlapping blocks of a pool for new project VPCs (stable across runs)',
  configure: (cmd) => {
    cmd
      .requiredOption('--pool <cidr>', 'the address pool to allocate from, e.g. 10.64.0.0/12')
      .requiredOption('--size <prefix>', 'prefix length of each new block, e.g. 20 for /20')
      .option('--count <n>', 'how many blocks', '1')
      .option('--reserve <cidr>', 'another block to avoid (repeatable)', collect);
    inventoryOptions(cmd);
  },
  run: async ({ printer }, opts) => {
    if (!/^\/?\d+$/.test(String(opts.size))) throw new UsageError(`--size expects a prefix length such as 20 (got "${String(opts.size)}")`);
    const size = numberOption(String(opts.size).replace(/^\//, ''), '--size', { min: 0, max: 128, integer: true }, '20');
    const count = numberOption(String(opts.count), '--count', { min: 1, max: 1_000_000, integer: true }, '5');
    const { vpcs, hub } = await gatherInventory(printer, opts, false);
    const reserved: Block[] = ((opts.reserve as string[] | undefined) ?? []).map((c) => {
      const p = parseBlock(c);
      if (!p.ok) throw new UsageError(`--reserve: "${c}": ${p.reason}`);
      return p.block;
    });
    if (!hub) printer.warn('no hub CIDR known: pass --config FILE or --hub CIDR so that new blocks also avoid the hub');
    const used = [...vpcs, ...(hub ? [hub] : [])].flatMap((v) => v.blocks).concat(reserved);
    const a = allocate({ pool: String(opts.pool), size, count, used });
    printer.data({ ...a, remaining: a.remaining.toString() });
    printer.line(
      `${plural(a.blocks.length, `/${a.size} block`)} from ${a.pool}, avoiding ${plural(a.avoided.length, 'block')} in use; ${a.remaining} more /${a.size} free`,
    );
    printer.table(
      ['#', 'cidr'],
      a.blocks.map((b, i) => [i + 1, b]),
    );
    return 0;
  },
};

export const cidr: CommandSpec = {
  name: 'cidr',
  summary: 'CIDR planning: overlap report and allocation of non-overlapping blocks for new projects',
  subcommands: [report, allocateCmd],
};
