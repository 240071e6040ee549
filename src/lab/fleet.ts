// Control of the running lab's proxy fleet: the supervisor's timings, events and status, draining, killing and
// restarting a proxy, and the check that a fleet is there to experiment on. The experiments on it are
// src/lab/failover.ts and src/lab/rollout.ts (figures are of the lab's emulation, docs/ha.md).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { UsageError } from '../config';
import { inNs, run, waitFor } from './sh';
import { SUPERVISOR_LIMITS, readSettings, type SupervisorEvent, type SupervisorSettings, type SupervisorStatus } from './supervisor';
import { squidServiceName, type LabProxy, type LabTopology } from './topology';
import { requireRunningLab } from './lab';
import { labPaths, readSupervisorStatus } from './state';

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

/**
 * Waits, bounded by the settings' reaction time, for a supervisor round after `since` that no longer routes to `p`.
 * Returns that round and when the switch happened: the supervisor's event if it wrote one, else the round's time.
 */
export async function waitForWithdrawal(
  topo: LabTopology,
  p: LabProxy,
  settings: SupervisorSettings,
  since: number,
): Promise<{ status: SupervisorStatus; at: number }> {
  const status = await waitForStatus(topo, `${p.id} withdrawn`, (s) => !s.active.includes(p.id), reactionBound(settings), since);
  const at = supervisorEvents(topo).find((e) => e.at >= since && !e.active.includes(p.id))?.at ?? status.at;
  return { status, at };
}

/** Longest a change of health can take to show, with the current settings: thresholds × interval plus probe time. */
export function reactionBound(s: SupervisorSettings): number {
  return (Math.max(s.unhealthyThreshold, s.healthyThreshold) + 2) * s.intervalMs + 10_000;
}

export const healthOf = (s: SupervisorStatus, p: LabProxy) => s.proxies.find((x) => x.id === p.id);

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
