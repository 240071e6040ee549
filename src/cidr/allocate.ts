// Allocation of new, non-overlapping VPC blocks from a pool: the free space is the pool minus every
// block in use (inventory, hub, reservations), computed by cidr-tools; blocks are handed out lowest
// address first, so the same inputs always give the same answer.
import { excludeCidr } from 'cidr-tools';
import { UsageError } from '../config/errors';
import { addressText, compareBlocks, parseBlock, relation, VPC_PREFIX, type Block } from './block';

export interface AllocationRequest {
  readonly pool: string;
  /** Prefix length of each new block, e.g. 20 for /20. */
  readonly size: number;
  readonly count: number;
  /** Blocks in use (any IP version; only the pool's version matters). */
  readonly used: readonly Block[];
}

export interface Allocation {
  readonly pool: string;
  readonly size: number;
  readonly blocks: readonly string[];
  /** Blocks of this size still free in the pool after this allocation (a bigint can exceed 2^53 for IPv6). */
  readonly remaining: bigint;
  /** In-use blocks that overlap the pool and were avoided. */
  readonly avoided: readonly string[];
}

/**
 * IPv4 ranges no VPC may use (AWS refuses them as VPC CIDR blocks): "this network", loopback, link-local,
 * multicast and the reserved/broadcast range. https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html
 */
export const NON_VPC_RANGES4: readonly { readonly cidr: string; readonly what: string }[] = [
  { cidr: '0.0.0.0/8', what: '"this network"' },
  { cidr: '127.0.0.0/8', what: 'loopback' },
  { cidr: '169.254.0.0/16', what: 'link-local' },
  { cidr: '224.0.0.0/4', what: 'multicast' },
  { cidr: '240.0.0.0/4', what: 'reserved, with broadcast' },
];

/** IPv6 ranges no VPC block comes from: IETF-reserved `::/8` (loopback, unspecified, IPv4-mapped), link-local, multicast. */
export const NON_VPC_RANGES6: readonly { readonly cidr: string; readonly what: string }[] = [
  { cidr: '::/8', what: 'reserved: loopback, unspecified, IPv4-mapped' },
  { cidr: 'fe80::/10', what: 'link-local' },
  { cidr: 'ff00::/8', what: 'multicast' },
];

function poolBlock(pool: string): Block {
  const p = parseBlock(pool);
  if (!p.ok) throw new UsageError(`--pool: "${pool}": ${p.reason}; e.g. --pool 10.64.0.0/12`);
  for (const r of p.block.version === 4 ? NON_VPC_RANGES4 : NON_VPC_RANGES6) {
    const range = parseBlock(r.cidr);
    if (range.ok && relation(p.block, range.block) !== null)
      throw new UsageError(
        `--pool: "${pool}" overlaps ${r.cidr} (${r.what}), which AWS refuses for VPCs; use ${p.block.version === 4 ? 'a private range, e.g. --pool 10.64.0.0/12' : 'your BYOIP or IPAM range, e.g. --pool 2600:1f18:abcd::/48'}`,
      );
  }
  return p.block;
}

export function allocate(req: AllocationRequest): Allocation {
  const pool = poolBlock(req.pool);
  const bits = pool.version === 4 ? 32 : 128;
  const limits = VPC_PREFIX[pool.version];
  if (!Number.isInteger(req.size) || req.size < limits.min || req.size > limits.max || (req.size - limits.min) % limits.step !== 0) {
    throw new UsageError(
      `--size ${req.size}: AWS accepts IPv${pool.version} VPC blocks of /${limits.min} to /${limits.max}${limits.step > 1 ? ` in steps of ${limits.step}` : ''}; e.g. --size ${pool.version === 4 ? 20 : 56}`,
    );
  }
  if (req.size < pool.prefix) {
    throw new UsageError(
      `--size ${req.size}: a /${req.size} block does not fit in the pool ${pool.cidr}; use --size ${pool.prefix} or more, or a larger pool`,
    );
  }
  if (!Number.isInteger(req.count) || req.count < 1) {
    throw new UsageError(`--count must be a whole number ≥ 1 (got ${req.count}); e.g. --count 5`);
  }
  // Sorted and de-duplicated so that the answer does not depend on the order the inventory was read in.
  const avoided = [
    ...new Map(
      req.used.filter((b) => b.version === pool.version && b.start <= pool.end && b.end >= pool.start).map((b) => [b.cidr, b]),
    ).values(),
  ].sort(compareBlocks);
  const free = excludeCidr(
    [pool.cidr],
    avoided.map((b) => b.cidr),
  )
    .map((c) => {
      const p = parseBlock(c);
      if (!p.ok) throw new Error(`cidr-tools returned an invalid block ${c}`);
      return p.block;
    })
    .filter((b) => b.prefix <= req.size)
    .sort(compareBlocks);

  const step = 1n << BigInt(bits - req.size);
  const capacity = free.reduce((n, b) => n + (b.end - b.start + 1n) / step, 0n);
  if (capacity < BigInt(req.count)) {
    throw new UsageError(
      `pool ${pool.cidr} has room for only ${capacity} free /${req.size} block${capacity === 1n ? '' : 's'} after avoiding ${avoided.length} block${avoided.length === 1 ? '' : 's'} in use, not ${req.count}; use a larger pool, a smaller --size or a lower --count`,
    );
  }
  const blocks: string[] = [];
  for (const b of free) {
    for (let start = b.start; start <= b.end && blocks.length < req.count; start += step) {
      blocks.push(`${addressText(start, pool.version)}/${req.size}`);
    }
    if (blocks.length >= req.count) break;
  }
  return { pool: pool.cidr, size: req.size, blocks, remaining: capacity - BigInt(blocks.length), avoided: avoided.map((b) => b.cidr) };
}
