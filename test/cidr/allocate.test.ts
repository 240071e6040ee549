// Allocation of new VPC blocks from a pool, with the expected blocks worked out by hand.
import { describe, expect, it } from 'vitest';
import { allocate, parseBlock, type Block } from '../../src/cidr';

const blocks = (...cidrs: string[]): Block[] =>
  cidrs.map((c) => {
    const p = parseBlock(c);
    if (!p.ok) throw new Error(p.reason);
    return p.block;
  });

describe('cidr allocation', () => {
  it('hands out the lowest free /20 blocks of the pool, skipping everything in use', () => {
    // Pool 10.64.0.0/12 = 256 × /20 (10.64.0.0 … 10.79.240.0).
    // In use: 10.64.0.0/20 (1 × /20) and 10.64.32.0/19 (2 × /20: 10.64.32.0, 10.64.48.0).
    // Free in order: 10.64.16.0/20, then 10.64.64.0/20, 10.64.80.0/20, …
    const a = allocate({ pool: '10.64.0.0/12', size: 20, count: 3, used: blocks('10.64.0.0/20', '10.64.32.0/19') });
    expect(a.blocks).toEqual(['10.64.16.0/20', '10.64.64.0/20', '10.64.80.0/20']);
    expect(a.remaining).toBe(250n); // 256 − 3 used − 3 allocated
    expect(a.avoided).toEqual(['10.64.0.0/20', '10.64.32.0/19']);
  });

  it('is stable: the same inputs in any order give the same blocks', () => {
    const used = blocks('10.64.0.0/16', '10.0.0.0/16', '10.66.0.0/20', '192.168.0.0/16');
    const first = allocate({ pool: '10.64.0.0/12', size: 20, count: 5, used });
    const again = allocate({ pool: '10.64.0.0/12', size: 20, count: 5, used: [...used].reverse() });
    expect(again).toEqual(first);
    // 10.64.0.0/16 is taken whole, so the first free /20s start at 10.65.0.0.
    expect(first.blocks).toEqual(['10.65.0.0/20', '10.65.16.0/20', '10.65.32.0/20', '10.65.48.0/20', '10.65.64.0/20']);
    // Blocks outside the pool (10.0.0.0/16, 192.168.0.0/16) are not "avoided": they never could collide.
    expect(first.avoided).toEqual(['10.64.0.0/16', '10.66.0.0/20']);
  });

  it('skips a free range too small for the requested size', () => {
    // In /18 pool 10.64.0.0/18 (= 4 × /20), 10.64.16.0/24 is used: 10.64.16.0/20 is no longer whole.
    const a = allocate({ pool: '10.64.0.0/18', size: 20, count: 3, used: blocks('10.64.16.0/24') });
    expect(a.blocks).toEqual(['10.64.0.0/20', '10.64.32.0/20', '10.64.48.0/20']);
    expect(a.remaining).toBe(0n);
  });

  it('allocates IPv6 /56 blocks and ignores IPv4 blocks in use', () => {
    // 2600:1f18:abcd::/48 holds 256 × /56; the first (…abcd:0::/56) is used, so the next is …abcd:100::/56.
    const a = allocate({ pool: '2600:1f18:abcd::/48', size: 56, count: 2, used: blocks('2600:1f18:abcd::/56', '10.0.0.0/8') });
    expect(a.blocks).toEqual(['2600:1f18:abcd:100::/56', '2600:1f18:abcd:200::/56']);
    expect(a.remaining).toBe(253n);
  });

  it('fails when the pool cannot hold the count asked for', () => {
    expect(() => allocate({ pool: '10.64.0.0/18', size: 20, count: 4, used: blocks('10.64.16.0/24') })).toThrow(
      'pool 10.64.0.0/18 has room for only 3 free /20 blocks after avoiding 1 block in use, not 4; use a larger pool, a smaller --size or a lower --count',
    );
  });

  it('fails when the size is not a VPC size AWS accepts', () => {
    expect(() => allocate({ pool: '10.0.0.0/8', size: 12, count: 1, used: [] })).toThrow(
      /--size 12: AWS accepts IPv4 VPC blocks of \/16 to \/28; e\.g\. --size 20/,
    );
    expect(() => allocate({ pool: '2600:1f18::/32', size: 50, count: 1, used: [] })).toThrow(
      /--size 50: AWS accepts IPv6 VPC blocks of \/44 to \/60 in steps of 4; e\.g\. --size 56/,
    );
  });

  it('fails when the block is larger than the pool', () => {
    expect(() => allocate({ pool: '10.64.0.0/20', size: 16, count: 1, used: [] })).toThrow(
      /--size 16: a \/16 block does not fit in the pool 10\.64\.0\.0\/20; use --size 20 or more/,
    );
  });

  it('fails when the pool is not a network address', () => {
    expect(() => allocate({ pool: '10.64.1.0/12', size: 20, count: 1, used: [] })).toThrow(
      /--pool: "10\.64\.1\.0\/12": its host bits are set \(the block containing it is 10\.64\.0\.0\/12\)/,
    );
  });

  it.each([
    ['the whole address space', '0.0.0.0/0', '0.0.0.0/8 ("this network")'],
    ['"this network"', '0.0.0.0/12', '0.0.0.0/8 ("this network")'],
    ['loopback', '127.0.0.0/16', '127.0.0.0/8 (loopback)'],
    ['link-local', '169.254.0.0/16', '169.254.0.0/16 (link-local)'],
    ['multicast', '224.0.0.0/8', '224.0.0.0/4 (multicast)'],
    ['a pool around multicast', '192.0.0.0/2', '224.0.0.0/4 (multicast)'],
    ['the reserved range', '240.0.0.0/12', '240.0.0.0/4 (reserved, with broadcast)'],
  ])('fails when the pool is %s, which AWS refuses for VPCs', (_title, pool, range) => {
    expect(() => allocate({ pool, size: 20, count: 1, used: [] })).toThrow(
      `--pool: "${pool}" overlaps ${range}, which AWS refuses for VPCs; use a private range, e.g. --pool 10.64.0.0/12`,
    );
  });

  it.each([
    ['all of IPv6', '::/0', '::/8 (reserved: loopback, unspecified, IPv4-mapped)'],
    ['IPv6 link-local', 'fe80::/10', 'fe80::/10 (link-local)'],
    ['IPv6 multicast', 'ff00::/12', 'ff00::/8 (multicast)'],
  ])('fails when the pool is %s', (_title, pool, range) => {
    expect(() => allocate({ pool, size: 56, count: 1, used: [] })).toThrow(
      `--pool: "${pool}" overlaps ${range}, which AWS refuses for VPCs; use your BYOIP or IPAM range, e.g. --pool 2600:1f18:abcd::/48`,
    );
  });

  it('still allocates from private and other public ranges', () => {
    for (const pool of ['10.0.0.0/8', '172.16.0.0/12', '100.64.0.0/10', '198.18.0.0/15'])
      expect(allocate({ pool, size: 16, count: 1, used: [] }).blocks).toHaveLength(1);
  });
});
