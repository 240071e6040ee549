// Fair share with real Squid, nftables and HTB: the proxy's tree (100 Mbit/s here, below what the lab's Squid relays,
// so the tree is the bottleneck) gives a tenant alone nearly all of it, splits two busy tenants evenly whatever
// their connection counts, and by weight (3:1) when the weights differ. Each tenant's bytes go through its own class.
// Day 2: a proxy running yesterday's delay pool takes today's policy by reconfigure without stalling the download
// that started under the pool (Squid 5 freezes such transfers when every pool goes away).
import { describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile } from '../../src/config';
import { readFileSync, writeFileSync } from 'node:fs';
import { curlIn } from '../../src/lab/curl';
import { classBytes, hasTree, measureShares } from '../../src/lab/fair';
import { labUp } from '../../src/lab/lab';
import { reconfigureProxy } from '../../src/lab/reconfigure';
import { labPaths, labSquidConf } from '../../src/lab/state';
import { inNs, sleep, spawnInNs } from '../../src/lab/sh';
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

  it('Day 2: a download under a delay pool keeps going through the reconfigure to fair share; new ones get the line', async () => {
    const { topo } = await labUp(plan, FIXTURE, () => {});
    const proxy = topo.proxies[0]!;
    const alpha = topo.tenants.find((t) => t.tenant.name === 'alpha')!;
    const files = labPaths(topo.stateDir).proxy(proxy.index);
    // Yesterday's policy: alpha held to 1 MB/s (8 Mbit/s) by a delay pool, as the previous release rendered it.
    const pool = [
      'delay_pools 1',
      'delay_class 1 1',
      'delay_parameters 1 1000000/1000000',
      'delay_access 1 allow tenant_alpha',
      'delay_access 1 deny all',
    ];
    writeFileSync(files.squidConf, `${labSquidConf(plan, topo.stateDir, proxy.index)}\n${pool.join('\n')}\n`);
    inNs(proxy.ns, ['squid', '-k', 'reconfigure', '-f', files.squidConf]);
    await sleep(2000);

    const ca = labPaths(topo.stateDir).caCert;
    const seconds = 12;
    const download = spawnInNs(
      alpha.spokeNs,
      [
        'curl',
        '-s',
        '-o',
        '/dev/null',
        '--max-time',
        String(seconds),
        '--cacert',
        ca,
        '-x',
        `http://${alpha.proxyHost}:${alpha.tenant.port}`,
        '-w',
        '%{size_download}',
        'https://www.example.net/bytes/200000000',
      ],
      { timeoutMs: (seconds + 10) * 1000 },
    );
    download.stdin.end();
    let out = '';
    download.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<void>((r) => download.on('close', () => r()));
    await sleep(4000);
    await reconfigureProxy(plan, topo, proxy, () => {});
    // The running policy kept one pool that limits nobody.
    const running = readFileSync(files.squidConf, 'utf8').split('\n');
    expect(running.filter((l) => l.startsWith('delay_'))).toEqual([
      'delay_pools 1',
      'delay_class 1 1',
      'delay_parameters 1 -1/-1',
      'delay_access 1 deny all',
    ]);
    await done;
    // At its old 1 MB/s for the whole 12 s: about 12 MB. A stall at the reconfigure would leave about 4 MB.
    expect(Number(out), `bytes the download got in ${seconds} s`).toBeGreaterThan(9_000_000);
    // A download started now is no longer held to the pool: 40 MB well under the 40 s the pool would take.
    const fresh = curlIn(alpha.spokeNs, 'https://www.example.net/bytes/40000000', {
      proxy: `http://${alpha.proxyHost}:${alpha.tenant.port}`,
      caCert: ca,
      maxTimeSeconds: 30,
    });
    expect([fresh.code, fresh.bytes]).toEqual(['200', 40_000_000]);
    expect(fresh.seconds).toBeLessThan(10);
  });
});
