// origin-blackhole: an origin a tenant may reach drops every SYN (a dead server behind a firewall that drops, not
// rejects). One tenant hammers it with bounded waves of CONNECTs that its clients give up on after 3 s, while two
// loads run: another tenant's, and the same tenant's to a healthy origin. Squid waits connect_timeout (15 s) for
// each blackholed connection; the question is what that costs everyone else: descriptors and memory of the proxy
// that takes the connections (measured from /proc, before, at the peak and after), and the other loads' failures
// and latency. Nothing is withdrawn: the proxy and its egress are fine.
import { readFileSync } from 'node:fs';
import { UsageError } from '../../config';
import { squidPids } from '../fleet';
import { countBy, startLoad, type RunningLoad } from '../traffic';
import { readSupervisorStatus } from '../state';
import type { LoadSample } from '../load';
import { inNs, sleep, spawnInNs } from '../sh';
import type { LabProxy, LabTenant } from '../topology';
import type { Fault, FaultContext, FaultResult } from './fault';
import { FAULT_LOAD, fleetLab } from './egress-support';

/** The blackholed origin: an address of the emulated internet (documentation range) that drops SYNs. */
export const BLACKHOLE = { ip: '192.0.2.66', port: 443 } as const;
/** The hammer: waves of parallel CONNECTs, each given up by its client after CLIENT_SECONDS. Bounded. */
export const HAMMER = { waves: 4, parallel: 50, clientSeconds: 3 } as const;
/** Squid's connect_timeout in the generated squid.conf: how long a blackholed connection can hold its descriptors. */
const SQUID_CONNECT_TIMEOUT_MS = 15_000;
const TABLE = 'ehfault_blackhole';

interface SquidUse {
  readonly fds: number;
  readonly rssKb: number;
}

/** Open descriptors and resident memory of every Squid process of the proxy (master and kids). */
export function squidUse(p: Pick<LabProxy, 'ns'>): SquidUse {
  let fds = 0;
  let rssKb = 0;
  for (const pid of squidPids(p)) {
    try {
      fds += inNs(p.ns, ['ls', `/proc/${pid}/fd`], { allowFail: true })
        .stdout.split('\n')
        .filter(Boolean).length;
      rssKb += Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // the process went away
    }
  }
  return { fds, rssKb };
}

const percentile = (xs: number[], q: number) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

function latency(samples: readonly LoadSample[], from: number, to: number) {
  const ms = samples.filter((s) => !s.error && s.start >= from && s.start < to).map((s) => s.end - s.start);
  return { requests: ms.length, p50Ms: percentile(ms, 0.5), p99Ms: percentile(ms, 0.99) };
}

async function run(ctx: FaultContext): Promise<FaultResult> {
  const topo = await fleetLab(ctx, 'origin-blackhole');
  const victim = topo.tenants.find((t) => t.tenant.allow.any);
  const other = topo.tenants.find((t) => t !== victim);
  if (!victim || !other) {
    throw new UsageError(
      'lab fault origin-blackhole needs a tenant that may reach any public destination (allow: "*") and another tenant; use examples/egresshub.yaml',
    );
  }
  const status = readSupervisorStatus(topo.stateDir)!;
  const serving = topo.proxies.filter((p) => status.active.includes(p.id));
  const load = { ...FAULT_LOAD, clients: 4 };
  const began = Date.now();
  const loads: { tenant: LabTenant; load: RunningLoad }[] = [];
  let samples: Map<string, LoadSample[]> | undefined;
  let hammerOut = '';
  try {
    inNs(topo.inetNs, ['ip', 'addr', 'replace', `${BLACKHOLE.ip}/32`, 'dev', 'lo']);
    inNs(topo.inetNs, ['nft', '-f', '-'], {
      input: `table inet ${TABLE} {\n  chain in {\n    type filter hook input priority 0; policy accept;\n    ip daddr ${BLACKHOLE.ip} tcp flags syn counter drop\n  }\n}\n`,
    });
    for (const t of [other, victim]) {
      loads.push({ tenant: t, load: await startLoad(topo, { ...load, tenant: t.tenant.name }) });
    }
    ctx.step(`loads: ${loads.map((l) => `${l.tenant.tenant.name} → ${l.load.url}`).join(', ')} (${load.clients} clients each)`);
    await sleep(load.warmupMs + 2000);
    const before = Object.fromEntries(serving.map((p) => [p.id, squidUse(p)]));
    const hammerAt = Date.now();
    const proxy = `http://${victim.proxyHost}:${victim.tenant.port}`;
    ctx.step(
      `${victim.tenant.name}: ${HAMMER.waves} waves of ${HAMMER.parallel} CONNECTs to ${BLACKHOLE.ip}:${BLACKHOLE.port}, which drops SYNs (clients give up after ${HAMMER.clientSeconds} s)`,
    );
    const script =
      `for w in $(seq 1 ${HAMMER.waves}); do for i in $(seq 1 ${HAMMER.parallel}); do ` +
      `curl -s -o /dev/null -w '%{http_connect} %{http_code}\\n' --noproxy '' -x '${proxy}' -m ${HAMMER.clientSeconds} ` +
      `https://${BLACKHOLE.ip}:${BLACKHOLE.port}/ & done; wait; done`;
    const hammer = spawnInNs(victim.spokeNs, ['bash', '--norc', '-c', script], {
      timeoutMs: (HAMMER.waves * (HAMMER.clientSeconds + 2) + 20) * 1000,
    });
    hammer.stdout.on('data', (d: Buffer) => (hammerOut += d.toString()));
    const done = new Promise<void>((r) => hammer.on('close', () => r()));
    const peak: Record<string, SquidUse> = Object.fromEntries(serving.map((p) => [p.id, squidUse(p)]));
    let finished = false;
    void done.then(() => (finished = true));
    while (!finished) {
      await sleep(250);
      for (const p of serving) {
        const u = squidUse(p);
        const m = peak[p.id]!;
        peak[p.id] = { fds: Math.max(m.fds, u.fds), rssKb: Math.max(m.rssKb, u.rssKb) };
      }
    }
    const hammerEnd = Date.now();
    ctx.step(`hammer done after ${hammerEnd - hammerAt} ms; waiting Squid's connect_timeout (${SQUID_CONNECT_TIMEOUT_MS / 1000} s) out`);
    await sleep(SQUID_CONNECT_TIMEOUT_MS + 2000);
    const after = Object.fromEntries(serving.map((p) => [p.id, squidUse(p)]));
    samples = new Map();
    for (const l of loads) samples.set(l.tenant.tenant.name, await l.load.stop());
    const all = [...samples.values()].flat();
    const failed = all.filter((s) => s.error);
    // `CONNECT-code HTTP-code` per attempt: 000 000 = the client gave up before Squid answered.
    const outcomes: Record<string, number> = {};
    for (const l of hammerOut.trim().split('\n').filter(Boolean)) outcomes[l] = (outcomes[l] ?? 0) + 1;
    const dropped = Number(/packets (\d+)/.exec(inNs(topo.inetNs, ['nft', 'list', 'table', 'inet', TABLE]).stdout)?.[1] ?? NaN);
    return {
      fault: 'origin-blackhole',
      requests: all.length,
      failed: failed.length,
      // Nothing is detected or withdrawn: every failure of the other loads counts.
      failedAfterDetect: failed.length,
      detectMs: null,
      withdrawn: [],
      blackholed: {
        tenant: victim.tenant.name,
        origin: `${BLACKHOLE.ip}:${BLACKHOLE.port}`,
        attempts: HAMMER.waves * HAMMER.parallel,
        outcomes,
        synsDropped: dropped,
      },
      squid: Object.fromEntries(serving.map((p) => [p.id, { before: before[p.id], peak: peak[p.id], after: after[p.id] }])),
      loads: Object.fromEntries(
        [...samples].map(([name, s]) => [
          name,
          {
            requests: s.length,
            failed: s.filter((x) => x.error).length,
            errors: countBy(s.filter((x) => x.error)),
            before: latency(s, 0, hammerAt),
            during: latency(s, hammerAt, hammerEnd + SQUID_CONNECT_TIMEOUT_MS),
          },
        ]),
      ),
      durationMs: Date.now() - began,
    };
  } finally {
    if (!samples) for (const l of loads) await l.load.stop().catch(() => []);
    inNs(topo.inetNs, ['nft', 'delete', 'table', 'inet', TABLE], { allowFail: true });
    inNs(topo.inetNs, ['ip', 'addr', 'del', `${BLACKHOLE.ip}/32`, 'dev', 'lo'], { allowFail: true });
  }
}

export const originBlackhole: Fault = {
  name: 'origin-blackhole',
  summary: 'an origin a tenant may reach drops SYNs while that tenant hammers it: descriptors, memory and the other loads are measured',
  run,
};
