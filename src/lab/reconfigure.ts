// A policy change on the running lab, the way one proxy applies it: check the new squid.conf, apply its tenant
// limits, `squid -k reconfigure`, then its fair-share tree. `rollingReconfigure` (src/lab/rollout.ts) drains
// each proxy in turn around it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { EgressPlan } from '../config';
import { inNs, waitFor } from './sh';
import type { LabProxy, LabTopology } from './topology';
import { type Step, requireRunningLab } from './lab';
import { type LabSquidOverrides, labPaths, labSquidConf } from './state';
import { listensOn } from './daemons';
import { applyFairShare, applyTenantLimits, keepInertDelayPool } from './instance-scripts';

/**
 * Applies a changed policy to the running lab's proxies the way one proxy applies it: write the new squid.conf,
 * check it, `squid -k reconfigure` (the master process stays, open connections are kept), every proxy at once.
 * Only Squid changes: a tenant that is new in `plan` gets its listener but no spoke until `lab up`. Returns how
 * long the proxies took to listen again on every port of the new plan. With two or more proxies,
 * `rollingReconfigure` (src/lab/rollout.ts) drains each in turn instead, so no new connection is refused.
 */
export async function labReconfigure(plan: EgressPlan, step: Step): Promise<{ ms: number; ports: number[] }> {
  const topo = requireRunningLab();
  const started = Date.now();
  await Promise.all(topo.proxies.map((x) => reconfigureProxy(plan, topo, x, step)));
  return { ms: Date.now() - started, ports: plan.tenants.map((t) => t.port) };
}

/**
 * `squid -k parse` then `squid -k reconfigure` on one proxy; resolves when Squid has reopened every listener of
 * the new plan (cache.log says "Accepting … connections" once per port after the reconfigure). Returns the time
 * from the reconfigure to the last listener.
 */
export async function reconfigureProxy(
  plan: EgressPlan,
  topo: LabTopology,
  proxy: LabProxy,
  step: Step,
  overrides: LabSquidOverrides = {},
): Promise<number> {
  const p = labPaths(topo.stateDir).proxy(proxy.index);
  const conf = labSquidConf(plan, topo.stateDir, proxy.index, overrides);
  const candidate = `${p.squidConf}.next`;
  writeFileSync(candidate, conf);
  keepInertDelayPool(p.squidConf, candidate);
  step(`${proxy.id}: checking the new squid.conf (squid -k parse)`);
  inNs(proxy.ns, ['squid', '-k', 'parse', '-f', candidate]);
  applyTenantLimits(proxy, candidate, true);
  writeFileSync(p.squidConf, readFileSync(candidate));
  applyTenantLimits(proxy, p.squidConf);
  const ports = plan.tenants.map((t) => t.port);
  const accepting = () =>
    existsSync(p.cacheLog) ? (readFileSync(p.cacheLog, 'utf8').match(/Accepting .* connections at/g)?.length ?? 0) : 0;
  const before = accepting();
  const started = Date.now();
  step(`${proxy.id}: squid -k reconfigure (same master process, open connections kept)`);
  inNs(proxy.ns, ['squid', '-k', 'reconfigure', '-f', p.squidConf]);
  const ready = () => accepting() >= before + ports.length && listensOn(proxy, ports);
  if (!(await waitFor(ready, 20_000, 20))) {
    throw new Error(`squid (${proxy.id}) did not listen on ${ports.join(', ')} within 20 s after reconfigure; see ${p.cacheLog}`);
  }
  applyFairShare(proxy, p.squidConf);
  return Date.now() - started;
}
