// Tenant isolation under a flood: one tenant opens thousands of connections and runs large downloads while another
// tenant's HTTPS requests are timed, on one real Squid in the lab behind an emulated instance line (bench/fair.ts's
// ifb), with the hub's isolation on (fair share at its default 95 % of the line, a connection cap for the noisy
// tenant) and off. Reports the quiet tenant's p50/p99 and success rate idle and under the flood.
// Bounded by count and time; always tears the lab down.
// Usage: npm run bench:noisy [-- --connections 2000 --downloads 4 --seconds 30 --count 300 --line 400]
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { buildPlan, parseConfig, type EgressPlan } from '../src/config';
import { LINE_RATE_FRACTION } from '../src/config/instance-types';
import { emulateLine } from '../src/lab/fair';
import { checkLabHost, labDown, labUp } from '../src/lab/lab';
import { reconfigureProxy } from '../src/lab/reconfigure';
import { labPaths } from '../src/lab/state';
import { acquireLabLock } from '../src/lab/lock';
import { sleep } from '../src/lab/sh';
import type { LabTenant, LabTopology } from '../src/lab/topology';
import type { LatencyJob, LatencyResult } from './client';
import { arg, fmt, machine, machineLines, percentile, table } from './common';
import type { FloodJob, FloodResult } from './flood';
import { nodeJob, nodeJobAsync, waitForNoLab } from './lab-bench';

const FIXTURE = 'test/fixtures/lab-limits.yaml';
const log = (s: string) => process.stderr.write(`bench:noisy: ${s}\n`);

/** The hub's isolation in each variant: what it enforces by default (plus a connection cap), and none. */
const VARIANTS = {
  'fair share (default) + 200 connections': { connections: 200, fair: true },
  'no isolation': { connections: 32_768, fair: false },
} as const;

function planWith(v: { connections: number; fair: boolean }, line: number): EgressPlan {
  const doc = parseDocument(readFileSync(FIXTURE, 'utf8'));
  doc.setIn(['tenants', 0, 'limits'], { connections: v.connections });
  doc.setIn(['hub', 'proxy', 'lineRateMbps'], v.fair ? Math.round(line * LINE_RATE_FRACTION) : 0);
  return buildPlan(parseConfig(doc.toString(), FIXTURE));
}

interface Phase {
  readonly p50: number;
  readonly p99: number;
  readonly ok: number;
  readonly total: number;
}

function quietLatency(quiet: LabTenant, topo: LabTopology, count: number, deadlineMs: number, dir: string): Phase {
  const job: LatencyJob = {
    url: 'https://www.example.net/',
    proxy: `${quiet.endpointIp}:${quiet.tenant.port}`,
    caFile: labPaths(topo.stateDir).caCert,
    count,
    deadlineMs,
  };
  const r = nodeJob<LatencyResult>(quiet.spokeNs, 'client.ts', job, dir, deadlineMs + 30_000);
  return { p50: percentile(r.ms, 50), p99: percentile(r.ms, 99), ok: r.ms.length, total: r.ms.length + r.errors };
}

async function main(): Promise<void> {
  checkLabHost();
  const o = {
    connections: arg('connections', 2000, 10_000),
    downloads: arg('downloads', 4, 32),
    seconds: arg('seconds', 30, 120),
    count: arg('count', 300, 5_000),
    line: arg('line', 400, 2000),
  };
  const m = machine();
  log('waiting for the lab lock (at most 10 min)');
  const release = await acquireLabLock({ wait: true });
  await waitForNoLab(log);
  const dir = mkdtempSync(join(tmpdir(), 'egresshub-bench-noisy-'));
  const rows: (string | number)[][] = [];
  const verdicts: string[] = [];
  try {
    const first = Object.values(VARIANTS)[0]!;
    const { topo } = await labUp(planWith(first, o.line), FIXTURE, log);
    emulateLine(topo, topo.proxies[0]!, o.line);
    const noisy = topo.tenants.find((t) => t.tenant.name === 'noisy')!;
    const quiet = topo.tenants.find((t) => t.tenant.name === 'quiet')!;
    for (const [name, limits] of Object.entries(VARIANTS)) {
      await reconfigureProxy(planWith(limits, o.line), topo, topo.proxies[0]!, log);
      await sleep(2000);
      // Warm-up: DNS cache and the SNI helper's first answers.
      quietLatency(quiet, topo, 20, 20_000, dir);
      log(`${name}: quiet tenant idle`);
      const idle = quietLatency(quiet, topo, o.count, 60_000, dir);
      log(`${name}: flood (${o.connections} connections, ${o.downloads} downloads, ${o.seconds} s) with the quiet tenant timed`);
      const floodJob: FloodJob = {
        proxy: `${noisy.endpointIp}:${noisy.tenant.port}`,
        connections: o.connections,
        downloads: o.downloads,
        downloadUrl: `http://www.example.net/bytes/${200_000_000}`,
        seconds: o.seconds,
      };
      const flood = nodeJobAsync<FloodResult>(noisy.spokeNs, 'flood.ts', floodJob, dir, (o.seconds + 60) * 1000);
      await sleep(3000);
      const busy = quietLatency(quiet, topo, o.count, Math.max(5, o.seconds - 5) * 1000, dir);
      const f = await flood;
      const mbps = (f.downloadedBytes * 8) / 1e6 / f.seconds;
      for (const [phase, p] of [
        ['idle', idle],
        ['under the flood', busy],
      ] as const) {
        rows.push([
          name,
          phase,
          fmt(p.p50, 2),
          fmt(p.p99, 2),
          `${fmt((100 * p.ok) / Math.max(1, p.total), 1)} % of ${p.total}`,
          phase === 'idle' ? '' : `${f.held} held, ${f.refused} refused`,
          phase === 'idle' ? '' : fmt(mbps, 0),
        ]);
      }
      verdicts.push(
        `${name}: quiet success ${fmt((100 * busy.ok) / Math.max(1, busy.total), 1)} % (target 100 %), p99 ${fmt(busy.p99 / idle.p99, 2)}× idle (target ≤ 2×)`,
      );
    }
  } finally {
    await labDown(log).catch((e: unknown) => log(`teardown: ${String(e)}`));
    release();
  }
  const out = [
    '## Tenant isolation: a quiet tenant next to a flooding one',
    '',
    ...machineLines(
      m,
      `npm run bench:noisy -- --connections ${o.connections} --downloads ${o.downloads} --seconds ${o.seconds} --count ${o.count} --line ${o.line}`,
    ),
    '',
    `One proxy (one Squid worker) behind an emulated instance line of ${o.line} Mbit/s (an ifb with a 1,000-packet FIFO; fair share at ${Math.round(o.line * LINE_RATE_FRACTION)} Mbit/s). The noisy tenant opens ${o.connections} tunnels (CONNECT, held) in waves of 100 and runs ${o.downloads} loops of 200 MB plain-HTTP downloads for ${o.seconds} s; the quiet tenant sends ${o.count} sequential HTTPS requests (new connection, CONNECT, TLS, GET, close), idle and during the flood.`,
    '',
    table(['isolation', 'phase', 'quiet p50 ms', 'quiet p99 ms', 'quiet success', 'noisy tunnels', 'noisy Mbit/s'], rows),
    '',
    ...verdicts.map((v) => `- ${v}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`bench:noisy failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
