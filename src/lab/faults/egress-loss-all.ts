// egress-loss-all: every proxy loses its way out through the NAT gateway under load (on AWS: the hub's one NAT gateway, or
// the egress check's target itself, gone). No proxy is better off than another, so none is withdrawn (fail open:
// withdrawing them would leave the name or the target group with nothing, or worse, a proxy without Squid), and the
// no-egress alarm (NoProxyEgressAlarm on AWS) says why tenants' requests fail. Once repaired, the alarm clears.
import { reactionBound, supervisorEvents, supervisorSettings, waitForStatus } from '../fleet';
import { LOAD_TIMEOUT_MS, startLoad, countBy } from '../traffic';
import { readSupervisorStatus } from '../state';
import type { LoadSample } from '../load';
import { sleep } from '../sh';
import type { Fault, FaultContext, FaultResult } from './fault';
import { cutEgress, FAULT_LOAD, fleetLab, restore } from './egress-support';

async function run(ctx: FaultContext): Promise<FaultResult> {
  const topo = await fleetLab(ctx, 'egress-loss-all');
  const settings = supervisorSettings(topo);
  const before = readSupervisorStatus(topo.stateDir)!;
  const load = FAULT_LOAD;
  const began = Date.now();
  const running = await startLoad(topo, load);
  ctx.step(
    `load: ${load.clients} clients through ${running.tenant.tenant.name} → ${running.url}; new connections go to ${before.active.join(', ')}`,
  );
  let samples: LoadSample[] | undefined;
  let cut = false;
  try {
    await sleep(load.warmupMs);
    for (const p of topo.proxies) cutEgress(topo, p);
    cut = true;
    const injectedAt = Date.now();
    ctx.step(
      `dropping every proxy's traffic out at the NAT gateway (${topo.proxies.map((p) => p.id).join(', ')}); waiting for the no-egress alarm`,
    );
    const alarmed = await waitForStatus(
      topo,
      'the no-egress alarm',
      (s) => s.egressAlarm?.state === 'ALARM',
      reactionBound(settings),
      injectedAt,
    );
    const alarmAt = alarmed.egressAlarm!.since;
    ctx.step(`no-egress alarm after ${alarmAt - injectedAt} ms; new connections still go to ${alarmed.active.join(', ')}`);
    // As long again as detection took, and two clients' timeouts: requests taken before the alarm time out, and
    // requests started after it have their whole timeout before the repair (what tenants see while the alarm is on).
    // A withdrawal would have shown by then.
    await sleep(Math.max(load.settleMs, alarmAt - injectedAt, 2 * LOAD_TIMEOUT_MS + 2000));
    const during = readSupervisorStatus(topo.stateDir)!;
    const restoredAt = Date.now();
    for (const p of topo.proxies) restore(topo, p, 'egress');
    cut = false;
    const cleared = await waitForStatus(
      topo,
      'the no-egress alarm cleared',
      (s) => s.egressAlarm?.state === 'OK',
      reactionBound(settings),
      restoredAt,
    );
    const clearedAt = cleared.egressAlarm!.since;
    ctx.step(`repaired; the alarm cleared ${clearedAt - restoredAt} ms later; letting the load run ${load.settleMs} ms`);
    await sleep(load.settleMs);
    samples = await running.stop();
    const failed = samples.filter((s) => s.error);
    // Any change of the gateways' maps while egress was gone is a withdrawal the fail-open rule should have prevented.
    const changes = supervisorEvents(topo).filter((e) => e.at >= injectedAt && e.at <= restoredAt);
    const withdrawn = [...new Set(changes.flatMap((e) => before.active.filter((id) => !e.active.includes(id))))];
    return {
      fault: 'egress-loss-all',
      requests: samples.length,
      failed: failed.length,
      failedAfterDetect: failed.filter((s) => s.start > alarmAt && s.start < restoredAt).length,
      detectMs: alarmAt - injectedAt,
      withdrawn,
      activeDuring: during.active,
      alarm: during.egressAlarm?.state,
      alarmClearedMs: clearedAt - restoredAt,
      reasons: Object.fromEntries(during.proxies.map((p) => [p.id, p.lastProbe?.reason ?? '?'])),
      errors: countBy(failed),
      duringFault: {
        requests: samples.filter((s) => s.start >= injectedAt && s.start < restoredAt).length,
        failed: failed.filter((s) => s.start >= injectedAt && s.start < restoredAt).length,
      },
      afterRepair: {
        requests: samples.filter((s) => s.start > clearedAt).length,
        failed: failed.filter((s) => s.start > clearedAt).length,
      },
      settings,
      durationMs: Date.now() - began,
    };
  } finally {
    if (cut) {
      for (const p of topo.proxies) {
        try {
          restore(topo, p, 'egress');
        } catch {
          // the lab may be gone already
        }
      }
    }
    if (!samples) await running.stop().catch(() => []);
  }
}

export const egressLossAll: Fault = {
  name: 'egress-loss-all',
  summary: "every proxy's way out through the NAT gateway is cut under load: none is withdrawn (fail open), the no-egress alarm goes off",
  run,
};
