// Relay capacity of one Squid worker: N parallel large downloads through one proxy, by plain HTTP (Squid parses
// and relays every reply), through HTTPS tunnels (peeked, then spliced: Squid copies bytes) and through raw tunnels
// (a `tls: false` port), with the Squid processes' CPU time
// over each window. MB/s at 100 % of one core is the worker's relay capacity, the figure docs/hub.md sizes from.
// Bounded by levels, time and bytes; always tears the lab down.
// Usage: npm run bench:relay [-- --levels 1,4,16,64 --seconds 10]
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlan, loadConfigFile } from '../src/config';
import { squidPids } from '../src/lab/fleet';
import { checkLabHost, labDown, labUp } from '../src/lab/lab';
import { labPaths } from '../src/lab/state';
import { acquireLabLock } from '../src/lab/lock';
import { inNs } from '../src/lab/sh';
import type { LabProxy } from '../src/lab/topology';
import { fmt, machine, machineLines, table } from './common';
import type { FloodJob, FloodResult } from './flood';
import { nodeJobAsync, waitForNoLab } from './lab-bench';

const FIXTURE = 'test/fixtures/lab-relay.yaml';
const log = (s: string) => process.stderr.write(`bench:relay: ${s}\n`);
const CLK_TCK = 100;

/** CPU seconds (user + system) of every Squid process of the proxy, from /proc in its namespace. */
function squidCpuSeconds(proxy: LabProxy): number {
  return squidPids(proxy).reduce((sum, pid) => {
    const stat = inNs(proxy.ns, ['cat', `/proc/${pid}/stat`], { allowFail: true }).stdout;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return sum + (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  }, 0);
}

async function main(): Promise<void> {
  checkLabHost();
  const levelsArg = process.argv[process.argv.indexOf('--levels') + 1];
  const levels = (process.argv.includes('--levels') ? levelsArg! : '1,4,16,64').split(',').map(Number);
  const seconds = process.argv.includes('--seconds') ? Number(process.argv[process.argv.indexOf('--seconds') + 1]) : 10;
  if (levels.some((n) => !Number.isInteger(n) || n < 1 || n > 256) || !Number.isInteger(seconds) || seconds < 2 || seconds > 60) {
    throw new Error('--levels takes whole numbers from 1 to 256, --seconds 2 to 60');
  }
  const m = machine();
  log('waiting for the lab lock (at most 10 min)');
  const release = await acquireLabLock({ wait: true });
  await waitForNoLab(log);
  const dir = mkdtempSync(join(tmpdir(), 'egresshub-bench-relay-'));
  const rows: (string | number)[][] = [];
  const capacity: Record<string, number[]> = {};
  try {
    const { topo } = await labUp(buildPlan(loadConfigFile(FIXTURE)), FIXTURE, log);
    const lt = topo.tenants[0]!;
    const proxy = topo.proxies[0]!;
    const caFile = labPaths(topo.stateDir).caCert;
    const KINDS = [
      ['plain HTTP', 'http://www.example.net:8081', {}],
      ['HTTPS tunnel (peek, splice)', 'https://www.example.net:443', { tunnel: 'www.example.net:443', caFile }],
      ['raw tunnel (tls: false)', 'http://www.example.net:80', { tunnel: 'www.example.net:80' }],
    ] as const;
    for (const [kind, origin, extra] of KINDS) {
      // Warm-up, not measured: Squid's first DNS answers and connections to the origin.
      const warm: FloodJob = {
        proxy: `${lt.endpointIp}:${lt.tenant.port}`,
        connections: 0,
        downloads: 1,
        downloadUrl: `${origin}/bytes/${1_000_000}`,
        seconds: 3,
        ...extra,
      };
      await nodeJobAsync<FloodResult>(lt.spokeNs, 'flood.ts', warm, dir, 60_000);
      for (const n of levels) {
        const job: FloodJob = {
          proxy: `${lt.endpointIp}:${lt.tenant.port}`,
          connections: 0,
          downloads: n,
          downloadUrl: `${origin}/bytes/${100_000_000}`,
          seconds,
          ...extra,
        };
        log(`${kind}: ${n} parallel downloads for ${seconds} s`);
        const cpu0 = squidCpuSeconds(proxy);
        const r = await nodeJobAsync<FloodResult>(lt.spokeNs, 'flood.ts', job, dir, (seconds + 60) * 1000);
        const cpu = (squidCpuSeconds(proxy) - cpu0) / r.seconds;
        const mbs = r.downloadedBytes / 1e6 / r.seconds;
        (capacity[kind] ??= []).push(mbs / Math.max(cpu, 0.01));
        rows.push([kind, n, fmt(mbs, 0), fmt(mbs * 8, 0), `${fmt(cpu * 100, 0)} %`, fmt(mbs / Math.max(cpu, 0.01), 0), r.otherErrors]);
      }
    }
  } finally {
    await labDown(log).catch((e: unknown) => log(`teardown: ${String(e)}`));
    release();
  }
  const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const out = [
    '## Relay capacity of one Squid worker',
    '',
    ...machineLines(m, `npm run bench:relay -- --levels ${levels.join(',')} --seconds ${seconds}`),
    `- load average at the end: ${loadavg}`,
    '',
    `One proxy, one Squid worker, no tenant limits. N loops each download 100 MB bodies back to back for ${seconds} s; CPU is Squid's own (all its processes, user + system) over the window, so "MB/s per core" is what one worker relays at 100 % of one core on this CPU.`,
    '',
    table(['kind', 'parallel', 'MB/s', 'Mbit/s', 'Squid CPU', 'MB/s per core', 'errors'], rows),
    '',
    ...Object.entries(capacity).map(
      ([k, v]) => `- ${k}: ${fmt(Math.max(...v), 0)} MB/s per core at best (${fmt(Math.max(...v) * 8, 0)} Mbit/s)`,
    ),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`bench:relay failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
