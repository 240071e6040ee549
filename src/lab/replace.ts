// Replacing proxies (a new image, instance type or boot script) the way the hub's Auto Scaling groups do, under
// a bounded load through one tenant. single: the one proxy is terminated before its replacement boots (the fixed
// ENI can belong to one instance only), so tenants see an interruption: measured here. multi-az and nlb: one proxy
// at a time, drained first (multi-az: the termination lifecycle hook keeps the instance while its health metric
// reads 0 and the failover name moves; nlb: the group deregisters it from the target groups), so no request fails.
import { rmSync } from 'node:fs';
import { healthOf, killProxy, restartProxy, waitForStatus, drain, undrain, reactionBound, supervisorSettings } from './fleet';
import { QUIESCE_MS } from './rollout';
import { countBy, startLoad, type LoadOptions } from './traffic';
import { requireRunningLab, type Step } from './lab';
import { labPaths, readSupervisorStatus } from './state';
import type { LoadSample } from './load';
import { sleep } from './sh';
import type { SupervisorStatus } from './supervisor';
import type { LabProxy, LabTopology } from './topology';

export interface ReplaceOptions extends LoadOptions {
  /**
   * Emulated boot of the replacement instance before its Squid starts: on AWS the instance launches, runs its
   * boot script (packages, policy, Squid) and signals; the lab starts Squid at once unless told otherwise.
   * @default 0
   */
  readonly bootMs?: number;
}

export interface ReplaceStep {
  readonly proxy: string;
  /** multi-az/nlb: drain started → the supervisor stopped sending it new connections. */
  readonly drainMs?: number;
  /** Old Squid killed → new Squid listening on every port. */
  readonly replaceMs: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly requests: number;
  readonly failed: number;
}

export interface ReplaceResult {
  readonly mode: 'single' | 'rolling';
  readonly steps: readonly ReplaceStep[];
  readonly load: {
    readonly tenant: string;
    readonly url: string;
    readonly requests: number;
    readonly failed: number;
    readonly errors: Readonly<Record<string, number>>;
  };
  /** single: old proxy killed → the first request that succeeds after the last failure (the tenant's interruption). */
  readonly interruptionMs?: number;
  readonly bootMs: number;
}

/**
 * The old instance is gone: every Squid process of the proxy killed (again, until none is left: a master killed
 * after its kid may have started a new one), and its pid file with it, as a new instance starts with a new disk.
 */
async function terminate(topo: LabTopology, proxy: LabProxy): Promise<void> {
  const until = Date.now() + 5000;
  while (killProxy(proxy).length > 0 && Date.now() < until) await sleep(50);
  rmSync(labPaths(topo.stateDir).proxy(proxy.index).squidPid, { force: true });
}

export async function labReplace(opts: ReplaceOptions, step: Step): Promise<ReplaceResult> {
  const topo = requireRunningLab();
  const settings = supervisorSettings(topo);
  const bootMs = opts.bootMs ?? 0;
  const load = await startLoad(topo, opts);
  step(`load: ${opts.clients} clients through ${load.tenant.tenant.name} → ${load.url}, a new connection per request`);
  const steps: Omit<ReplaceStep, 'requests' | 'failed'>[] = [];
  let samples: LoadSample[] | undefined;
  let killedAt = 0;
  try {
    // Let the load reach steady state before the first proxy goes.
    await sleep(1000);
    for (const proxy of topo.proxies) {
      const startedAt = Date.now();
      let drainMs: number | undefined;
      if (topo.proxies.length > 1) {
        // The termination lifecycle hook's wait: the instance reports itself unhealthy and the name moves away.
        step(`${proxy.id}: draining (the terminating instance's health reads 0)`);
        drain(topo, proxy);
        const withdrawn = (s: SupervisorStatus) => healthOf(s, proxy)?.healthy === false && !s.active.includes(proxy.id);
        await waitForStatus(topo, `${proxy.id} withdrawn`, withdrawn, reactionBound(settings), startedAt);
        drainMs = Date.now() - startedAt;
        await sleep(QUIESCE_MS);
      }
      step(`${proxy.id}: terminated${bootMs > 0 ? `; the replacement boots for ${bootMs} ms` : ''}`);
      killedAt = Date.now();
      await terminate(topo, proxy);
      if (bootMs > 0) await sleep(bootMs);
      await restartProxy(topo, proxy);
      const replaceMs = Date.now() - killedAt;
      // The replacement boots without the drain file (a new instance); in the lab it is the same path.
      undrain(topo, proxy);
      step(`${proxy.id}: replacement listening after ${replaceMs} ms; waiting until it is healthy`);
      await waitForStatus(topo, `${proxy.id} healthy`, (s) => healthOf(s, proxy)?.healthy === true, reactionBound(settings), Date.now());
      steps.push({ proxy: proxy.id, drainMs, replaceMs, startedAt, endedAt: Date.now() });
    }
    // Let the last replacement carry the load for a moment before counting.
    await sleep(1000);
    samples = await load.stop();
  } finally {
    if (!samples) await load.stop().catch(() => []);
  }
  const failed = samples.filter((s) => s.error);
  const within = (s: LoadSample, a: { startedAt: number; endedAt: number }) => s.start >= a.startedAt && s.start < a.endedAt;
  const errors = countBy(failed);
  let interruptionMs: number | undefined;
  if (topo.proxies.length === 1) {
    const lastFailure = Math.max(killedAt, ...failed.map((s) => s.start));
    const recovered = samples.filter((s) => !s.error && s.start >= lastFailure).sort((a, b) => a.end - b.end)[0];
    interruptionMs = recovered ? recovered.end - killedAt : undefined;
  }
  const status = readSupervisorStatus(topo.stateDir);
  if (status && !topo.proxies.every((p) => healthOf(status, p)?.healthy)) step('warning: not every proxy reads healthy at the end');
  return {
    mode: topo.proxies.length === 1 ? 'single' : 'rolling',
    steps: steps.map((s) => ({
      ...s,
      requests: samples.filter((x) => within(x, s)).length,
      failed: failed.filter((x) => within(x, s)).length,
    })),
    load: { tenant: load.tenant.tenant.name, url: load.url, requests: samples.length, failed: failed.length, errors },
    interruptionMs,
    bootMs,
  };
}
