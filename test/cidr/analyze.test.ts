// CIDR parsing, inventories and the overlap / Transit Gateway readiness analysis, on hand-built inventories.
import { describe, expect, it } from 'vitest';
import {
  analyze,
  findOverlaps,
  hubRecord,
  mergeInventories,
  parseBlock,
  parseInventoryCsv,
  parseInventoryJson,
  readInventoryFile,
  relation,
  toRecords,
  type Block,
} from '../../src/cidr';

const block = (c: string): Block => {
  const p = parseBlock(c);
  if (!p.ok) throw new Error(p.reason);
  return p.block;
};

describe('CIDR blocks', () => {
  it('parses IPv4 and IPv6 blocks into canonical text and address ranges', () => {
    // 10.0.0.0/16 spans 10.0.0.0 (167,772,160) to 10.0.255.255 (167,772,160 + 65,535).
    expect(block('10.0.0.0/16')).toEqual({ cidr: '10.0.0.0/16', version: 4, prefix: 16, start: 167772160n, end: 167837695n });
    expect(block('2600:1F18:ABCD:1200:0::/56').cidr).toBe('2600:1f18:abcd:1200::/56');
    expect(block('2600:1f18:abcd:1200::/56').end - block('2600:1f18:abcd:1200::/56').start).toBe((1n << 72n) - 1n);
  });

  it.each([
    ['10.0.1.0/16', /its host bits are set \(the block containing it is 10\.0\.0\.0\/16\)/],
    ['10.0.0.0', /it has no prefix length \(write a CIDR block such as 10\.0\.0\.0\/16/],
    ['10.0.0.0/33', /not a valid IPv4 CIDR block/],
    ['2001:db8::1/56', /its host bits are set \(the block containing it is 2001:db8::\/56\)/],
    ['vpc-123/16', /not a valid IPv4 CIDR block/],
  ])('fails when the block is %s', (value, reason) => {
    const p = parseBlock(value);
    expect(p.ok).toBe(false);
    expect(p.ok ? '' : p.reason).toMatch(reason);
  });

  it('tells identical, containing, contained and disjoint blocks apart', () => {
    expect(relation(block('10.0.0.0/16'), block('10.0.0.0/16'))).toBe('identical');
    expect(relation(block('10.0.0.0/16'), block('10.0.128.0/17'))).toBe('contains');
    expect(relation(block('10.0.128.0/17'), block('10.0.0.0/16'))).toBe('within');
    expect(relation(block('10.0.0.0/16'), block('10.1.0.0/16'))).toBeNull();
    // 10.0.0.0/16 and ::a00:0/112 cover the "same" integers but are different IP versions.
    expect(relation(block('10.0.0.0/16'), block('::a00:0/112'))).toBeNull();
  });
});

describe('inventory files', () => {
  it('reads CSV, merging rows of the same VPC and accepting ; | and space between CIDRs', () => {
    const vpcs = readInventoryFile('test/cidr/fixtures/inventory.csv');
    expect(vpcs.map((v) => [v.vpcId, v.blocks.map((b) => b.cidr)])).toEqual([
      ['vpc-0a00000000000000a', ['10.0.0.0/16']],
      ['vpc-0b00000000000000b', ['10.0.0.0/16', '100.64.0.0/20']],
      ['vpc-0c00000000000000c', ['10.1.0.0/16', '10.2.0.0/20']], // two rows, one VPC
      ['vpc-0d00000000000000d', ['10.64.0.0/20', '2600:1f18:abcd:1200::/56']],
      ['vpc-0e00000000000000e', ['10.64.0.0/16']],
      ['vpc-0f00000000000000f', ['172.16.0.0/16', '2600:1f18:abcd:1200::/56']],
    ]);
    expect(vpcs[0]).toMatchObject({ account: '111111111111', region: 'ap-northeast-1', name: 'project-a' });
  });

  it('reads JSON in our shape and in describe-vpcs shape, dropping disassociated blocks', () => {
    expect(readInventoryFile('test/cidr/fixtures/inventory.json')).toHaveLength(3);
    const page = readInventoryFile('test/cidr/fixtures/describe-vpcs/ap-northeast-1.page1.json');
    // 10.9.0.0/16 is "disassociated": no longer the VPC's address space.
    expect(page[0]).toMatchObject({ account: '111111111111', region: '(unknown)', vpcId: 'vpc-0a00000000000000a', name: 'project-a' });
    expect(page[0]!.blocks.map((b) => b.cidr)).toEqual(['10.0.0.0/16', '100.64.0.0/20']);
  });

  it('fails when a CSV row has host bits set, naming the file and line', () => {
    const csv = 'account,region,vpcId,cidrs\n111111111111,us-east-1,vpc-1,10.0.0.0/16\n111111111111,us-east-1,vpc-2,10.1.2.0/16\n';
    expect(() => parseInventoryCsv(csv, 'inv.csv')).toThrow(
      'inv.csv:3: vpc-2: "10.1.2.0/16": its host bits are set (the block containing it is 10.1.0.0/16)',
    );
  });

  it('fails when a VPC lacks its region', () => {
    expect(() => parseInventoryJson('[{"account":"1","vpcId":"vpc-1","cidrs":["10.0.0.0/16"]}]', 'inv.json')).toThrow(
      /inv\.json: \[0\]: missing region \(got nothing\); every VPC needs account, region, vpcId and cidrs/,
    );
  });

  it('fails when the JSON is neither a list nor describe-vpcs output', () => {
    expect(() => parseInventoryJson('{"Foo": 1}', 'inv.json')).toThrow(
      /inv\.json: expected an array of VPCs, \{ "vpcs": \[\.\.\.\] \} or describe-vpcs output/,
    );
  });

  it('fails when the file type is unknown or the file is missing', () => {
    expect(() => readInventoryFile('test/cidr/fixtures/nothing.csv')).toThrow(
      /cannot read inventory test\/cidr\/fixtures\/nothing\.csv: no such file/,
    );
    expect(() => readInventoryFile('examples/egresshub.yaml')).toThrow(
      /inventory examples\/egresshub\.yaml: unknown file type "\.yaml"; use a \.csv or \.json file/,
    );
  });
});

describe('overlap analysis', () => {
  const vpcs = readInventoryFile('test/cidr/fixtures/inventory.csv');

  it('finds every overlapping pair across VPCs, IPv4 and IPv6', () => {
    const pairs = findOverlaps(vpcs).map((o) => `${o.a.vpc.split('/')[2]} ${o.a.cidr} ${o.relation} ${o.b.vpc.split('/')[2]} ${o.b.cidr}`);
    expect(pairs.sort()).toEqual([
      'vpc-0a00000000000000a 10.0.0.0/16 identical vpc-0b00000000000000b 10.0.0.0/16',
      'vpc-0d00000000000000d 2600:1f18:abcd:1200::/56 identical vpc-0f00000000000000f 2600:1f18:abcd:1200::/56',
      'vpc-0e00000000000000e 10.64.0.0/16 contains vpc-0d00000000000000d 10.64.0.0/20',
    ]);
  });

  it('groups VPCs that overlap directly or through another member', () => {
    const r = analyze(vpcs);
    // d overlaps e (IPv4) and f (IPv6): one group of three, although e and f share nothing.
    expect(r.groups.map((g) => g.vpcs.map((k) => k.split('/')[2]))).toEqual([
      ['vpc-0d00000000000000d', 'vpc-0e00000000000000e', 'vpc-0f00000000000000f'],
      ['vpc-0a00000000000000a', 'vpc-0b00000000000000b'],
    ]);
  });

  it('says which VPCs could join a Transit Gateway as they are, and why the others could not', () => {
    const r = analyze(vpcs);
    const ready = Object.fromEntries(r.vpcs.map((v) => [v.vpcId, v.tgwReady]));
    expect(ready).toEqual({
      'vpc-0a00000000000000a': false,
      'vpc-0b00000000000000b': false,
      'vpc-0c00000000000000c': true, // 10.1.0.0/16 and 10.2.0.0/20 collide with nothing
      'vpc-0d00000000000000d': false,
      'vpc-0e00000000000000e': false,
      'vpc-0f00000000000000f': false,
    });
    const d = r.vpcs.find((v) => v.vpcId === 'vpc-0d00000000000000d')!;
    expect(d.reasons).toEqual([
      '10.64.0.0/20 lies within 10.64.0.0/16 of vpc-0e00000000000000e (555555555555, us-east-1)',
      '2600:1f18:abcd:1200::/56 is identical to 2600:1f18:abcd:1200::/56 of vpc-0f00000000000000f (666666666666, us-east-1)',
    ]);
  });

  it('counts overlaps with the hub', () => {
    const r = analyze([...vpcs, hubRecord('10.1.0.0/16')]);
    const c = r.vpcs.find((v) => v.vpcId === 'vpc-0c00000000000000c')!;
    expect(c.tgwReady).toBe(false);
    expect(c.reasons).toEqual(['10.1.0.0/16 is identical to 10.1.0.0/16 of the hub (10.1.0.0/16)']);
    expect(r.vpcCount).toBe(6); // the hub is not a project VPC
  });

  it('with scope "region" compares only VPCs of the same region', () => {
    const crossRegion = toRecords(
      [
        { account: '1', region: 'us-east-1', vpcId: 'vpc-1', cidrs: ['10.0.0.0/16'] },
        { account: '2', region: 'eu-west-1', vpcId: 'vpc-2', cidrs: ['10.0.0.0/16'] },
      ],
      (i) => `row ${i}`,
    );
    expect(analyze(crossRegion, 'all').overlaps).toHaveLength(1);
    expect(analyze(crossRegion, 'region').overlaps).toHaveLength(0);
  });

  it('merges the same VPC seen in two sources into the union of its blocks', () => {
    const a = toRecords([{ account: '1', region: 'r', vpcId: 'vpc-1', cidrs: ['10.0.0.0/16'] }], String);
    const b = toRecords([{ account: '1', region: 'r', vpcId: 'vpc-1', name: 'x', cidrs: ['10.1.0.0/16'] }], String);
    expect(mergeInventories(a, b)).toEqual([
      expect.objectContaining({ vpcId: 'vpc-1', name: 'x', blocks: [block('10.0.0.0/16'), block('10.1.0.0/16')] }),
    ]);
  });

  it('finds overlaps in a large inventory without comparing every pair by hand', () => {
    // 2,000 VPCs: 1,000 distinct /24s each used twice ⇒ exactly 1,000 identical pairs, 1,000 groups of two.
    const raw = Array.from({ length: 2000 }, (_, i) => ({
      account: String(i),
      region: 'us-east-1',
      vpcId: `vpc-${i}`,
      cidrs: [`10.${Math.floor((i % 1000) / 256)}.${(i % 1000) % 256}.0/24`],
    }));
    const r = analyze(toRecords(raw, String));
    expect(r.overlaps).toHaveLength(1000);
    expect(r.groups).toHaveLength(1000);
  });
});
