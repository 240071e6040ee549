// Fair share in the lab (root): one proxy behind an emulated instance line (an ifb shaper standing in for the
// bandwidth AWS gives an instance), three tenants with weights 1, 1 and 3. Measures a tenant alone with no isolation
// at all (no tree) and with the fair-share tree, two tenants downloading flat out (4 connections against 1) with and
// without the tree, and the weighted pair. Bounded in count and time; always tears the lab down.
// Usage: npm run bench:fair [-- --line 200 --seconds 8 --runs 3]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildPlan, loadConfigFile } from '../src/config';
import { LINE_RATE_FRACTION } from '../src/config/instance-types';
import { emulateLine, hasTree, measureShares, removeTree, type Demand, type Shares } from '../src/lab/fair';
import { applyFairShare } from '../src/lab/instance-scripts';
import { checkLabHost, labDown, labUp } from '../src/lab/lab';
import { labPaths } from '../src/lab/state';
import { acquireLabLock } from '../src/lab/lock';
import type { LabTenant } from '../src/lab/topology';
import { arg, fmt, machine, machineLines, median, table } from './common';
import { waitForNoLab } from './lab-bench';

const log = (s: string) => process.stderr.write(`bench:fair: ${s}\n`);

function benchConfig(lineRateMbps: number): string {
  const spoke = (tenant: string, n: number) => ({
    tenant,
    account: '111111111111',
    vpcId: `vpc-0f00000000000000${n}`,
    vpcCidr: '10.0.0.0/16',
    subnetIds: [`subnet-0f00000000000000${n}`, `subnet-0f00000000000001${n}`],
  });
  return stringify({
    name: 'benchfair',
    region: 'us-east-1',
    account: '111111111111',
    hub: { cidr: '10.0.0.0/16', availabilityZones: ['us-east-1a', 'us-east-1b'], proxy: { mode: 'single', lineRateMbps } },
    tenants: [
      { name: 'fair-a', port: 3901, allow: ['*.example.net'] },
      { name: 'fair-b', port: 3902, allow: ['*.example.net'] },
      { name: 'fair-c', port: 3903, allow: ['*.example.net'], limits: { weight: 3 } },
    ],
    spokes: [spoke('fair-a', 1), spoke('fair-b', 2), spoke('fair-c', 3)],
  });
}

async function main(): Promise<void> {
  checkLabHost();
  const o = { line: arg('line', 200, 20_000), seconds: arg('seconds', 8, 60), runs: arg('runs', 3, 10) };
  const lineRate = Math.round(o.line * LINE_RATE_FRACTION);
  const m = machine();
  const dir = mkdtempSync(join(tmpdir(), 'egresshub-bench-fair-'));
  const configFile = join(dir, 'egresshub.yaml');
  writeFileSync(configFile, benchConfig(lineRate));
  const plan = buildPlan(loadConfigFile(configFile));
  log('waiting for the lab lock (at most 10 min)');
  const release = await acquireLabLock({ wait: true });
  await waitForNoLab(log);
  const results: Record<string, Shares[]> = {};
  try {
    const { topo } = await labUp(plan, configFile, log);
    const proxy = topo.proxies[0]!;
    const conf = labPaths(topo.stateDir).proxy(proxy.index).squidConf;
    const [a, b, c] = ['fair-a', 'fair-b', 'fair-c'].map((n) => topo.tenants.find((t) => t.tenant.name === n)!) as [
      LabTenant,
      LabTenant,
      LabTenant,
    ];
    emulateLine(topo, proxy, o.line);
    const scenarios: [string, boolean, Demand[]][] = [
      ['A alone, no isolation', false, [{ tenant: a, connections: 1 }]],
      ['A alone, fair share', true, [{ tenant: a, connections: 1 }]],
      [
        'A 4 vs B 1, no isolation',
        false,
        [
          { tenant: a, connections: 4 },
          { tenant: b, connections: 1 },
        ],
      ],
      [
        'A 4 vs B 1, fair share',
        true,
        [
          { tenant: a, connections: 4 },
          { tenant: b, connections: 1 },
        ],
      ],
      [
        'A 1 vs B 4, fair share',
        true,
        [
          { tenant: a, connections: 1 },
          { tenant: b, connections: 4 },
        ],
      ],
      [
        'C (weight 3) 1 vs A 4, fair share',
        true,
        [
          { tenant: c, connections: 1 },
          { tenant: a, connections: 4 },
        ],
      ],
    ];
    for (let run = 1; run <= o.runs; run++) {
      for (const [name, fair, demands] of scenarios) {
        if (fair && !hasTree(proxy)) applyFairShare(proxy, conf);
        if (!fair) removeTree(proxy);
        log(`run ${run}/${o.runs}: ${name} (${o.seconds} s)`);
        const r = await measureShares(topo, demands, o.seconds);
        if (r.failed > 0) throw new Error(`${name}: ${r.failed} download(s) failed; the measurement is void`);
        (results[name] ??= []).push(r);
      }
    }
  } finally {
    await labDown(log).catch((e: unknown) => log(`teardown: ${String(e)}`));
    release();
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (name: string, i: number, key: 'mbps' | 'percent') => median(results[name]!.map((r) => r[key][i]!));
  const rows = Object.entries(results).map(([name, rs]) => [
    name,
    rs.map((r) => r.mbps.map((x) => fmt(x, 0)).join(' / ')).join(', '),
    rs[0]!.mbps.length > 1 ? rs.map((r) => r.percent.map((x) => fmt(x, 1)).join(' / ')).join(', ') : '–',
  ]);
  const alone = med('A alone, fair share', 0, 'mbps') / med('A alone, no isolation', 0, 'mbps');
  const out = [
    '## Fair share: tenants on one proxy behind an emulated instance line',
    '',
    ...machineLines(m, `npm run bench:fair -- --line ${o.line} --seconds ${o.seconds} --runs ${o.runs}`),
    '',
    `One proxy (one Squid worker); the instance's line emulated at ${o.line} Mbit/s outside the proxy (an ifb with a 1,000-packet FIFO fed from the proxy's port in the hub namespace); the fair-share tree at ${lineRate} Mbit/s (hub.proxy.lineRateMbps, ${LINE_RATE_FRACTION} of the line, as the default is of the burst bandwidth); tenants A and B weight 1, C weight 3. Each scenario downloads HTTPS (CONNECT) flat out for ${o.seconds} s; "no isolation" is the same proxy with its tree removed. Per run, Mbit/s and each tenant's share of the total:`,
    '',
    table(['scenario', 'Mbit/s per tenant (runs)', '% per tenant (runs)'], rows),
    '',
    `fair share: alone ${fmt(alone, 2)}× unlimited, contended ${fmt(med('A 4 vs B 1, fair share', 0, 'percent'), 1)} % / ${fmt(med('A 4 vs B 1, fair share', 1, 'percent'), 1)} %, weighted ${fmt(med('C (weight 3) 1 vs A 4, fair share', 0, 'percent'), 1)} % / ${fmt(med('C (weight 3) 1 vs A 4, fair share', 1, 'percent'), 1)} %`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`bench:fair failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
