// Tenant isolation with real Squid and nftables: a tenant held to 5 connections gets its 6th refused at once (a TCP
// reset, counted and logged by the proxy's nftables) while its neighbour connects as usual, and gets its capacity
// back when its connections close; a tenant with an 8 Mbit/s ceiling downloads at that rate while its neighbour does not.
import { describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile } from '../../src/config';
import { curlIn } from '../../src/lab/curl';
import { labUp } from '../../src/lab/lab';
import { labPaths } from '../../src/lab/state';
import { inNs, spawnInNs, waitFor } from '../../src/lab/sh';
import type { LabTenant, LabTopology } from '../../src/lab/topology';
import { TENANT_LIMITS_TABLE } from '../../src/policy/squid-conf';
import { holdLabForThisFile } from '../support/lab-lock';

const FIXTURE = 'test/fixtures/lab-limits.yaml';
const plan = buildPlan(loadConfigFile(FIXTURE));

holdLabForThisFile();

const fetch = (lt: LabTenant, path: string, maxTimeSeconds = 20) =>
  curlIn(lt.spokeNs, `https://www.example.net${path}`, {
    proxy: `http://${lt.proxyHost}:${lt.tenant.port}`,
    caCert: labPaths().caCert,
    maxTimeSeconds,
  });

/** Opens `n` TCP connections to the tenant's proxy port from its spoke and holds them (bounded: 30 s at most). */
async function holdConnections(lt: LabTenant, n: number): Promise<() => void> {
  const script = `for i in $(seq ${n}); do exec {fd}<>/dev/tcp/${lt.endpointIp}/${lt.tenant.port} || exit 1; done; echo held; sleep 30`;
  const child = spawnInNs(lt.spokeNs, ['bash', '-c', script], { timeoutMs: 40_000 });
  child.stdin.end();
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  expect(await waitFor(() => out.includes('held'), 10_000, 50)).toBe(true);
  return () => child.kill('SIGKILL');
}

function refusedCount(topo: LabTopology, tenant: string): number {
  const r = inNs(topo.proxies[0]!.ns, ['nft', 'list', 'counter', 'inet', TENANT_LIMITS_TABLE, `refused_${tenant}`]);
  return Number(/packets (\d+)/.exec(r.stdout)?.[1] ?? Number.NaN);
}

describe('tenant limits (root, real Squid and nftables)', () => {
  it('refuses a tenant its 6th connection, not its neighbour, and caps its bandwidth', async () => {
    const { topo } = await labUp(plan, FIXTURE, () => {});
    const [noisy, quiet] = ['noisy', 'quiet'].map((n) => topo.tenants.find((t) => t.tenant.name === n)!) as [LabTenant, LabTenant];
    expect(fetch(noisy, '/').code).toBe('200');
    expect(refusedCount(topo, 'noisy')).toBe(0);

    const release = await holdConnections(noisy, 5);
    try {
      const refused = fetch(noisy, '/');
      // The reset arrives at the TCP handshake: curl cannot connect (7, where a dropped SYN would time out: 28) and
      // never sees a proxy answer.
      expect({ exit: refused.exit, connect: refused.connect, code: refused.code }).toEqual({ exit: 7, connect: '000', code: '000' });
      expect(refusedCount(topo, 'noisy')).toBeGreaterThanOrEqual(1);
      // The neighbour is untouched, and its own counter stays at zero.
      expect(fetch(quiet, '/').code).toBe('200');
      expect(refusedCount(topo, 'quiet')).toBe(0);
    } finally {
      release();
    }
    // Closed connections leave the count: the tenant connects again.
    expect(await waitFor(() => fetch(noisy, '/').code === '200', 10_000, 200)).toBe(true);

    // 4 MB at 8 Mbit/s (1 MB/s, the ceiling of its class in the fair-share tree): about 4 s. The neighbour has no
    // ceiling: alone on the proxy it may use the whole line.
    const slow = fetch(noisy, `/bytes/${4_000_000}`);
    const fast = fetch(quiet, `/bytes/${4_000_000}`);
    expect([slow.code, slow.bytes, fast.code, fast.bytes]).toEqual(['200', 4_000_000, '200', 4_000_000]);
    // The cap's own floor (a busy machine only adds to it), and the neighbour far from it: relative, not a window.
    expect(slow.seconds).toBeGreaterThan(2.5);
    expect(fast.seconds).toBeLessThan(slow.seconds / 2);
  });
});
