// Day-2 operations on the lab's proxy fleet, measured under real traffic: kill the proxy that takes new
// connections and watch the supervisor fail over (and the proxy rejoin when it comes back), and roll a policy
// change through the fleet one drained proxy at a time. Figures are of the lab's emulation (docs/ha.md).
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { failoverNameOf, UsageError, type EgressPlan } from '../config';
import { fleetMode } from '../config/fleet-modes';
// A static import: the CLI loads aws-cdk-lib anyway (synth), and a dynamic import of a .ts module is not
// resolved by bin/egresshub.js's CommonJS-only tsx hook (it failed `lab reconfigure` outside vitest).
import { APPLY_TAG, renderPolicyApply } from '../hub/policy-rollout';
import { LAB_SQUID_USER, labPaths, labSquidConf, readSupervisorStatus, reconfigureProxy, requireRunningLab, type Step } from './lab';
import { decodeSamples, type LoadSample, type LoadSpec } from './load';
import { allowedByConfig } from './matrix';
import { inNs, nodeEntry, run, sleep, spawnInNs, waitFor } from './sh';
import { SUPERVISOR_LIMITS, readSettings, type SupervisorEvent, type SupervisorSettings, type SupervisorStatus } from './supervisor';
import { squidServiceName, type LabProxy, type LabTenant, type LabTopology } from './topology';

// ---------------------------------------------------------------- the supervisor

export function supervisorSettings(topo: LabTopology): SupervisorSettings {
  return readSettings(labPaths(topo.stateDir).supervisorSettings);
}

/** Changes the running supervisor's timings (it re-reads them every round); returns the previous ones. */
export function setSupervisorSettings(topo: LabTopology, settings: Partial<SupervisorSettings>): SupervisorSettings {
  const before = supervisorSettings(topo);
  const next = { ...before, ...settings };
  const [lo, hi] = SUPERVISOR_LIMITS.intervalMs;
  const [tlo, thi] = SUPERVISOR_LIMITS.threshold;
  const within = (n: number, a: number, b: number) => Number.isInteger(n) && n >= a && n <= b;
  if (!within(next.intervalMs, lo, hi)) throw new UsageError(`the probe interval must be ${lo}–${hi} ms (got ${next.intervalMs})`);
  for (const k of ['unhealthyThreshold', 'healthyThreshold'] as const) {
    if (!within(next[k], tlo, thi)) throw new UsageError(`${k} must be a whole number from ${tlo} to ${thi} (got ${next[k]})`);
  }
  writeFileSync(labPaths(topo.stateDir).supervisorSettings, JSON.stringify(next));
  return before;
}

export function supervisorEvents(topo: LabTopology): SupervisorEvent[] {
  const file = labPaths(topo.stateDir).supervisorEvents;
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SupervisorEvent);
}

/** Waits, bounded, for a supervisor round that finished after `after` and satisfies `check`. */
export async function waitForStatus(
  topo: LabTopology,
  what: string,
  check: (s: SupervisorStatus) => boolean,
  timeoutMs: number,
  after = Date.now(),
): Promise<SupervisorStatus> {
  let last: SupervisorStatus | undefined;
  const ok = await waitFor(
    () => {
      last = readSupervisorStatus(topo.stateDir);
      return last !== undefined && last.at > after && check(last);
    },
    timeoutMs,
    20,
  );
  if (!ok)
    throw new Error(`the lab supervisor did not report ${what} within ${timeoutMs / 1000} s; see ${labPaths(topo.stateDir).supervisorLog}`);
  return last!;
}

/** Longest a change of health can take to show, with the current settings: thresholds × interval plus probe time. */
export function reactionBound(s: SupervisorSettings): number {
  return (Math.max(s.unhealthyThreshold, s.healthyThreshold) + 2) * s.intervalMs + 10_000;
}

export const healthOf = (s: SupervisorStatus, p: LabProxy) => s.proxies.find((x) => x.id === p.id);

// ---------------------------------------------------------------- proxies

export function drain(topo: LabTopology, p: LabProxy): void {
  writeFileSync(labPaths(topo.stateDir).proxy(p.index).drainFile, `drained by egresshub lab at ${new Date().toISOString()}\n`);
}

export function undrain(topo: LabTopology, p: LabProxy): void {
  rmSync(labPaths(topo.stateDir).proxy(p.index).drainFile, { force: true });
}

/** Every Squid process (master and kid) in the proxy's namespace. */
export function squidPids(p: Pick<LabProxy, 'ns'>): number[] {
  return run(['ip', 'netns', 'pids', p.ns], { allowFail: true })
    .stdout.split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'squid';
      } catch {
        return false;
      }
    });
}

/** SIGKILL every Squid process of the proxy (master and kid): the instance dies, its sockets are closed by the kernel. */
export function killProxy(p: LabProxy): number[] {
  const pids = squidPids(p);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  return pids;
}

/** Starts the proxy's Squid again with the squid.conf it last ran; resolves when it listens on every port of that file. */
export async function restartProxy(topo: LabTopology, p: LabProxy): Promise<void> {
  const files = labPaths(topo.stateDir).proxy(p.index);
  await waitFor(() => squidPids(p).length === 0, 5000);
  const ports = [...readFileSync(files.squidConf, 'utf8').matchAll(/^http_port (\d+)/gm)].map((m) => `:${m[1]} `);
  inNs(p.ns, ['squid', '-n', squidServiceName(p), '-f', files.squidConf]);
  const listening = () => {
    const out = inNs(p.ns, ['ss', '-ltnH'], { allowFail: true }).stdout;
    return ports.every((port) => out.includes(port));
  };
  if (!(await waitFor(listening, 20_000, 20))) throw new Error(`squid (${p.id}) did not listen again within 20 s; see ${files.cacheLog}`);
}

/** The running lab with at least two proxies and every proxy healthy, or a usage error saying what to do. */
export function requireFleet(): { topo: LabTopology; status: SupervisorStatus } {
  const topo = requireRunningLab();
  if (topo.proxies.length < 2) {
    throw new UsageError(
      `the lab has one proxy (hub.proxy.mode single): failover needs two or more; use a multi-az or nlb config, e.g. examples/egresshub.yaml`,
    );
  }
  const status = readSupervisorStatus(topo.stateDir);
  const settings = supervisorSettings(topo);
  if (!status || Date.now() - status.at > 3 * settings.intervalMs + 10_000) {
    throw new UsageError(
      `the lab's supervisor is not running (no report for a while); rebuild the lab: \`egresshub lab down && egresshub lab up\``,
    );
  }
  const sick = status.proxies.filter((x) => !x.healthy);
  if (sick.length > 0) throw new UsageError(`not every proxy is healthy (${sick.map((x) => x.id).join(', ')}); rebuild the lab or wait`);
  return { topo, status };
}

// ---------------------------------------------------------------- load

export interface LoadOptions {
  /** The tenant the load goes through (default: the first whose policy allows plain HTTP to a lab name). */
  readonly tenant?: string;
  readonly clients: number;
  readonly pauseMs: number;
  /** Caps: the load stops at whichever comes first. */
  readonly maxRequests: number;
  readonly maxSeconds: number;
}

/** Each load request's own timeout (connect included): a request to a lost instance fails after this. */
export const LOAD_TIMEOUT_MS = 5000;

export const DEFAULT_LOAD: LoadOptions = { clients: 16, pauseMs: 20, maxRequests: 100_000, maxSeconds: 30 };

export interface RunningLoad {
  readonly tenant: LabTenant;
  readonly url: string;
  /** Stops the load (lets requests in flight finish) and returns every request. */
  stop(): Promise<LoadSample[]>;
}

/** A URL the tenant's policy lets through over plain HTTP, on a name the lab's DNS serves. */
export function loadTargetFor(t: LabTenant): string | undefined {
  if (!t.tenant.httpPorts.includes(80)) return undefined;
  const host = t.tenant.allow.any
    ? 'www.example.net'
    : (t.tenant.allow.exact[0] ?? (t.tenant.allow.suffixes[0] ? `www.${t.tenant.allow.suffixes[0]}` : undefined));
  return host && allowedByConfig(t.tenant, host) ? `http://${host}/` : undefined;
}

/** Starts the load client in the tenant's spoke and resolves once its first request has finished. */
export async function startLoad(topo: LabTopology, opts: LoadOptions): Promise<RunningLoad> {
  const candidates = opts.tenant ? topo.tenants.filter((t) => t.tenant.name === opts.tenant) : topo.tenants;
  if (candidates.length === 0)
    throw new UsageError(`unknown tenant "${opts.tenant}"; tenants in the lab: ${topo.tenants.map((t) => t.tenant.name).join(', ')}`);
  const tenant = candidates.find((t) => loadTargetFor(t));
  if (!tenant)
    throw new UsageError(
      `no tenant of the lab allows plain HTTP to a lab name, so there is nothing to load it with; choose one with --tenant (lab reconfigure: or --no-load)`,
    );
  const url = loadTargetFor(tenant)!;
  const spec: LoadSpec = {
    proxyHost: tenant.proxyHost,
    proxyPort: tenant.tenant.port,
    url,
    concurrency: opts.clients,
    maxRequests: opts.maxRequests,
    deadlineMs: opts.maxSeconds * 1000,
    pauseMs: opts.pauseMs,
    timeoutMs: LOAD_TIMEOUT_MS,
  };
  const child = spawnInNs(tenant.spokeNs, [process.execPath, ...nodeEntry(__dirname, 'load'), JSON.stringify(spec)], {
    timeoutMs: spec.deadlineMs + 30_000,
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const ready = await Promise.race([waitFor(() => out.startsWith('ready\n'), 20_000, 20), exited.then(() => false)]);
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`the lab load client did not get a first answer within 20 s: ${err.trim() || out.trim()}`);
  }
  return {
    tenant,
    url,
    stop: async () => {
      child.stdin.end('stop\n');
      const code = await exited;
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('[')) throw new Error(`the lab load client failed (exit ${code}): ${err.trim()}`);
      return decodeSamples(last);
    },
  };
}

// ---------------------------------------------------------------- failover

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

/** Failed (or all) samples counted by error: `{ ECONNREFUSED: 3, ok: 10 }`. */
export const countBy = (samples: readonly LoadSample[]) =>
  samples.reduce<Record<string, number>>((acc, s) => ((acc[s.error ?? 'ok'] = (acc[s.error ?? 'ok'] ?? 0) + 1), acc), {});

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
    const switched = await waitForStatus(
      topo,
      `${victim.id} withdrawn`,
      (s) => !s.active.includes(victim.id),
      reactionBound(settings),
      killedAt,
    );
    const event = supervisorEvents(topo).find((e) => e.at >= killedAt && !e.active.includes(victim.id));
    const switchedAt = event?.at ?? switched.at;
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

// ---------------------------------------------------------------- rolling policy change

export interface RollingStep {
  readonly proxy: string;
  /**
   * Drain started → reconfigure: lab method, until the supervisor withdrew it (+ QUIESCE_MS); apply script, its
   * own wait (the failover name stops answering this proxy, polled every 5 s, then TTL + 5 s).
   */
  readonly drainMs: number;
  /** `squid -k reconfigure` → every listener of the new plan open. */
  readonly reconfigureMs: number;
  /** Drain file removed → healthy again (and, in failover order, primary again). */
  readonly rejoinMs: number;
  readonly totalMs: number;
  /** Load requests that started during this proxy's turn, and those that failed (with a load running). */
  readonly requests?: number;
  readonly failed?: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface RollingResult {
  readonly steps: readonly RollingStep[];
  /**
   * `apply-script`: each proxy ran the instances' own apply script (multi-az: drain through the health probe and
   * the failover name); `lab`: the lab drained, reconfigured and undrained it (nlb: the instances deregister from
   * the NLB with the AWS CLI, which the lab cannot run).
   */
  readonly method: RolloutMethod;
  readonly settings: SupervisorSettings;
  readonly load?: {
    readonly tenant: string;
    readonly url: string;
    readonly requests: number;
    readonly failed: number;
    readonly errors: Readonly<Record<string, number>>;
  };
  readonly ms: number;
  readonly ports: readonly number[];
}

/** After the supervisor withdrew a proxy, connections it admitted just before may still sit in Squid's accept queue. */
export const QUIESCE_MS = 300;

/**
 * A policy change with no refused connection: for each proxy in failover order, drain it (its health probe fails,
 * the supervisor withdraws it), wait until the supervisor no longer sends it new connections, `squid -k
 * reconfigure`, wait for its listeners, undrain and wait until it is healthy again. Squid keeps open connections
 * across a reconfigure; new ones reach only proxies that are not reconfiguring. With `load`, a bounded load runs
 * through one tenant for the whole rollout and the result counts its requests and failures per proxy.
 */
export async function rollingReconfigure(plan: EgressPlan, step: Step, load?: LoadOptions): Promise<RollingResult> {
  const { topo } = requireFleet();
  const settings = supervisorSettings(topo);
  const method = rolloutMethod(topo, plan);
  const began = Date.now();
  const running = load ? await startLoad(topo, load) : undefined;
  if (running) step(`load: ${load!.clients} clients through ${running.tenant.tenant.name} → ${running.url}, a new connection per request`);
  const steps: Omit<RollingStep, 'requests' | 'failed'>[] = [];
  let samples: LoadSample[] | undefined;
  try {
    for (const proxy of topo.proxies) {
      const startedAt = Date.now();
      const others = topo.proxies.filter((x) => x !== proxy);
      const now = readSupervisorStatus(topo.stateDir);
      if (!now || !others.some((x) => healthOf(now, x)?.healthy)) {
        throw new Error(
          `no other proxy is healthy: draining ${proxy.id} would leave no proxy for new connections; nothing was changed on it`,
        );
      }
      if (method === 'apply-script') {
        step(`${proxy.id}: the instances' apply script (src/hub/policy-rollout.ts) in ${proxy.ns}`);
        const r = await applyWithRolloutScript(plan, topo, proxy, (line) => step(`${proxy.id}: ${line}`));
        const undrainedAt = Date.now();
        await waitForStatus(topo, `${proxy.id} healthy`, (s) => healthOf(s, proxy)?.healthy === true, reactionBound(settings), undrainedAt);
        const endedAt = Date.now();
        steps.push({
          proxy: proxy.id,
          drainMs: r.drainMs,
          reconfigureMs: r.reconfigureMs,
          rejoinMs: endedAt - undrainedAt,
          totalMs: endedAt - startedAt,
          startedAt,
          endedAt,
        });
        continue;
      }
      step(`${proxy.id}: drain (the health probe fails while ${labPaths(topo.stateDir).proxy(proxy.index).drainFile} exists)`);
      drain(topo, proxy);
      let reconfigureMs = 0;
      let drainedAt = 0;
      try {
        const withdrawn = (s: SupervisorStatus) => healthOf(s, proxy)?.healthy === false && !s.active.includes(proxy.id);
        await waitForStatus(topo, `${proxy.id} withdrawn`, withdrawn, reactionBound(settings), startedAt);
        drainedAt = Date.now();
        step(
          `${proxy.id}: withdrawn after ${drainedAt - startedAt} ms; new connections go to ${readSupervisorStatus(topo.stateDir)?.active.join(', ')}`,
        );
        await sleep(QUIESCE_MS);
        reconfigureMs = await reconfigureProxy(plan, topo, proxy, step);
      } finally {
        undrain(topo, proxy);
      }
      const undrainedAt = Date.now();
      step(`${proxy.id}: listening with the new policy after ${reconfigureMs} ms; undrained, waiting until it is healthy`);
      await waitForStatus(topo, `${proxy.id} healthy`, (s) => healthOf(s, proxy)?.healthy === true, reactionBound(settings), undrainedAt);
      const endedAt = Date.now();
      steps.push({
        proxy: proxy.id,
        drainMs: drainedAt - startedAt,
        reconfigureMs,
        rejoinMs: endedAt - undrainedAt,
        totalMs: endedAt - startedAt,
        startedAt,
        endedAt,
      });
    }
    if (running) {
      // Let the last proxy's return settle under load before counting.
      await sleep(500);
      samples = await running.stop();
    }
  } finally {
    if (running && !samples) await running.stop().catch(() => []);
  }
  const failed = samples?.filter((s) => s.error) ?? [];
  const within = (s: LoadSample, a: RollingStep | (typeof steps)[number]) => s.start >= a.startedAt && s.start < a.endedAt;
  return {
    steps: steps.map((s) =>
      samples ? { ...s, requests: samples.filter((x) => within(x, s)).length, failed: failed.filter((x) => within(x, s)).length } : s,
    ),
    settings,
    method,
    load:
      running && samples
        ? { tenant: running.tenant.tenant.name, url: running.url, requests: samples.length, failed: failed.length, errors: countBy(failed) }
        : undefined,
    ms: Date.now() - began,
    ports: plan.tenants.map((t) => t.port),
  };
}

// ---------------------------------------------------------------- the instances' own apply script

export type RolloutMethod = 'apply-script' | 'lab';

/** multi-az labs run the instances' apply script; nlb labs drain through the supervisor (see RollingResult.method). */
export function rolloutMethod(topo: LabTopology, plan: EgressPlan): RolloutMethod {
  return topo.routing === 'failover' && fleetMode(plan.hub.proxy.mode).drain === 'health' ? 'apply-script' : 'lab';
}

/** The lab's stand-in bucket: `s3://LAB_BUCKET/<key>` is served from `<state>/s3/<key>` by the fake `aws`. */
const LAB_BUCKET = 'egresshub-lab-policy';

/**
 * A directory whose `aws` is src/lab/scripts/fake-aws.sh, a fake AWS CLI for the apply script: only
 * `aws s3 cp [--region R] [--only-show-errors] s3://LAB_BUCKET/KEY DEST`, copied from the lab's state directory
 * (which it reads from the environment, fakeAwsEnv). Anything else fails loudly, so a script that starts needing
 * another call is noticed here first.
 */
function writeFakeAws(stateDir: string): string {
  const dir = join(stateDir, 'fake-aws');
  mkdirSync(join(stateDir, 's3'), { recursive: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(__dirname, 'scripts', 'fake-aws.sh'), join(dir, 'aws'));
  chmodSync(join(dir, 'aws'), 0o755);
  return dir;
}

/** The environment fake-aws.sh reads: the lab bucket's name and the directory that holds its objects. */
function fakeAwsEnv(stateDir: string): string[] {
  return [`FAKE_S3_BUCKET=${LAB_BUCKET}`, `FAKE_S3_DIR=${join(stateDir, 's3')}`];
}

/** The apply script's own bounds in the lab: the longest drain (and undrain) wait, and the wait for listeners. */
const LAB_APPLY = { maxDrainSeconds: 60, listenSeconds: 20 } as const;
/**
 * The longest the lab lets the apply script run on one proxy: above the sum of its own waits (drain, settle, the
 * reconfigure's and the ports' listen waits, undrain), so that a slow step ends with the script's own message.
 */
export const APPLY_SCRIPT_TIMEOUT_MS = (2 * LAB_APPLY.maxDrainSeconds + 2 * LAB_APPLY.listenSeconds + 30) * 1000;

/**
 * Runs `renderPolicyApply` (the script State Manager runs on each proxy) inside the proxy's namespace, with the
 * instance's files under the proxy's lab directory, the new squid.conf as an "S3 object" of the fake `aws`, and
 * the failover name answered by the supervisor (TTL 0: the lab's hosts file caches nothing). Resolves when the
 * script exits 0 (it has undrained the proxy); `drainMs` = start → "reconfiguring", `reconfigureMs` = → "applied".
 */
export async function applyWithRolloutScript(
  plan: EgressPlan,
  topo: LabTopology,
  proxy: LabProxy,
  onLine: (line: string) => void,
): Promise<{ drainMs: number; reconfigureMs: number; output: string[] }> {
  const fleet = plan.hub.proxy;
  // The apply script drains through the failover name: a multi-az plan's (rolloutMethod picks this only then).
  const failoverName = failoverNameOf(fleet);
  if (!failoverName) throw new Error(`the apply script drains through the multi-az failover name; this plan is ${fleet.mode}`);
  const files = labPaths(topo.stateDir).proxy(proxy.index);
  const instance = join(files.dir, 'instance');
  mkdirSync(instance, { recursive: true });
  const paths = {
    squidConf: files.squidConf,
    env: join(instance, 'proxy.env'),
    bootstrapped: join(instance, 'bootstrapped'),
    sysctl: join(instance, '90-egresshub.conf'),
    stateDir: instance,
    // The certificate startSquid made for this proxy, readable by the lab's Squid user.
    peekCert: files.peekCert,
    squidGroup: LAB_SQUID_USER,
    // The lab's squid.conf names the package's own log daemon; these stay unused (no proxy files in a lab policy).
    logDaemon: join(instance, 'egresshub-logd'),
    agentConfig: join(instance, 'cloudwatch-agent.json'),
  };
  writeFileSync(paths.env, `REGION='lab'\nINSTANCE_ID='${proxy.ns}'\nLISTENER_IP='${proxy.ip}'\n`);
  writeFileSync(paths.bootstrapped, '');
  const key = `proxy-${proxy.index}/squid.conf`;
  const fakeAws = writeFakeAws(topo.stateDir);
  // Each proxy's own host paths (logs, pid): on AWS every instance reads the same object.
  writeFileSync(join(topo.stateDir, 's3', key.replace('/', '-')), labSquidConf(plan, topo.stateDir, proxy.index));
  const script = renderPolicyApply({
    drain: 'health',
    drainFile: files.drainFile,
    failoverName: { name: failoverName.name, ttlSeconds: 0 },
    ...LAB_APPLY,
    paths,
  });
  const env = [
    `PATH=${fakeAws}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
    ...fakeAwsEnv(topo.stateDir),
    `POLICY_OBJECT=s3://${LAB_BUCKET}/${key.replace('/', '-')}`,
  ];
  const started = Date.now();
  const child = spawnInNs(proxy.ns, ['env', ...env, 'bash', '-c', script], { timeoutMs: APPLY_SCRIPT_TIMEOUT_MS });
  child.stdin.end();
  const output: string[] = [];
  const at: Record<string, number> = {};
  let partial = '';
  const onData = (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      output.push(line);
      if (line.startsWith(APPLY_TAG)) {
        const text = line.slice(APPLY_TAG.length).trim();
        if (/^reconfiguring squid/.test(text)) at.reconfiguring ??= Date.now();
        if (/^applied /.test(text)) at.applied ??= Date.now();
        onLine(text);
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', (d: Buffer) => output.push(...d.toString().split('\n').filter(Boolean)));
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  if (child.timedOut()) {
    throw new Error(
      `the apply script did not finish on ${proxy.id} within ${APPLY_SCRIPT_TIMEOUT_MS / 1000} s (ended with its process group):\n${output.slice(-20).join('\n')}`,
    );
  }
  if (code !== 0) {
    throw new Error(`the apply script failed on ${proxy.id} (exit ${code}):\n${output.slice(-20).join('\n')}`);
  }
  const reconfiguring = at.reconfiguring ?? started;
  return { drainMs: reconfiguring - started, reconfigureMs: (at.applied ?? reconfiguring) - reconfiguring, output };
}
