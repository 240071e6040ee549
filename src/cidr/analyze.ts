// Overlap analysis of a VPC inventory: which blocks collide, which VPCs form overlap groups, and which
// VPCs could attach to a Transit Gateway as they are. AWS does not propagate a newly attached VPC's CIDR
// when it overlaps an already attached VPC's, so an overlapping VPC cannot be routed through the TGW:
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTransitGatewayVpcAttachment.html
import { compareBlocks, relation, type Block, type Relation } from './block';
import { vpcKey, type VpcRecord } from './inventory';

export interface Overlap {
  readonly a: { readonly vpc: string; readonly cidr: string };
  readonly b: { readonly vpc: string; readonly cidr: string };
  /** How a's block relates to b's. */
  readonly relation: Relation;
}

export interface OverlapGroup {
  /** VPC keys (account/region/vpcId) of the group, sorted. */
  readonly vpcs: readonly string[];
  readonly overlaps: readonly Overlap[];
}

export interface Readiness {
  readonly vpc: string;
  readonly vpcId: string;
  readonly account: string;
  readonly region: string;
  readonly name?: string;
  readonly cidrs: readonly string[];
  readonly hub: boolean;
  /** True when the VPC could attach to a Transit Gateway shared with every other VPC of the inventory. */
  readonly tgwReady: boolean;
  readonly reasons: readonly string[];
}

export interface CidrReport {
  readonly scope: Scope;
  readonly vpcCount: number;
  readonly overlaps: readonly Overlap[];
  readonly groups: readonly OverlapGroup[];
  readonly vpcs: readonly Readiness[];
}

interface Entry {
  readonly key: string;
  readonly block: Block;
}

/**
 * Which VPCs share one routing domain: `all` treats the whole inventory as one (Transit Gateways peered
 * across regions and accounts); `region` only compares VPCs of the same region (one TGW per region, not
 * peered). The hub is compared with everything in both scopes.
 */
export type Scope = 'all' | 'region';

/** Every pair of overlapping blocks from different VPCs, by a sweep over the blocks sorted by first address. */
export function findOverlaps(vpcs: readonly VpcRecord[], scope: Scope = 'all'): Overlap[] {
  const info = new Map(vpcs.map((v) => [vpcKey(v), v]));
  const sameDomain = (a: string, b: string) => {
    const [x, y] = [info.get(a)!, info.get(b)!];
    return scope === 'all' || x.hub === true || y.hub === true || x.region === y.region;
  };
  const entries: Entry[] = vpcs.flatMap((v) => v.blocks.map((block) => ({ key: vpcKey(v), block })));
  entries.sort((x, y) => compareBlocks(x.block, y.block) || x.key.localeCompare(y.key));
  const out: Overlap[] = [];
  const open: Entry[] = [];
  for (const e of entries) {
    // Blocks that ended before this one starts (or are of the other IP version) can overlap nothing later.
    for (let i = open.length - 1; i >= 0; i--) {
      const o = open[i]!;
      if (o.block.version !== e.block.version || o.block.end < e.block.start) open.splice(i, 1);
    }
    for (const o of open) {
      const rel = o.key !== e.key && sameDomain(o.key, e.key) ? relation(o.block, e.block) : null;
      if (rel) out.push({ a: { vpc: o.key, cidr: o.block.cidr }, b: { vpc: e.key, cidr: e.block.cidr }, relation: rel });
    }
    open.push(e);
  }
  return out;
}

/** Connected components of the "overlaps with" relation, largest first. */
export function overlapGroups(overlaps: readonly Overlap[]): OverlapGroup[] {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    if (!parent.has(k)) parent.set(k, k);
    let r = k;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(k, r);
    return r;
  };
  for (const o of overlaps) {
    const [ra, rb] = [find(o.a.vpc), find(o.b.vpc)];
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  }
  const groups = new Map<string, { vpcs: Set<string>; overlaps: Overlap[] }>();
  for (const o of overlaps) {
    const root = find(o.a.vpc);
    const g = groups.get(root) ?? { vpcs: new Set<string>(), overlaps: [] };
    g.vpcs.add(o.a.vpc).add(o.b.vpc);
    g.overlaps.push(o);
    groups.set(root, g);
  }
  return [...groups.values()]
    .map((g) => ({ vpcs: [...g.vpcs].sort(), overlaps: g.overlaps }))
    .sort((x, y) => y.vpcs.length - x.vpcs.length || x.vpcs[0]!.localeCompare(y.vpcs[0]!));
}

const RELATION_TEXT: Record<Relation, string> = { identical: 'is identical to', contains: 'contains', within: 'lies within' };

export function analyze(vpcs: readonly VpcRecord[], scope: Scope = 'all'): CidrReport {
  const overlaps = findOverlaps(vpcs, scope);
  const byVpc = new Map<string, string[]>();
  const label = new Map(vpcs.map((v) => [vpcKey(v), v.hub ? `the hub (${v.blocks[0]?.cidr})` : `${v.vpcId} (${v.account}, ${v.region})`]));
  const note = (vpc: string, text: string) => byVpc.set(vpc, [...(byVpc.get(vpc) ?? []), text]);
  for (const o of overlaps) {
    note(o.a.vpc, `${o.a.cidr} ${RELATION_TEXT[o.relation]} ${o.b.cidr} of ${label.get(o.b.vpc)}`);
    const back: Relation = o.relation === 'contains' ? 'within' : o.relation === 'within' ? 'contains' : 'identical';
    note(o.b.vpc, `${o.b.cidr} ${RELATION_TEXT[back]} ${o.a.cidr} of ${label.get(o.a.vpc)}`);
  }
  return {
    scope,
    vpcCount: vpcs.filter((v) => !v.hub).length,
    overlaps,
    groups: overlapGroups(overlaps),
    vpcs: vpcs.map((v) => {
      const key = vpcKey(v);
      const reasons = byVpc.get(key) ?? [];
      return {
        vpc: key,
        vpcId: v.vpcId,
        account: v.account,
        region: v.region,
        ...(v.name ? { name: v.name } : {}),
        cidrs: v.blocks.map((b) => b.cidr),
        hub: v.hub === true,
        tgwReady: reasons.length === 0,
        reasons,
      };
    }),
  };
}
