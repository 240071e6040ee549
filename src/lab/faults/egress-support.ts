// What the egress faults share: break one thing on a proxy's way out under load, wait for the lab's supervisor
// (which runs the instances' own health probe and egress check, failing open: src/lab/supervisor.ts) to react,
// undo it, wait for the proxy to come back, and count what the tenants' load saw before and after the reaction.
import { UsageError } from '../../config';
import { healthOf, reactionBound, supervisorEvents, supervisorSettings, waitForStatus, waitForWithdrawal } from '../fleet';
import { DEFAULT_LOAD, LOAD_TIMEOUT_MS, startLoad, countBy, type LoadOptions } from '../traffic';
import { labUp } from '../lab';
import { readSupervisorStatus } from '../state';
import type { LoadSample } from '../load';
import { inNs, sleep } from '../sh';
import { INTERNET, type LabProxy, type LabTopology } from '../topology';
import type { FaultContext, FaultResult } from './fault';

/** The faults' load: bounded in clients, requests and time (the lab is shared; keep runs short). */
export const FAULT_LOAD: LoadOptions & { readonly warmupMs: number; readonly settleMs: number } = {
  ...DEFAULT_LOAD,
  clients: 8,
  maxRequests: 30_000,
  maxSeconds: 60,
  warmupMs: 1000,
  settleMs: 2000,
};

/** The lab for the context's plan (reused when up), with two proxies or more, every one healthy. */
export async function fleetLab(ctx: FaultContext, fault: string): Promise<LabTopology> {
  const { topo } = await labUp(ctx.plan, ctx.configFile, ctx.step);
  if (topo.proxies.length < 2) {
    throw new UsageError(
      `lab fault ${fault} needs two proxies or more (the config has hub.proxy.mode single); use a multi-az or nlb config, e.g. examples/egresshub.yaml`,
    );
  }
  const settings = supervisorSettings(topo);
  await waitForStatus(
    topo,
    'every proxy healthy, with egress',
    (s) => s.proxies.every((p) => p.healthy && p.lastProbe?.ok && p.lastProbe.egress !== false) && s.egressAlarm?.state !== 'ALARM',
    reactionBound(settings) + 20_000,
    0,
  );
  return topo;
}

/**
 * Drops, at the NAT gateway, whatever the proxy sends out that is not a DNS query to the emulated resolver: as a
 * route whose NAT gateway is gone (state `blackhole` on AWS) or a NAT gateway that stops forwarding, seen from the
 * proxy. Packets vanish, so connections time out; on AWS the VPC resolver is inside the VPC and keeps answering,
 * which is why the lab's resolver (reached through the NAT) is left alone here. The hub subnet is untouched.
 */
export function cutEgress(topo: LabTopology, p: LabProxy): void {
  natDrop(topo, p, 'egress', `ip saddr ${p.ip} ip daddr != ${INTERNET.dnsIp} drop`);
}

/** Drops the proxy's DNS queries to the emulated resolver at the NAT gateway: they time out, as to a resolver gone. */
export function cutDns(topo: LabTopology, p: LabProxy): void {
  natDrop(topo, p, 'dns', `ip saddr ${p.ip} ip daddr ${INTERNET.dnsIp} meta l4proto { udp, tcp } th dport 53 drop`);
}

/** Undoes cutEgress or cutDns; a no-op when not in place. */
export function restore(topo: LabTopology, p: LabProxy, what: 'egress' | 'dns'): void {
  inNs(topo.natNs, ['nft', 'delete', 'table', 'inet', faultTable(p, what)], { allowFail: true });
}

const faultTable = (p: LabProxy, what: string) => `ehfault_${what}_${p.letter}`;

function natDrop(topo: LabTopology, p: LabProxy, what: string, rule: string): void {
  inNs(topo.natNs, ['nft', '-f', '-'], {
    input: `table inet ${faultTable(p, what)} {\n  chain forward {\n    type filter hook forward priority -10; policy accept;\n    ${rule}\n  }\n}\n`,
  });
}

export interface Withdrawal {
  readonly fault: string;
  /** What is broken, for the progress lines. */
  readonly what: string;
  inject(topo: LabTopology, victim: LabProxy): void;
  undo(topo: LabTopology, victim: LabProxy): void;
}

/**
 * Breaks the way out of the proxy that takes new connections (the first of the active ones) under load: the
 * supervisor must withdraw it (its egress fails, the others' works), new connections go elsewhere, and it comes
 * back once repaired. `failedAfterDetect` counts requests that started after the gateways switched and failed.
 */
export async function runWithdrawal(ctx: FaultContext, w: Withdrawal, load = FAULT_LOAD): Promise<FaultResult> {
  const topo = await fleetLab(ctx, w.fault);
  const settings = supervisorSettings(topo);
  const status = readSupervisorStatus(topo.stateDir)!;
  const victim = topo.proxies.find((x) => x.id === status.active[0])!;
  const began = Date.now();
  const running = await startLoad(topo, load);
  ctx.step(
    `load: ${load.clients} clients through ${running.tenant.tenant.name} → ${running.url}; new connections go to ${status.active.join(', ')}`,
  );
  let samples: LoadSample[] | undefined;
  let injectedAt = 0;
  let undone = false;
  try {
    await sleep(load.warmupMs);
    w.inject(topo, victim);
    injectedAt = Date.now();
    ctx.step(`${w.what} on ${victim.id} (${victim.ns}); waiting for the supervisor (probe every ${settings.intervalMs} ms)`);
    const { status: switched, at: switchedAt } = await waitForWithdrawal(topo, victim, settings, injectedAt);
    const reason = healthOf(switched, victim)?.lastProbe?.reason ?? '?';
    // Requests Squid took before the withdrawal wait for a way out (DNS retries, connect retries) until their clients
    // give up: run past the clients' timeout, so they are counted and the repair does not rescue them.
    const settle = Math.max(load.settleMs, LOAD_TIMEOUT_MS + 2000);
    ctx.step(
      `${victim.id} withdrawn after ${switchedAt - injectedAt} ms (${reason}); new connections go to ${switched.active.join(', ')}; letting the load run ${settle} ms`,
    );
    await sleep(settle);
    const undoneAt = Date.now();
    w.undo(topo, victim);
    undone = true;
    const back = await waitForStatus(topo, `${victim.id} back`, (s) => s.active.includes(victim.id), reactionBound(settings), undoneAt);
    const backAt = supervisorEvents(topo).find((e) => e.at >= undoneAt && e.active.includes(victim.id))?.at ?? back.at;
    ctx.step(`repaired; ${victim.id} takes new connections again ${backAt - undoneAt} ms later; letting the load run ${load.settleMs} ms`);
    await sleep(load.settleMs);
    samples = await running.stop();
    const failed = samples.filter((s) => s.error);
    return {
      fault: w.fault,
      requests: samples.length,
      failed: failed.length,
      failedAfterDetect: failed.filter((s) => s.start > switchedAt).length,
      detectMs: switchedAt - injectedAt,
      withdrawn: [victim.id],
      failedOverTo: switched.active,
      reason,
      errors: countBy(failed),
      inFlightAtFault: samples.filter((s) => s.start < injectedAt && s.end >= injectedAt).length,
      startedBeforeDetect: samples.filter((s) => s.start >= injectedAt && s.start <= switchedAt).length,
      startedAfterDetect: samples.filter((s) => s.start > switchedAt && s.start < undoneAt).length,
      rejoinMs: backAt - undoneAt,
      afterRejoin: { requests: samples.filter((s) => s.start > backAt).length, failed: failed.filter((s) => s.start > backAt).length },
      settings,
      durationMs: Date.now() - began,
    };
  } finally {
    if (injectedAt > 0 && !undone) {
      try {
        w.undo(topo, victim);
      } catch {
        // the lab may be gone already
      }
    }
    if (!samples) await running.stop().catch(() => []);
  }
}
