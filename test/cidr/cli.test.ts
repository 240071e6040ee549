// `egresshub cidr report|allocate` end to end: inventory files, --config, --json and bad input (exit 2).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';

describe('egresshub cidr report', () => {
  it('prints TGW readiness per VPC and the overlap groups', async () => {
    const r = await runCli('cidr', 'report', '--input', 'test/cidr/fixtures/inventory.csv', '--no-color');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^6 VPCs: 3 overlapping block pairs in 2 groups; 1 VPC could join a Transit Gateway as they are, 5 could not/);
    expect(r.stdout).toMatch(/vpc-0c00000000000000c \(project-c\)\s*│ 333333333333 │ ap-northeast-1 │ 10\.1\.0\.0\/16\s*│ yes/);
    expect(r.stdout).toMatch(/10\.0\.0\.0\/16 is identical to 10\.0\.0\.0\/16 of vpc-0b00000000000000b \(222222222222, ap-northeast-1\)/);
    expect(r.stdout).toMatch(/overlap groups/);
  });

  it('escapes inventory fields that would drive the terminal or forge a row, and counts one VPC as "1 VPC"', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'egresshub-cidr-')), 'inventory.csv');
    writeFileSync(file, 'account,region,vpcId,cidrs\n111111111111,us-east-1,"vpc-1\u001b]0;pwn\u0007\nFAKE ROW",10.0.0.0/16\n');
    const r = await runCli('cidr', 'report', '--input', file, '--no-color');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^1 VPC: 0 overlapping block pairs in 0 groups; 1 VPC could join/);
    expect(r.stdout).toContain('vpc-1\\e]0;pwn\\x07\\nFAKE ROW');
    expect(r.stdout).not.toMatch(/[\u001b\u0007]|^│ FAKE ROW/m);
  });

  it('adds the config spokes and hub, and merges several inputs, as JSON', async () => {
    const r = await runCli(
      '--json',
      'cidr',
      'report',
      '--input',
      'test/cidr/fixtures/inventory.json',
      '--input',
      'test/cidr/fixtures/describe-vpcs/us-east-1.page1.json',
      '--config',
      'examples/egresshub.yaml',
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { vpcCount: number; vpcs: { vpcId: string; hub: boolean; tgwReady: boolean; reasons: string[] }[] };
    // 3 (inventory.json) + 1 (describe-vpcs page) + 2 spokes of the example config; plus the hub record.
    expect(out.vpcCount).toBe(6);
    const hub = out.vpcs.find((v) => v.hub)!;
    // The hub's 10.0.0.0/16 collides with project-a, the 10.0.128.0/17 VPC and both spokes.
    expect(hub.reasons).toHaveLength(4);
    expect(out.vpcs.find((v) => v.vpcId === 'vpc-0800000000000008a')!.tgwReady).toBe(true);
  });

  it('fails when no inventory is given', async () => {
    const r = await runCli('cidr', 'report');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /no VPCs to analyse: pass --input FILE \(\.csv or \.json\), --from-aws --regions R, or --config FILE with spokes/,
    );
  });

  it('fails when --regions is given without --from-aws', async () => {
    const r = await runCli('cidr', 'report', '--input', 'test/cidr/fixtures/inventory.csv', '--regions', 'us-east-1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--profiles and --regions only apply with --from-aws/);
  });
});

describe('egresshub cidr allocate', () => {
  it('allocates blocks avoiding the inventory and the hub of the config', async () => {
    const args = ['cidr', 'allocate', '--pool', '10.0.0.0/14', '--size', '16', '--config', 'examples/egresshub.yaml'];
    const r = await runCli('--json', ...args, '--input', 'test/cidr/fixtures/inventory.csv', '--count', '1');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    // 10.0.0.0/14 = 10.0, 10.1, 10.2, 10.3 /16. Used: 10.0.0.0/16 (hub, spokes, project-a/b), 10.1.0.0/16 and
    // 10.2.0.0/20 (project-c, its secondary block) ⇒ 10.3.0.0/16 is the only whole /16 left.
    expect(JSON.parse(r.stdout)).toEqual({
      pool: '10.0.0.0/14',
      size: 16,
      blocks: ['10.3.0.0/16'],
      remaining: '0',
      avoided: ['10.0.0.0/16', '10.1.0.0/16', '10.2.0.0/20'],
    });
    const two = await runCli(...args, '--input', 'test/cidr/fixtures/inventory.csv', '--count', '2');
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/pool 10\.0\.0\.0\/14 has room for only 1 free \/16 block after avoiding 3 blocks in use, not 2/);
  });

  it('gives the same blocks on every run', async () => {
    const args = [
      '--json',
      'cidr',
      'allocate',
      '--pool',
      '10.64.0.0/12',
      '--size',
      '20',
      '--count',
      '3',
      '--input',
      'test/cidr/fixtures/inventory.csv',
      '--hub',
      '10.0.0.0/16',
    ];
    const [a, b] = [await runCli(...args), await runCli(...args)];
    expect(a.stdout).toBe(b.stdout);
    // 10.64.0.0/16 (project-e) covers the first 16 /20s of the pool.
    expect((JSON.parse(a.stdout) as { blocks: string[] }).blocks).toEqual(['10.65.0.0/20', '10.65.16.0/20', '10.65.32.0/20']);
  });

  it('warns when the hub CIDR is unknown', async () => {
    const r = await runCli('cidr', 'allocate', '--pool', '10.64.0.0/12', '--size', '20');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no hub CIDR known: pass --config FILE or --hub CIDR/);
    expect(r.stdout).toMatch(/1 \/20 block from 10\.64\.0\.0\/12, avoiding 0 blocks in use; 255 more \/20 free/);
  });

  it.each([
    [['--pool', '10.64.0.0/12', '--size', 'big'], /--size expects a prefix length such as 20 \(got "big"\)/],
    [
      ['--pool', '10.64.0.0/12', '--size', '20', '--count', 'x'],
      /--count expects a whole number from 1 to 1,000,000 \(got "x"\); e\.g\. --count 5/,
    ],
    [['--pool', '10.64.0.0/12', '--size', '20', '--count', '0'], /--count expects a whole number from 1 to 1,000,000 \(got "0"\)/],
    [
      ['--pool', '10.64.0.0/12', '--size', '20', '--count', '99999999999999999999'],
      /--count expects a whole number from 1 to 1,000,000 \(got "99999999999999999999"\)/,
    ],
    [['--pool', '10.64.0.0/12', '--size', '20', '--reserve', '10.64.0.1/20'], /--reserve: "10\.64\.0\.1\/20": its host bits are set/],
    [['--pool', '10.64.0.0/12', '--size', '20', '--hub', 'nope'], /--hub: "nope": it has no prefix length/],
    [['--size', '20'], /required option '--pool <cidr>' not specified/],
  ])('fails when the flags are %j, with exit code 2', async (args, message) => {
    const r = await runCli('cidr', 'allocate', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('egresshub cidr report --from-aws', () => {
  it('reads DescribeVpcs pages for every region given (recorded responses, no network)', async () => {
    const page = (name: string) => JSON.parse(readFileSync(`test/cidr/fixtures/describe-vpcs/${name}.json`, 'utf8')) as object;
    const ec2 = mockClient(EC2Client);
    try {
      ec2.on(DescribeVpcsCommand).callsFake(async (input: { NextToken?: string }, getClient) => {
        const region = await (getClient() as EC2Client).config.region();
        if (region === 'us-east-1') return page('us-east-1.page1');
        return input.NextToken ? page('ap-northeast-1.page2') : page('ap-northeast-1.page1');
      });
      const r = await runCli('--json', 'cidr', 'report', '--from-aws', '--regions', 'ap-northeast-1,us-east-1');
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/DescribeVpcs in ap-northeast-1[\s\S]*DescribeVpcs in us-east-1/);
      const out = JSON.parse(r.stdout) as { vpcCount: number; groups: { vpcs: string[] }[] };
      expect(out.vpcCount).toBe(3);
      // project-a and project-b both use 10.0.0.0/16.
      expect(out.groups.map((g) => g.vpcs)).toEqual([
        ['111111111111/ap-northeast-1/vpc-0a00000000000000a', '222222222222/ap-northeast-1/vpc-0b00000000000000b'],
      ]);
    } finally {
      ec2.restore();
    }
  });
});
