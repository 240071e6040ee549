// One CIDR block, parsed once: its canonical text, IP version and first/last address as bigints, so the
// overlap and allocation code compares ranges instead of re-parsing strings. Parsing and canonical forms
// come from ip-address; nothing here manipulates bits by hand.
import { Address4, Address6 } from 'ip-address';

/**
 * VPC CIDR sizes AWS accepts: IPv4 /16 to /28; IPv6 /44 to /60 in steps of 4 (IPAM pools).
 * https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html
 */
export const VPC_PREFIX = { 4: { min: 16, max: 28, step: 1 }, 6: { min: 44, max: 60, step: 4 } } as const;

export interface Block {
  /** Canonical text: lowercase, IPv6 compressed, e.g. `10.0.0.0/16` or `2001:db8::/56`. */
  readonly cidr: string;
  readonly version: 4 | 6;
  readonly prefix: number;
  readonly start: bigint;
  readonly end: bigint;
}

export type BlockParse = { readonly ok: true; readonly block: Block } | { readonly ok: false; readonly reason: string };

/** Parses `value` as an IPv4 or IPv6 CIDR block whose host bits are zero (as every VPC CIDR is). */
export function parseBlock(value: string): BlockParse {
  const v = value.trim();
  if (!v.includes('/')) return { ok: false, reason: 'it has no prefix length (write a CIDR block such as 10.0.0.0/16 or 2001:db8::/56)' };
  const isV6 = v.includes(':');
  const valid = isV6 ? Address6.isValid(v) : /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(v) && Address4.isValid(v);
  if (!valid) return { ok: false, reason: `it is not a valid IPv${isV6 ? 6 : 4} CIDR block` };
  const a = isV6 ? new Address6(v) : new Address4(v);
  const network = a.startAddress();
  const cidr = `${network.correctForm()}/${a.subnetMask}`;
  if (network.bigInt() !== a.bigInt()) {
    return { ok: false, reason: `its host bits are set (the block containing it is ${cidr})` };
  }
  return { ok: true, block: { cidr, version: isV6 ? 6 : 4, prefix: a.subnetMask, start: network.bigInt(), end: a.endAddress().bigInt() } };
}

/** The address text of `value` in the given IP version. */
export function addressText(value: bigint, version: 4 | 6): string {
  return version === 4 ? Address4.fromBigInt(value).correctForm() : Address6.fromBigInt(value).correctForm();
}

export type Relation = 'identical' | 'contains' | 'within';

/** How `a` relates to `b` when they overlap (CIDR blocks either nest or are disjoint), or null if they don't. */
export function relation(a: Block, b: Block): Relation | null {
  if (a.version !== b.version || a.end < b.start || b.end < a.start) return null;
  if (a.start === b.start && a.end === b.end) return 'identical';
  return a.start <= b.start && a.end >= b.end ? 'contains' : 'within';
}

/** Sorts by IP version, then first address, then larger block first: the order every report uses. */
export function compareBlocks(a: Block, b: Block): number {
  if (a.version !== b.version) return a.version - b.version;
  if (a.start !== b.start) return a.start < b.start ? -1 : 1;
  return a.prefix - b.prefix;
}
