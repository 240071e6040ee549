// lab fault dns-loss: the active proxy's resolver stops answering (its queries are dropped) under load. The egress
// check's lookup fails within 3 s, so the proxy is withdrawn while its peer resolves; no request started after the
// switch fails. Bounded: at most 60 s and 30,000 requests of load.
import { describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile } from '../../../src/config';
import { setSupervisorSettings } from '../../../src/lab/fleet';
import { labUp } from '../../../src/lab/lab';
import { dnsLoss } from '../../../src/lab/faults/dns-loss';
import { FAULTS } from '../../../src/lab/faults';
import { holdLabForThisFile } from '../../support/lab-lock';

const CONFIG = 'examples/egresshub.yaml';
const FAST = { intervalMs: 500, unhealthyThreshold: 2, healthyThreshold: 2 };
const quiet = () => {};
holdLabForThisFile();

describe('lab fault dns-loss (root, real Squid, two proxies)', () => {
  it('withdraws the proxy whose resolver is unreachable, and no request started after that fails', async () => {
    const plan = buildPlan(loadConfigFile(CONFIG));
    const { topo } = await labUp(plan, CONFIG, quiet);
    setSupervisorSettings(topo, FAST);
    expect(FAULTS).toContain(dnsLoss);
    const r = await dnsLoss.run({ plan, configFile: CONFIG, step: quiet });
    console.log(JSON.stringify(r));
    expect(r.withdrawn).toEqual(['ProxyA']);
    expect(r.failedOverTo).toEqual(['ProxyC']);
    expect(r.reason).toBe('egress: sts.ap-northeast-1.amazonaws.com did not resolve within 3 s (resolver unreachable or no answer)');
    // Packets vanish, so the check waits its full 3 s before it fails: detection is the failed rounds, each as long
    // as that wait, plus the gateways' swap.
    expect(r.detectMs).toBeGreaterThanOrEqual(2900);
    expect(r.detectMs).toBeLessThan((FAST.unhealthyThreshold + 1) * (FAST.intervalMs + 3000) + 5000);
    expect(r.requests).toBeGreaterThan(300);
    expect(r.failedAfterDetect).toBe(0);
    expect(r.failed).toBeLessThanOrEqual((r.inFlightAtFault as number) + (r.startedBeforeDetect as number));
    expect(r.startedAfterDetect as number).toBeGreaterThan(0);
  });
});
