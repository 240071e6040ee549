// The failover experiment: kill the proxy that takes new connections under load, watch the supervisor fail over,
// then restart it and watch it rejoin, measuring failed requests and the time to recover (docs/ha.md).
import type { LoadSample } from './load';
import { inNs, sleep } from './sh';
import type { SupervisorSettings } from './supervisor';
import type { LabProxy, LabTopology } from './topology';
import type { Step } from './lab';
import {
  killProxy,
  reactionBound,
  requireFleet,
  restartProxy,
  supervisorEvents,
  supervisorSettings,
  waitForStatus,
  waitForWithdrawal,
} from './fleet';
import { countBy, DEFAULT_LOAD, LOAD_TIMEOUT_MS, startLoad, type LoadOptions } from './traffic';

export interface FailoverResult {
  readonly kind: FailureKind;
  readonly tenant: string;
  readonly url: string;
  readonly clients: number;
  readonly settings: SupervisorSettings;
  /** The proxy that took new connections and was killed. */
  readonly killed: string;
  /** Where new connections went after the failover. */
  readonly failedOverTo: readonly string[];
  readonly requests: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
  /** Requests that started before the kill and ended after it. */
  readonly inFlightAtKill: number;
  /** Requests that started between the kill and the gateways' switch: the detection window. */
  readonly startedInWindow: number;
  /** Kill → every gateway's map swapped. */
  readonly detectMs: number;
  /** Kill → end of the first successful request that started after the kill. */
  readonly firstSuccessMs: number;
  /** Kill → end of the first successful request that started after the last failed one. */
  readonly sustainedMs: number;
  /** Requests that started after the switch, which must all succeed: recovery is anchored to the recorded switch. */
  readonly startedAfterSwitch: number;
  /** Failed requests that started after the switch (must be 0), and the first few of them (ms after the kill). */
  readonly failedAfterSwitch: number;
  readonly lateFailures: readonly { readonly startMs: number; readonly endMs: number; readonly error: string }[];
  readonly rejoin: {
    /** Restart command → Squid listening again. */
    readonly restartMs: number;
    /** Squid listening → the supervisor routes new connections to it again. */
    readonly rejoinMs: number;
    readonly active: readonly string[];
    /** Requests that started from the restart to the end of the run, and those that failed (must be 0). */
    readonly requests: number;
    readonly failed: number;
  };
  readonly durationMs: number;
  /** When it happened (ms since the epoch): the kill, the gateways' switch, the restart and the return. */
  readonly at: { readonly kill: number; readonly switch: number; readonly restart: number; readonly rejoin: number };
}

/**
 * What dies: `squid` (SIGKILL Squid; the namespace's kernel refuses new connections at once) or `instance` (the
 * proxy's link goes down too, as when an instance or its AZ is lost: connections to it time out).
 */
export type FailureKind = 'squid' | 'instance';

export interface FailoverOptions extends LoadOptions {
  /** Load before the kill, and after each change, to see it settle. */
  readonly warmupMs: number;
  readonly settleMs: number;
  readonly kind: FailureKind;
}

export const DEFAULT_FAILOVER: FailoverOptions = { ...DEFAULT_LOAD, warmupMs: 1000, settleMs: 2000, kind: 'squid' };

/** The proxy's only link, down or up again (with its default route, which goes with the link). */
function setProxyLink(topo: LabTopology, p: LabProxy, up: boolean): void {
  inNs(p.ns, ['ip', 'link', 'set', 'px-hub', up ? 'up' : 'down']);
  if (up) inNs(p.ns, ['ip', 'route', 'replace', 'default', 'via', topo.natPrivateIp]);
}

/**
 * Under a bounded load through one tenant, SIGKILLs the Squid of the proxy that takes new connections (with
 * `instance`, after taking its link down), measures
 * the failed requests and the time to recover, then restarts it and measures its return. Always restarts the
 * killed proxy, even when a step fails.
 */
export async function labFailover(opts: FailoverOptions, step: Step): Promise<FailoverResult> {
  const { topo, status } = requireFleet();
  const settings = supervisorSettings(topo);
  const victim = topo.proxies.find((x) => x.id === status.active[0])!;
  step(`load: ${opts.clients} clients through ${opts.tenant ?? 'the first tenant that allows plain HTTP'}, a new connection per request`);
  const load = await startLoad(topo, opts);
  const began = Date.now();
  let samples: LoadSample[] = [];
  let killedAt = 0;
  let restarted = false;
  try {
    step(`${load.tenant.tenant.name} → ${load.url}; new connections go to ${status.active.join(', ')}`);
    await sleep(opts.warmupMs);
    if (opts.kind === 'instance') setProxyLink(topo, victim, false);
    const pids = killProxy(victim);
    // After the signals: a request that started while they were being sent may still have been served.
    killedAt = Date.now();
    step(
      `${opts.kind === 'instance' ? `link down and ` : ''}SIGKILL squid of ${victim.id} (${victim.ns}, pids ${pids.join(' ')}); waiting for the supervisor (probe every ${settings.intervalMs} ms, unhealthy after ${settings.unhealthyThreshold})`,
    );
    const { status: switched, at: switchedAt } = await waitForWithdrawal(topo, victim, settings, killedAt);
    // A lost instance: connection attempts already sent to it stay pinned to it (conntrack) until the clients'
    // timeout; run past it, so they are counted and the proxy's return does not rescue them.
    const settle = opts.kind === 'instance' ? Math.max(opts.settleMs, LOAD_TIMEOUT_MS + 2000) : opts.settleMs;
    step(`new connections go to ${switched.active.join(', ')} after ${switchedAt - killedAt} ms; letting the load run ${settle} ms`);
    await sleep(settle);
    const restartAt = Date.now();
    step(`restarting squid of ${victim.id}`);
    if (opts.kind === 'instance') setProxyLink(topo, victim, true);
    await restartProxy(topo, victim);
    restarted = true;
    const listeningAt = Date.now();
    const back = await waitForStatus(topo, `${victim.id} back`, (s) => s.active.includes(victim.id), reactionBound(settings), listeningAt);
    const backEvent = supervisorEvents(topo).find((e) => e.at >= listeningAt && e.active.includes(victim.id));
    const backAt = backEvent?.at ?? back.at;
    step(`${victim.id} takes new connections again ${backAt - listeningAt} ms after it listened; letting the load run ${opts.settleMs} ms`);
    await sleep(opts.settleMs);
    samples = await load.stop();
    const failed = samples.filter((s) => s.error);
    const lastFailure = failed.filter((s) => s.start >= killedAt - 10_000).reduce((m, s) => Math.max(m, s.start), killedAt);
    const okAfter = (t: number) => samples.filter((s) => !s.error && s.start > t).reduce((m, s) => Math.min(m, s.end), Infinity);
    const rejoinSamples = samples.filter((s) => s.start >= restartAt);
    return {
      kind: opts.kind,
      tenant: load.tenant.tenant.name,
      url: load.url,
      clients: opts.clients,
      settings,
      killed: victim.id,
      failedOverTo: switched.active,
      requests: samples.length,
      failed: failed.length,
      errors: countBy(failed),
      inFlightAtKill: samples.filter((s) => s.start < killedAt && s.end >= killedAt).length,
      startedInWindow: samples.filter((s) => s.start >= killedAt && s.start <= switchedAt).length,
      detectMs: switchedAt - killedAt,
      firstSuccessMs: okAfter(killedAt) - killedAt,
      sustainedMs: okAfter(lastFailure) - killedAt,
      startedAfterSwitch: samples.filter((s) => s.start > switchedAt && s.start < restartAt).length,
      failedAfterSwitch: failed.filter((s) => s.start > switchedAt).length,
      lateFailures: failed
        .filter((s) => s.start > switchedAt || s.start >= restartAt)
        .slice(0, 10)
        .map((s) => ({ startMs: s.start - killedAt, endMs: s.end - killedAt, error: s.error! })),
      rejoin: {
        restartMs: listeningAt - restartAt,
        rejoinMs: backAt - listeningAt,
        active: back.active,
        requests: rejoinSamples.length,
        failed: rejoinSamples.filter((s) => s.error).length,
      },
      durationMs: Date.now() - began,
      at: { kill: killedAt, switch: switchedAt, restart: restartAt, rejoin: backAt },
    };
  } finally {
    if (samples.length === 0) await load.stop().catch(() => []);
    if (killedAt > 0 && !restarted) {
      if (opts.kind === 'instance') {
        try {
          setProxyLink(topo, victim, true);
        } catch {
          // the lab may be gone already
        }
      }
      await restartProxy(topo, victim).catch(() => undefined);
    }
  }
}
