// `egresshub cost` end to end: flags, --config, --json, --chart and bad input (exit 2).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_INSTANCE_TYPES } from '../../src/config/schema';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';

interface CostJson {
  inputs: { vpcs: number; region: string; hub: { azs: number; egress: string; fleet: string; resourceConfigurations: number } };
  baseline: { total: number };
  hub: { total: number; items: { id: string; monthly: number }[] };
  savings: number;
  breakEvenVpcs: number | null;
  sensitivity: { vpcs: number[]; gbPerVpc: number[]; savings: number[][] };
  assumption: { key: string; assumed: number; isAssumption: boolean; rows: { usd: number }[] };
  prices: Record<string, { assumption: boolean; source: string }>;
}

const json = async (...args: string[]) => {
  const r = await runCli('--json', 'cost', ...args);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as CostJson;
};

describe('egresshub cost', () => {
  it('prints line items, savings, break-even, the sensitivity grid and the assumption table', async () => {
    const r = await runCli('cost', '--region', 'us-east-1', '--vpcs', '10', '--gb-per-vpc', '100', '--fleet', 'single', '--no-color');
    expect(r.code).toBe(0);
    // Scenario A of model.test.ts: $420.00 vs. $259.76 of infrastructure + $11.3975 of monitoring = $271.16.
    expect(r.stdout).toMatch(/baseline\s*│ total\s*│.*│\s*\$420\.00/);
    expect(r.stdout).toMatch(/hub\s*│ total\s*│.*│\s*\$271\.16/);
    expect(r.stdout).toMatch(/hub\s*│ access log ingested \(15,625,000 lines\)\s*│ 4 GB/);
    expect(r.stdout).toMatch(/the hub saves \$148\.84\/month \(35\.4% of the baseline\); break-even: 3 VPCs/);
    expect(r.stdout).toMatch(/cheapest attachment: a resource endpoint per VPC/);
    expect(r.stdout).toMatch(/per endpoint per AZ \(2 AZs; the default reading\)\s*│ \$271\.16/);
    expect(r.stdout).toMatch(/per endpoint\s*│ \$198\.16/);
    expect(r.stdout).toMatch(/endpoint\.hour is an ASSUMPTION/);
    // Savings at $0/h: 420 − 125.1615 = 294.8385, lost over 14,600 endpoint AZ-hours at $0.0202/h.
    expect(r.stdout).toMatch(/the hub saves money while endpoint\.hour stays below \$0\.0202\/h/);
    expect(r.stdout).toMatch(/VPCs \\ GB/);
    expect(r.stdout).not.toMatch(/alternatives/);
    expect(r.stderr).toMatch(/assumed prices \(override with --price key=value\): endpoint\.hour=\$0\.01, resource-gateway\.hour=\$0/);
  });

  it('prices the fleet the hub would build: multi-az by default, nlb on its own default type, no one-AZ endpoint', async () => {
    const base = ['cost', '--json', '--region', 'us-east-1', '--vpcs', '10', '--gb-per-vpc', '100'];
    const def = JSON.parse((await runCli(...base)).stdout) as { inputs: { hub: { fleet: string; instanceType: string } } };
    expect(def.inputs.hub).toMatchObject({ fleet: 'multi-az', instanceType: DEFAULT_INSTANCE_TYPES['multi-az'] });
    const nlb = JSON.parse((await runCli(...base, '--fleet', 'nlb')).stdout) as typeof def;
    expect(nlb.inputs.hub).toMatchObject({ fleet: 'nlb', instanceType: DEFAULT_INSTANCE_TYPES.nlb });
    const one = await runCli(...base, '--endpoint-azs', '1');
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('--endpoint-azs must be a whole number from 2 to 6 (got 1)');
  });

  it('returns the same numbers as JSON for scripts', async () => {
    const out = await json('--region', 'us-east-1', '--vpcs', '10', '--gb-per-vpc', '100', '--fleet', 'single');
    expect(out.baseline.total).toBeCloseTo(420, 6);
    expect(out.hub.total).toBeCloseTo(271.1615, 6);
    expect(out.breakEvenVpcs).toBe(3);
    expect(out.sensitivity.vpcs).toEqual([5, 10, 20, 50, 100]);
    expect(out.sensitivity.gbPerVpc).toEqual([10, 50, 100, 500, 1000]);
    // Row 10 VPCs, column 100 GB is the scenario itself.
    expect(out.sensitivity.savings[1]![2]).toBeCloseTo(148.8385, 6);
    expect(out.assumption).toMatchObject({ key: 'endpoint.hour', assumed: 0.01, isAssumption: true });
    expect(out.prices['endpoint.hour']!.assumption).toBe(true);
  });

  it('overrides a price with --price and drops the assumption warning', async () => {
    const r = await runCli(
      '--json',
      'cost',
      '--region',
      'us-east-1',
      '--vpcs',
      '10',
      '--gb-per-vpc',
      '100',
      '--fleet',
      'single',
      '--price',
      'endpoint.hour=0',
      '--price',
      'resource-gateway.hour=0',
    );
    const out = JSON.parse(r.stdout) as CostJson;
    // Without the 14,600 endpoint AZ-hours at $0.01: 271.1615 − 146 = 125.1615.
    expect(out.hub.total).toBeCloseTo(125.1615, 6);
    expect(r.stderr).not.toMatch(/assumed prices/);
  });

  it('--compare prices the alternatives, says which serve overlapping VPCs, and lists their sources', async () => {
    const base = ['--region', 'us-east-1', '--vpcs', '10', '--gb-per-vpc', '100', '--fleet', 'single', '--compare'];
    const r = await runCli('cost', ...base, '--no-color');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/shared NAT behind Transit Gateway\s*│ \$539\.50\s*│ \$119\.50\s*│ NO/);
    expect(r.stdout).toMatch(/NAT instance per VPC \(t4g\.nano, fck-nat style\)\s*│ \$77\.16/);
    expect(r.stdout).toMatch(/network-firewall-proxy: https:\/\/aws\.amazon\.com\/network-firewall\/pricing\//);
    expect(r.stderr).toMatch(/nfw\.endpoint-hour=\$0\.395/);
    const out = (await json(...base)) as CostJson & { alternatives: { id: string; overlappingVpcs: boolean }[] };
    expect(out.alternatives.map((a) => a.id)).toEqual([
      'nat-gateway-per-vpc',
      'nat-instance-per-vpc',
      'shared-nat-tgw',
      'network-firewall-proxy',
      'egresshub',
    ]);
  });

  it('takes the VPC count, region and hub shape from --config', async () => {
    const out = await json('--config', 'examples/egresshub.yaml', '--gb-per-vpc', '10');
    // The example has 2 spokes in ap-northeast-1, a hub in 2 AZs with one NAT gateway, and 2 tenants.
    expect(out.inputs).toMatchObject({
      vpcs: 2,
      region: 'ap-northeast-1',
      hub: { azs: 2, egress: 'one', fleet: 'multi-az', resourceConfigurations: 2 },
    });
  });

  it("prices the config's fleet mode and public egress", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egresshub-cost-'));
    const file = join(dir, 'public.yaml');
    const text = readFileSync('examples/egresshub.yaml', 'utf8')
      .replace('egress: nat', 'egress: public')
      .replace(/^ {2}natGateways:.*\n/m, '')
      .replace('mode: multi-az', 'mode: single');
    writeFileSync(file, text);
    const out = await json('--config', file, '--gb-per-vpc', '10');
    expect(out.inputs).toMatchObject({ hub: { egress: 'public', fleet: 'single' } });
    expect(out.hub.items.find((i) => i.id === 'nat-hours')?.monthly ?? 0).toBe(0);
  });

  it('lets flags override the config', async () => {
    const out = await json('--config', 'examples/egresshub.yaml', '--gb-per-vpc', '10', '--vpcs', '30', '--hub-nat', 'per-az');
    expect(out.inputs).toMatchObject({ vpcs: 30, hub: { egress: 'per-az' } });
  });

  it('writes an SVG chart with the break-even point marked', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'egresshub-cost-')), 'cost.svg');
    const r = await runCli('cost', '--region', 'us-east-1', '--vpcs', '10', '--gb-per-vpc', '100', '--fleet', 'single', '--chart', file);
    expect(r.code).toBe(0);
    const svg = readFileSync(file, 'utf8');
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain('break-even: 3 VPCs');
    expect(svg).toContain('baseline (NAT in every VPC)');
    expect(svg).toContain('project VPCs');
  });

  it.each([
    [['--vpcs', '10', '--gb-per-vpc', '5'], /cost needs a region: pass --region/],
    [['--region', 'us-east-1', '--gb-per-vpc', '5'], /cost needs the number of project VPCs: pass --vpcs N/],
    [['--region', 'us-east-1', '--vpcs', '10'], /cost needs the traffic per VPC: pass --gb-per-vpc GB/],
    [
      ['--region', 'us-east-1', '--vpcs', 'ten', '--gb-per-vpc', '5'],
      /--vpcs expects a whole number from 1 to 100,000 \(got "ten"\); e\.g\. --vpcs 20/,
    ],
    [['--region', 'us-east-1', '--vpcs', '-3', '--gb-per-vpc', '5'], /--vpcs expects a whole number from 1 to 100,000 \(got "-3"\)/],
    [
      ['--region', 'us-east-1', '--vpcs', '3', '--gb-per-vpc', '-5'],
      /--gb-per-vpc expects a number from 0 to 10,000,000 \(got "-5"\); e\.g\. --gb-per-vpc 50/,
    ],
    [['--region', 'mars-1', '--vpcs', '3', '--gb-per-vpc', '5'], /no prices for region "mars-1"/],
    [
      ['--region', 'us-east-1', '--vpcs', '3', '--gb-per-vpc', '5', '--kb-per-request', '0'],
      /--kb-per-request expects a number from 0\.001 to 1,048,576 \(got "0"\)/,
    ],
    [
      ['--region', 'us-east-1', '--vpcs', '3', '--gb-per-vpc', '5', '--tenant-metrics', '1.5'],
      /--tenant-metrics expects a whole number from 0 to 100,000 \(got "1\.5"\)/,
    ],
    [
      ['--region', 'us-east-1', '--vpcs', '3', '--gb-per-vpc', '5', '--endpoint-billing', 'daily'],
      /argument 'daily' is invalid\. Allowed choices are per-az, per-endpoint/,
    ],
    [['--region', 'us-east-1', '--vpcs', '0', '--gb-per-vpc', '5'], /--vpcs expects a whole number from 1 to 100,000 \(got "0"\)/],
    [['--region', 'us-east-1', '--vpcs', '3', '--gb-per-vpc', '5', '--price', 'foo=1'], /unknown price key "foo"/],
    [
      ['--region', 'us-east-1', '--vpcs', '3', '--gb-per-vpc', '5', '--chart', 'out.png'],
      /--chart writes SVG: give a file name ending in \.svg \(got "out\.png"\)/,
    ],
    [
      ['--region', 'us-east-1', '--vpcs', '3', '--gb-per-vpc', '5', '--fleet', 'huge'],
      /argument 'huge' is invalid\. Allowed choices are single, multi-az, nlb/,
    ],
    [
      ['--region', 'us-east-1', '--vpcs', '3', '--gb-per-vpc', '5', '--sensitivity-gb', '1,,2'],
      /--sensitivity-gb expects a comma-separated list, each a number from 0 to 10,000,000 \(got "1,,2"\)/,
    ],
    ...(
      [
        ['--gb-per-vpc', '1e308', 'a number from 0 to 10,000,000'],
        ['--gb-per-vpc', '99999999999999999999', 'a number from 0 to 10,000,000'],
        ['--gb-per-vpc', 'Infinity', 'a number from 0 to 10,000,000'],
        ['--vpcs', '1e20', 'a whole number from 1 to 100,000'],
        ['--hub-azs', '1e9', 'a whole number from 1 to 6'],
        ['--kb-per-request', '1e-300', 'a number from 0.001 to 1,048,576'],
        ['--log-retention-days', 'NaN', 'a whole number from 1 to 3,653'],
        ['--sensitivity-vpcs', '5,1e308', 'a comma-separated list, each a whole number from 1 to 100,000'],
      ] as const
    ).map(([flag, value, expected]): [string[], RegExp] => [
      Object.entries({ '--region': 'us-east-1', '--vpcs': '3', '--gb-per-vpc': '5', [flag]: value }).flat(),
      new RegExp(`^error: ${flag} expects ${expected.replace(/[.]/g, '\\.')} \\(got "${value}"\\)`, 'm'),
    ]),
    [
      ['--region', 'us-east-1', '--vpcs', '3', '--gb-per-vpc', '5', '--price', 'nat.gb=9999999'],
      /--price nat\.gb: expected an amount in USD from 0 to 1,000,000 such as 0\.014 \(got "9999999"\)/,
    ],
  ])('fails when the flags are %j, with exit code 2', async (args, message) => {
    const r = await runCli('cost', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toMatch(/∞|NaN/);
  });
});
