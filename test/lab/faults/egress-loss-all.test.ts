// lab fault egress-loss-all: every proxy's route to the NAT gateway is cut under load. No proxy is better off, so
// none is withdrawn (fail open) and the no-egress alarm goes off; repaired, it clears and requests succeed again.
// Bounded: at most 60 s and 30,000 requests of load.
import { describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile } from '../../../src/config';
import { setSupervisorSettings } from '../../../src/lab/fleet';
import { labUp } from '../../../src/lab/lab';
import { egressLossAll } from '../../../src/lab/faults/egress-loss-all';
import { FAULTS } from '../../../src/lab/faults';
import { holdLabForThisFile } from '../../support/lab-lock';

const CONFIG = 'examples/egresshub.yaml';
const FAST = { intervalMs: 500, unhealthyThreshold: 2, healthyThreshold: 2 };
const quiet = () => {};
holdLabForThisFile();

describe('lab fault egress-loss-all (root, real Squid, two proxies)', () => {
  it('withdraws nothing, raises the no-egress alarm, and clears it once repaired', async () => {
    const plan = buildPlan(loadConfigFile(CONFIG));
    const { topo } = await labUp(plan, CONFIG, quiet);
    setSupervisorSettings(topo, FAST);
    expect(FAULTS).toContain(egressLossAll);
    const r = await egressLossAll.run({ plan, configFile: CONFIG, step: quiet });
    console.log(JSON.stringify(r));
    expect(r.withdrawn).toEqual([]);
    expect(r.activeDuring).toEqual(['ProxyA']);
    expect(r.alarm).toBe('ALARM');
    for (const reason of Object.values(r.reasons as Record<string, string>))
      expect(reason).toMatch(/^ok, failing open \(no proxy has egress: egress: /);
    expect(r.detectMs).toBeLessThan((FAST.unhealthyThreshold + 2) * FAST.intervalMs + 8000);
    expect(r.alarmClearedMs as number).toBeLessThan((FAST.healthyThreshold + 2) * FAST.intervalMs + 8000);
    // Tenants did see the outage (nowhere had a way out: requests after the alarm fail too), none after the repair.
    expect((r.duringFault as { failed: number }).failed).toBeGreaterThan(0);
    expect(r.failedAfterDetect).toBeGreaterThan(0);
    expect((r.afterRepair as { requests: number }).requests).toBeGreaterThan(50);
    expect((r.afterRepair as { failed: number }).failed).toBe(0);
  });
});
