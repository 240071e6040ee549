// Squid SMP (`hub.proxy.workers: 2`) with real Squid: two lab proxies with two workers each run side by side on
// one host, each under its own service name, so their shared-memory segments and IPC sockets never collide; both
// serve the tenant, and `lab down` leaves none of their files behind.
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile } from '../../src/config';
import { squidPids } from '../../src/lab/fleet';
import { curlIn } from '../../src/lab/curl';
import { labDown, labUp } from '../../src/lab/lab';
import { labPaths } from '../../src/lab/state';
import { SQUID_IPC_DIR, squidServiceName } from '../../src/lab/topology';
import { HEALTH_PROBE } from '../../src/policy/squid-conf';
import { holdLabForThisFile } from '../support/lab-lock';

const FIXTURE = 'test/fixtures/lab-smp.yaml';
const plan = buildPlan(loadConfigFile(FIXTURE));

holdLabForThisFile();

const ipcFiles = (service: string) =>
  existsSync(SQUID_IPC_DIR) ? readdirSync(SQUID_IPC_DIR).filter((f) => f.startsWith(`${service}-`)) : [];

describe('Squid SMP in the lab (root, real Squid)', () => {
  it('runs two proxies with two workers each, apart, and both serve the tenant', async () => {
    expect(plan.hub.proxy.workers).toBe(2);
    const { topo } = await labUp(plan, FIXTURE, () => {});
    expect(topo.proxies).toHaveLength(2);
    const lt = topo.tenants[0]!;
    for (const proxy of topo.proxies) {
      const service = squidServiceName(proxy);
      // The master, two workers and the coordinator.
      expect(squidPids(proxy).length).toBeGreaterThanOrEqual(4);
      expect(readdirSync('/dev/shm').some((f) => f.startsWith(`${service}-`))).toBe(true);
      expect(ipcFiles(service)).toEqual(
        expect.arrayContaining([`${service}-coordinator.ipc`, `${service}-kid-1.ipc`, `${service}-kid-2.ipc`]),
      );
      // Its health probe: Squid's cache manager answers through the coordinator, so this needs the IPC to work.
      const probe = curlIn(proxy.ns, `http://${HEALTH_PROBE.source}:${lt.tenant.port}${HEALTH_PROBE.path}`, { body: true });
      expect({ proxy: proxy.id, code: probe.code }).toEqual({ proxy: proxy.id, code: '200' });
      expect(probe.body).toContain('Squid Object Cache');
    }
    // And the tenant through its endpoint, as in production.
    const r = curlIn(lt.spokeNs, 'https://www.example.net/', {
      proxy: `http://${lt.proxyHost}:${lt.tenant.port}`,
      caCert: labPaths().caCert,
    });
    expect(r.code).toBe('200');
    await labDown(() => {});
    for (const proxy of topo.proxies) {
      expect(ipcFiles(squidServiceName(proxy))).toEqual([]);
      expect(readdirSync('/dev/shm').filter((f) => f.startsWith(squidServiceName(proxy)))).toEqual([]);
    }
  });
});
