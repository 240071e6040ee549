// Replacing the proxies (new image, instance type or boot script) under a bounded load, the way the hub's groups
// do it: multi-az and nlb one proxy at a time, drained first, with no failed request; single with the one
// proxy gone until its replacement listens: an interruption, measured (lab part only; docs/ha.md adds the
// instance boot). Bounded: at most 30 s and 30,000 requests per load.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlan, loadConfigFile } from '../../src/config';
import { setSupervisorSettings } from '../../src/lab/fleet';
import { labDown, labUp } from '../../src/lab/lab';
import { labReplace } from '../../src/lab/replace';
import { holdLabForThisFile } from '../support/lab-lock';
import { exampleConfig } from '../support/stack';

const quiet = () => {};
const FAST = { intervalMs: 500, unhealthyThreshold: 2, healthyThreshold: 2 };
const LOAD = { clients: 12, pauseMs: 20, maxSeconds: 30, maxRequests: 30_000 };
holdLabForThisFile();

async function replaceIn(mode: 'single' | 'multi-az' | 'nlb') {
  const config = exampleConfig() as { hub: { proxy: Record<string, unknown> } };
  config.hub.proxy = { mode };
  const file = join(mkdtempSync(join(tmpdir(), 'egresshub-replace-')), `${mode}.yaml`);
  writeFileSync(file, stringify(config));
  const plan = buildPlan(loadConfigFile(file));
  try {
    const { topo } = await labUp(plan, file, quiet);
    setSupervisorSettings(topo, FAST);
    const r = await labReplace(LOAD, quiet);
    console.log(`replace ${mode}: ${JSON.stringify(r)}`);
    return r;
  } finally {
    await labDown(quiet);
  }
}

describe('proxy replacement under load (root, real Squid)', () => {
  it.each(['multi-az', 'nlb'] as const)('%s: replaces every proxy one at a time without a failed request', async (mode) => {
    const r = await replaceIn(mode);
    expect(r.mode).toBe('rolling');
    expect(r.steps.map((s) => s.proxy)).toEqual(['ProxyA', 'ProxyC']);
    expect(r.load.requests).toBeGreaterThan(500);
    expect(r.load.failed).toBe(0);
    for (const s of r.steps) {
      expect(s.requests, `${s.proxy} carried no load while replaced`).toBeGreaterThan(50);
      expect(s.drainMs).toBeDefined();
    }
  });

  it('single: the tenant is interrupted from the termination until the replacement listens, then recovers', async () => {
    const r = await replaceIn('single');
    expect(r.mode).toBe('single');
    expect(r.steps).toHaveLength(1);
    // Requests were refused while no proxy existed, and the interruption is bounded by the replacement's start.
    expect(r.load.failed).toBeGreaterThan(0);
    expect(Object.keys(r.load.errors).every((e) => ['ECONNREFUSED', 'ECONNRESET'].includes(e))).toBe(true);
    expect(r.interruptionMs).toBeDefined();
    expect(r.interruptionMs!).toBeLessThan(r.steps[0]!.replaceMs + 3000);
    expect(r.steps[0]!.requests).toBeGreaterThan(r.steps[0]!.failed);
  });
});
