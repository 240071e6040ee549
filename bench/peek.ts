// What the TLS check costs: the same tenant and the same HTTPS request on a fresh connection (CONNECT, TLS
// handshake, GET, close) through Squid, once with today's policy (ssl-bump ports: peek at the ClientHello, SNI
// checked against the allowlist, then splice) and once with plain CONNECT (the same policy without ssl-bump: the
// tunnel is spliced blindly, as before the check), alternated in rounds on one lab. Sequential requests give the
// latency (p50/p99); N concurrent loops for T seconds give requests/s. Bounded by count and time; always tears
// the lab down. Usage: npm run bench:peek [-- --rounds 3 --count 400 --concurrency 16 --seconds 10]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlan, parseConfig } from '../src/config';
import { checkLabHost, labDown, labUp } from '../src/lab/lab';
import { labPaths } from '../src/lab/state';
import { acquireLabLock } from '../src/lab/lock';
import { inNs, sleep } from '../src/lab/sh';
import type { LabTopology } from '../src/lab/topology';
import type { LatencyJob, LatencyResult, LoadJob, LoadResult } from './client';
import { arg, fmt, machine, machineLines, median, percentile, table } from './common';
import { nodeJob, waitForNoLab } from './lab-bench';

const client = <T>(ns: string, job: object, dir: string, timeoutMs: number): T => nodeJob<T>(ns, 'client.ts', job, dir, timeoutMs);

const log = (s: string) => process.stderr.write(`bench:peek: ${s}\n`);

const CONFIG = `# bench:peek: one allowlist tenant, one proxy
name: benchpeek
region: us-east-1
account: '111111111111'
hub:
  cidr: 10.0.0.0/16
  availabilityZones: [us-east-1a, us-east-1b]
  proxy: { mode: single }
tenants:
  - name: peek
    port: 3601
    allow: ['*.example.net']
spokes:
  - tenant: peek
    account: '111111111111'
    vpcId: vpc-0c1d2e3f4a5b6000b
    vpcCidr: 10.0.0.0/16
    subnetIds: [subnet-0c1d2e3f4a5b6000b, subnet-0c1d2e3f4a5b6000c]
`;

/**
 * The policy as it was before the TLS check, for comparison only: the listeners without ssl-bump, and no ssl_bump
 * or on_unsupported_protocol lines. Every http_access rule (the CONNECT checks included) stays as it is.
 */
export function withoutPeek(conf: string): string {
  return conf
    .split('\n')
    .map((l) => (l.startsWith('http_port ') ? l.replace(/ ssl-bump .*$/, '') : l))
    .filter((l) => !/^(ssl_bump|on_unsupported_protocol) /.test(l))
    .join('\n');
}

interface Figures {
  readonly p50: number;
  readonly p99: number;
  readonly rps: number;
  readonly errors: number;
}

async function measure(topo: LabTopology, conf: string, o: { count: number; concurrency: number; seconds: number }, dir: string) {
  // Swapped in place with `squid -k reconfigure`, as the hub's rollout does (the lab supervisor would restart a
  // killed Squid with the lab's own file).
  const proxy = topo.proxies[0]!;
  const file = labPaths(topo.stateDir).proxy(proxy.index).squidConf;
  writeFileSync(file, conf);
  inNs(proxy.ns, ['squid', '-k', 'parse', '-f', file]);
  inNs(proxy.ns, ['squid', '-k', 'reconfigure', '-f', file]);
  await sleep(3000);
  const lt = topo.tenants[0]!;
  const base = { url: 'https://www.example.net/', proxy: `${lt.endpointIp}:${lt.tenant.port}`, caFile: labPaths(topo.stateDir).caCert };
  // A few warm-up requests: Squid's DNS cache and the SNI helper's first answer are not what a busy proxy pays.
  client<LatencyResult>(lt.spokeNs, { ...base, count: 20, deadlineMs: 30_000 } satisfies LatencyJob, dir, 60_000);
  const lat = client<LatencyResult>(lt.spokeNs, { ...base, count: o.count, deadlineMs: 120_000 } satisfies LatencyJob, dir, 150_000);
  const load = client<LoadResult>(
    lt.spokeNs,
    { ...base, kind: 'load', concurrency: o.concurrency, seconds: o.seconds, maxRequests: 200_000 } satisfies LoadJob & { kind: 'load' },
    dir,
    (o.seconds + 60) * 1000,
  );
  if (lat.errors + load.errors > 0) log(`errors: ${lat.errors + load.errors}, first: ${lat.firstError ?? load.firstError ?? '?'}`);
  return {
    p50: percentile(lat.ms, 50),
    p99: percentile(lat.ms, 99),
    rps: load.ok / load.seconds,
    errors: lat.errors + load.errors,
  } satisfies Figures;
}

async function main(): Promise<void> {
  checkLabHost();
  const o = {
    rounds: arg('rounds', 3, 20),
    count: arg('count', 400, 5_000),
    concurrency: arg('concurrency', 16, 200),
    seconds: arg('seconds', 10, 120),
  };
  const m = machine();
  log('waiting for the lab lock (at most 10 min)');
  const release = await acquireLabLock({ wait: true });
  await waitForNoLab(log);
  const dir = mkdtempSync(join(tmpdir(), 'egresshub-bench-peek-'));
  const file = join(dir, 'bench.yaml');
  writeFileSync(file, CONFIG);
  try {
    const { topo } = await labUp(buildPlan(parseConfig(CONFIG, file)), file, log);
    const peek = inNs(topo.proxies[0]!.ns, ['cat', labPaths(topo.stateDir).proxy(1).squidConf]).stdout;
    const variants = { 'peek + SNI check': peek, 'plain CONNECT': withoutPeek(peek) };
    const results = new Map<string, Figures[]>(Object.keys(variants).map((k) => [k, []]));
    for (let r = 1; r <= o.rounds; r++) {
      for (const [name, conf] of Object.entries(variants)) {
        log(`round ${r}/${o.rounds}: ${name}`);
        results.get(name)!.push(await measure(topo, conf, o, dir));
      }
    }
    const rows = [...results].map(([name, fs]) => ({
      name,
      p50: median(fs.map((f) => f.p50)),
      p99: median(fs.map((f) => f.p99)),
      rps: median(fs.map((f) => f.rps)),
      errors: fs.reduce((n, f) => n + f.errors, 0),
    }));
    const plain = rows.find((x) => x.name === 'plain CONNECT')!;
    const peeked = rows.find((x) => x.name === 'peek + SNI check')!;
    const out = [
      '## TLS check: peek + SNI vs plain CONNECT',
      '',
      ...machineLines(
        m,
        `npm run bench:peek -- --rounds ${o.rounds} --count ${o.count} --concurrency ${o.concurrency} --seconds ${o.seconds}`,
      ),
      '',
      `Each request: a new connection, CONNECT www.example.net:443, TLS 1.3 handshake, GET, close; medians of ${o.rounds} alternated rounds.`,
      '',
      table(
        ['variant', 'p50 ms', 'p99 ms', `req/s (${o.concurrency} loops)`, 'errors'],
        rows.map((x) => [x.name, fmt(x.p50, 2), fmt(x.p99, 2), fmt(x.rps, 0), x.errors]),
      ),
      '',
      `Peek costs ${fmt(peeked.p50 - plain.p50, 2)} ms at p50 (target ≤ +1 ms) and runs at ${fmt(peeked.rps / plain.rps, 2)}× the requests/s of plain CONNECT (target ≥ 0.9×).`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await labDown(log).catch((e: unknown) => log(`teardown: ${String(e)}`));
    release();
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`bench:peek failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
