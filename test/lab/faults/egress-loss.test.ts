// lab fault egress-loss: the active proxy's route to the NAT gateway is cut under load. Squid still answers its
// health probe; the egress check withdraws the proxy (its peer's egress works) and no request started after the
// gateways switched fails; repaired, it rejoins. Bounded: at most 60 s and 30,000 requests of load.
import { describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile } from '../../../src/config';
import { setSupervisorSettings } from '../../../src/lab/fleet';
import { labUp } from '../../../src/lab/lab';
import { egressLoss } from '../../../src/lab/faults/egress-loss';
import { FAULTS } from '../../../src/lab/faults';
import { holdLabForThisFile } from '../../support/lab-lock';

const CONFIG = 'examples/egresshub.yaml';
const FAST = { intervalMs: 500, unhealthyThreshold: 2, healthyThreshold: 2 };
const quiet = () => {};
holdLabForThisFile();

describe('lab fault egress-loss (root, real Squid, two proxies)', () => {
  it('withdraws the proxy whose way out is cut, and no request started after that fails', async () => {
    const plan = buildPlan(loadConfigFile(CONFIG));
    const { topo } = await labUp(plan, CONFIG, quiet);
    setSupervisorSettings(topo, FAST);
    expect(FAULTS).toContain(egressLoss);
    const r = await egressLoss.run({ plan, configFile: CONFIG, step: quiet });
    console.log(JSON.stringify(r));
    expect(r.fault).toBe('egress-loss');
    expect(r.withdrawn).toEqual(['ProxyA']);
    expect(r.failedOverTo).toEqual(['ProxyC']);
    expect(r.reason).toBe('egress: no connection to sts.ap-northeast-1.amazonaws.com (203.0.113.10) port 443 within 3 s');
    // Packets vanish, so the check waits its full 3 s before it fails: detection is the failed rounds, each as long
    // as that wait, plus the gateways' swap.
    expect(r.detectMs).toBeGreaterThanOrEqual(2900);
    expect(r.detectMs).toBeLessThan((FAST.unhealthyThreshold + 1) * (FAST.intervalMs + 3000) + 5000);
    expect(r.requests).toBeGreaterThan(300);
    expect(r.failedAfterDetect).toBe(0);
    // What did fail had been taken by the cut-off proxy: in flight at the cut or started before the switch.
    expect(r.failed).toBeLessThanOrEqual((r.inFlightAtFault as number) + (r.startedBeforeDetect as number));
    expect((r.afterRejoin as { failed: number }).failed).toBe(0);
    expect(r.startedAfterDetect as number).toBeGreaterThan(0);
  });
});
