// Fair share with real Squid, nftables and HTB: the proxy's tree (100 Mbit/s here, below what the lab's Squid relays,
// so the tree is the bottleneck) gives a tenant alone nearly all of it, splits two busy tenants evenly whatever
// their connection counts, and by weight (3:1) when the weights differ. Each tenant's bytes go through its own class.
import { describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile } from '../../src/config';
import { classBytes, hasTree, measureShares } from '../../src/lab/fair';
import { labUp } from '../../src/lab/lab';
import type { LabTenant } from '../../src/lab/topology';
import { tenantClassId } from '../../src/policy/squid-conf';
import { holdLabForThisFile } from '../support/lab-lock';

const FIXTURE = 'test/fixtures/lab-fair.yaml';
const plan = buildPlan(loadConfigFile(FIXTURE));
const LINE = plan.hub.proxy.lineRateMbps!;
const SECONDS = 5;

holdLabForThisFile();

describe('fair share (root, real Squid, nftables and HTB)', () => {
  it('a tenant alone gets the line; busy tenants split it evenly, or 3:1 by weight, whatever their connections', async () => {
    const { topo } = await labUp(plan, FIXTURE, () => {});
    const proxy = topo.proxies[0]!;
    expect(hasTree(proxy), 'the fair-share tree is loaded on the proxy').toBe(true);
    const [alpha, beta, gamma] = ['alpha', 'beta', 'gamma'].map((n) => topo.tenants.find((t) => t.tenant.name === n)!) as [
      LabTenant,
      LabTenant,
      LabTenant,
    ];

    const alphaBefore = classBytes(proxy, tenantClassId(alpha.tenant));
    const alone = await measureShares(topo, [{ tenant: alpha, connections: 1 }], SECONDS);
    // Guaranteed a third of the line (weights 1 + 1 + 3 → 1/5) yet alone: it borrows the rest.
    expect(alone.failed).toBe(0);
    expect(alone.mbps[0], `alpha alone got ${alone.mbps[0]!.toFixed(1)} of ${LINE} Mbit/s`).toBeGreaterThan(0.8 * LINE);
    // Its bytes went through its own class (the nftables port → class map works on this kernel).
    expect(classBytes(proxy, tenantClassId(alpha.tenant)) - alphaBefore).toBeGreaterThan((SECONDS * LINE * 1e6 * 0.5) / 8);

    const even = await measureShares(
      topo,
      [
        { tenant: alpha, connections: 4 },
        { tenant: beta, connections: 1 },
      ],
      SECONDS,
    );
    expect(even.failed).toBe(0);
    const evenText = `alpha (4 connections) ${even.percent[0]!.toFixed(1)} %, beta (1) ${even.percent[1]!.toFixed(1)} %`;
    expect(Math.abs(even.percent[0]! - 50), evenText).toBeLessThanOrEqual(10);
    // The two together still fill the line: sharing costs no throughput.
    expect(even.mbps[0]! + even.mbps[1]!, evenText).toBeGreaterThan(0.8 * LINE);

    const weighted = await measureShares(
      topo,
      [
        { tenant: gamma, connections: 1 },
        { tenant: alpha, connections: 4 },
      ],
      SECONDS,
    );
    expect(weighted.failed).toBe(0);
    const weightedText = `gamma (weight 3, 1 connection) ${weighted.percent[0]!.toFixed(1)} %, alpha (weight 1, 4) ${weighted.percent[1]!.toFixed(1)} %`;
    expect(Math.abs(weighted.percent[0]! - 75), weightedText).toBeLessThanOrEqual(10);
  });
});
