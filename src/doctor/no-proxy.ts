// Does a NO_PROXY list keep an address off the proxy? A pure reading of the setting (the doctor never
// contacts the metadata service), following what curl, Go and Python accept: exact names and addresses,
// `.suffix` / `*.suffix` domains, CIDRs (not every tool reads those) and `*` (everything).
import { Address4, Address6 } from 'ip-address';

export interface Coverage {
  readonly covered: boolean;
  /** The entry that covers the address, if any. */
  readonly by?: string;
  /** Covered only through a CIDR, which wget and curl before 7.86 ignore. */
  readonly onlyByCidr: boolean;
}

export function parseNoProxy(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

export function covers(entries: readonly string[], address: string): Coverage {
  const exact = entries.find((e) => e === address || e === `[${address}]`);
  if (exact) return { covered: true, by: exact, onlyByCidr: false };
  const star = entries.find((e) => e === '*');
  if (star) return { covered: true, by: star, onlyByCidr: false };
  const cidr = entries.find((e) => e.includes('/') && inCidr(address, e));
  return cidr ? { covered: true, by: cidr, onlyByCidr: true } : { covered: false, onlyByCidr: false };
}

export function inCidr(address: string, cidr: string): boolean {
  try {
    if (Address4.isValid(address) && Address4.isValid(cidr)) return new Address4(address).isInSubnet(new Address4(cidr));
    if (Address6.isValid(address) && Address6.isValid(cidr)) return new Address6(address).isInSubnet(new Address6(cidr));
  } catch {
    return false;
  }
  return false;
}

/** Private ranges a VPC can use (RFC 1918, RFC 6598 shared space, IPv6 ULA): "inside the VPC" when no CIDR is given. */
export const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'] as const;

export function isPrivate(address: string): boolean {
  return PRIVATE_RANGES.some((r) => inCidr(address, r));
}
