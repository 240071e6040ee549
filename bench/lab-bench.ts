// Adds what the data-plane benchmark needs on top of a running lab, without changing src/lab: a streaming
// origin on its own documentation-range address, and a "direct" namespace on the hub bridge whose default
// route is the NAT gateway (the path a VPC without the proxy takes). Everything is named `eh-`/lives in the
// lab's state directory, so `lab down` removes it with the rest.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueCertificate } from '../src/lab/certificates';
import { spawnTs } from '../src/lab/daemons';
import { labNamespaces, labPaths } from '../src/lab/state';
import { inNs, nodeEntry, run, sleep, spawnInNs, waitFor } from '../src/lab/sh';
import { INTERNET, LAB_PREFIX, LAB_STATE_DIR, type LabTopology } from '../src/lab/topology';
import type { OriginSpec } from './origin';

/** RFC 5737 TEST-NET-3, next to the lab's own web server (203.0.113.10): never routed on the internet. */
export const BENCH_ORIGIN_IP = '203.0.113.20';
export const DIRECT_NS = `${LAB_PREFIX}bench-direct`;

export interface BenchTopology {
  readonly originIp: string;
  /** A hub-subnet address in DIRECT_NS (below the gateways' .100+ and away from Squid's .10). */
  readonly directIp: string;
  readonly directNs: string;
  readonly caCert: string;
  readonly originLog: string;
}

function toInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}
function toIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Builds the bench additions on a lab that `labUp` just built. */
export async function addBenchTopology(topo: LabTopology): Promise<BenchTopology> {
  const p = labPaths(topo.stateDir);
  const hubBase = toInt(topo.hubCidr.split('/')[0]!);
  const directIp = toIp(hubBase + 50);

  // The origin's address lives on the internet namespace's loopback, like the lab's web server; the
  // internet router already answers for the NAT's public address, so no route changes are needed.
  inNs(topo.inetNs, ['ip', 'addr', 'add', `${BENCH_ORIGIN_IP}/32`, 'dev', 'lo']);

  // A certificate for the origin's IP, signed by the lab's CA: clients verify TLS as in the matrix.
  const key = join(topo.stateDir, 'bench-origin.key');
  const cert = join(topo.stateDir, 'bench-origin.pem');
  issueCertificate(p, {
    stem: join(topo.stateDir, 'bench-origin'),
    subject: '/CN=egresshub bench origin',
    altNames: `IP:${BENCH_ORIGIN_IP}`,
    key,
    cert,
  });

  const spec: OriginSpec = { ip: BENCH_ORIGIN_IP, httpPort: 80, httpsPort: 443, certFile: cert, keyFile: key };
  const specFile = join(topo.stateDir, 'bench-origin.json');
  const originLog = join(topo.stateDir, 'bench-origin.log');
  writeFileSync(specFile, JSON.stringify(spec));
  spawnTs(topo.inetNs, nodeEntry(__dirname, 'origin'), [specFile], originLog);
  if (!(await waitFor(() => readFileSync(originLog, 'utf8').includes('listening'), 15_000))) {
    throw new Error(`the bench origin did not start; see ${originLog}:\n${readFileSync(originLog, 'utf8')}`);
  }

  // The direct namespace: one veth into the hub bridge, default route via the NAT gateway's hub address.
  // The NAT only forwards what arrives from the hub side, so this is exactly "an instance using the NAT".
  run(['ip', 'netns', 'add', DIRECT_NS]);
  const etc = join('/etc/netns', DIRECT_NS);
  mkdirSync(etc, { recursive: true });
  // The lab's resolver only, never the host's (the benchmark uses IP literals anyway).
  writeFileSync(join(etc, 'resolv.conf'), `nameserver ${INTERNET.dnsIp}\n`);
  writeFileSync(join(etc, 'hosts'), '127.0.0.1 localhost\n');
  inNs(DIRECT_NS, ['ip', 'link', 'set', 'lo', 'up']);
  run(['ip', 'link', 'add', 'name', 'direct-hub', 'netns', DIRECT_NS, 'type', 'veth', 'peer', 'name', 'hub-direct', 'netns', topo.hubNs]);
  inNs(topo.hubNs, ['ip', 'link', 'set', 'hub-direct', 'master', 'br-hub', 'up']);
  inNs(DIRECT_NS, ['ip', 'addr', 'add', `${directIp}/${topo.hubPrefix}`, 'dev', 'direct-hub']);
  inNs(DIRECT_NS, ['ip', 'link', 'set', 'direct-hub', 'up']);
  inNs(DIRECT_NS, ['ip', 'route', 'add', 'default', 'via', topo.natPrivateIp]);
  // The bridge needs a moment to forward (no STP on br-hub, but the port goes through "learning").
  await waitFor(
    () =>
      inNs(DIRECT_NS, ['curl', '-s', '-o', '/dev/null', '--max-time', '2', `http://${BENCH_ORIGIN_IP}/bytes/1`], { allowFail: true })
        .status === 0,
    10_000,
    250,
  );
  return { originIp: BENCH_ORIGIN_IP, directIp, directNs: DIRECT_NS, caCert: p.caCert, originLog };
}

/** Waits (bounded) until no lab is up, so another engineer's lab run is never torn down. */
export async function waitForNoLab(log: (s: string) => void, maxMs = 600_000, stepMs = 20_000): Promise<void> {
  const until = Date.now() + maxMs;
  // Another run's `lab up` creates the state directory before any namespace: either one means "busy".
  const busy = () => labNamespaces().length > 0 || existsSync(LAB_STATE_DIR);
  while (busy()) {
    if (Date.now() >= until) {
      throw new Error(`a lab (${labNamespaces().join(', ')}) is still up after ${maxMs / 1000} s; not touching someone else's run`);
    }
    log(`a lab is up (${labNamespaces().length} eh- namespaces), probably another engineer's: waiting ${stepMs / 1000} s`);
    await sleep(stepMs);
  }
}

const TSX = require.resolve('tsx/cjs');

/** Runs one of the bench's Node jobs (`entry` in bench/) inside a lab namespace with `job` as its JSON input; parses its JSON output. */
export function nodeJob<T>(ns: string, entry: string, job: object, dir: string, timeoutMs: number): T {
  const file = join(dir, `job-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(job));
  const r = inNs(ns, [process.execPath, '-r', TSX, join(__dirname, entry), file], { allowFail: true, timeoutMs });
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`bench ${entry} failed in ${ns}: ${r.stderr.trim().split('\n')[0]}`);
  }
}

/** The same, started in the background: resolves when the job ends (or is killed at `timeoutMs`). */
export function nodeJobAsync<T>(ns: string, entry: string, job: object, dir: string, timeoutMs: number): Promise<T> {
  const file = join(dir, `job-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(job));
  return new Promise<T>((resolve, reject) => {
    const child = spawnInNs(ns, [process.execPath, '-r', TSX, join(__dirname, entry), file], { timeoutMs });
    child.stdin.end();
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('close', () => {
      try {
        resolve(JSON.parse(out) as T);
      } catch {
        reject(new Error(`bench ${entry} failed in ${ns}: ${err.trim().split('\n')[0] ?? 'no output'}`));
      }
    });
  });
}
