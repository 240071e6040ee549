// Tenant limits in the plan: defaults sized from the proxy instance type, a hub-wide override, a tenant's own, and
// what squid.conf and its nftables lines make of them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { readFileSync } from 'node:fs';
import { buildPlan, parseConfig } from '../../src/config';
import { defaultTenantBandwidthMbps, defaultTenantConnections, INSTANCE_FACTS } from '../../src/config/instance-types';
import { APPLY_TENANT_LIMITS } from '../../src/hub/user-data';
import { NFT_LINE_PREFIX, renderSquidConf, tenantLimitsRuleset } from '../../src/policy/squid-conf';

const EXAMPLE = readFileSync('examples/egresshub.yaml', 'utf8');
const planWith = (edits: [(string | number)[], unknown][]) => {
  const doc = parseDocument(EXAMPLE);
  for (const [path, v] of edits) doc.setIn(path, v);
  return buildPlan(parseConfig(doc.toString(), 'egresshub.yaml'));
};

describe('tenant limits', () => {
  it.each([
    // instance type → connections (a quarter of 32,768, at most 4 per MiB), bandwidth (half the baseline)
    ['t4g.small', 8192, 64],
    ['t4g.micro', 4096, 32],
    ['t4g.nano', 2048, 16],
    ['c7g.large', 8192, 469],
    ['t3.medium', 8192, 128],
  ] as const)('defaults on %s: %i connections, %i Mbit/s', (type, connections, mbps) => {
    expect(INSTANCE_FACTS[type]).toBeDefined();
    expect([defaultTenantConnections(type), defaultTenantBandwidthMbps(type)]).toEqual([connections, mbps]);
    const plan = planWith([[['hub', 'proxy', 'instanceType'], type]]);
    for (const t of plan.tenants) expect(t.limits).toEqual({ connections, bandwidthMbps: mbps });
  });

  it('an instance type without figures gets the descriptor-based connections and no bandwidth cap', () => {
    const plan = planWith([[['hub', 'proxy', 'instanceType'], 'r8g.large']]);
    expect(plan.tenants[0]!.limits).toEqual({ connections: 8192 });
    expect(renderSquidConf(plan)).not.toContain('delay_pools');
  });

  it("hub.tenantLimits applies to every tenant; a tenant's own limits win", () => {
    const plan = planWith([
      [['hub', 'tenantLimits'], { connections: 1000, bandwidthMbps: 50 }],
      [['tenants', 1, 'limits'], { connections: 10 }],
    ]);
    expect(plan.tenants.map((t) => [t.name, t.limits])).toEqual([
      ['project-a', { connections: 1000, bandwidthMbps: 50 }],
      ['project-b', { connections: 10, bandwidthMbps: 50 }],
    ]);
  });

  it('squid.conf: a class-1 delay pool per capped tenant at its rate in bytes/s, each for its own port only', () => {
    const plan = planWith([[['tenants', 1, 'limits'], { bandwidthMbps: 8 }]]);
    const lines = renderSquidConf(plan).split('\n');
    expect(lines.filter((l) => l.startsWith('delay_'))).toEqual([
      'delay_pools 2',
      'delay_class 1 1',
      'delay_parameters 1 8000000/8000000',
      'delay_access 1 allow tenant_project-a',
      'delay_access 1 deny all',
      'delay_class 2 1',
      'delay_parameters 2 1000000/1000000',
      'delay_access 2 allow tenant_project-b',
      'delay_access 2 deny all',
    ]);
  });

  it('squid.conf carries the nftables script: one verdict map over the ports, a chain per tenant at its limit', () => {
    const plan = planWith([[['tenants', 0, 'limits'], { connections: 5 }]]);
    const nft = renderSquidConf(plan)
      .split('\n')
      .filter((l) => l.startsWith(NFT_LINE_PREFIX))
      .map((l) => l.slice(NFT_LINE_PREFIX.length));
    expect(nft).toEqual(tenantLimitsRuleset(plan));
    expect(nft).toContain('    elements = { 3201 : jump t_project_a, 3202 : jump t_project_b }');
    expect(nft).toContain('    ct state new tcp dport vmap @tenant_ports');
    expect(nft).toContain('    ct count over 5 counter name refused_project_a reject with tcp reset');
    expect(nft).toContain('    ct count over 8192 counter name refused_project_b reject with tcp reset');
    expect(nft.filter((l) => l.includes('log prefix "egresshub rule=tenant-connections tenant=project-a "'))).toHaveLength(1);
    // nftables itself accepts the script (check mode: nothing is loaded).
    const check = spawnSync('nft', ['-c', '-f', '-'], { input: nft.join('\n'), encoding: 'utf8' });
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it("SMP: `workers` in squid.conf, each worker's pool at 1/workers of the rate; no more workers than vCPUs", () => {
    const plan = planWith([
      [['hub', 'proxy', 'instanceType'], 'c7g.xlarge'],
      [['hub', 'proxy', 'workers'], 4],
      [['hub', 'tenantLimits'], { bandwidthMbps: 80 }],
    ]);
    const conf = renderSquidConf(plan).split('\n');
    expect(conf).toContain('workers 4');
    // 80 Mbit/s = 10,000,000 B/s, a quarter per worker.
    expect(conf).toContain('delay_parameters 1 2500000/2500000');
    expect(
      renderSquidConf(planWith([]))
        .split('\n')
        .filter((l) => l.startsWith('workers')),
    ).toEqual([]);
    expect(() => planWith([[['hub', 'proxy', 'workers'], 3]])).toThrow(
      /hub\.proxy\.workers: 3 Squid workers on t4g\.small \(2 vCPUs\) would share cores: use at most 2/,
    );
  });

  it('bandwidthMbps: 0 means no limit: no delay pool, so a Squid built without delay pools still runs the policy', () => {
    const plan = planWith([[['hub', 'tenantLimits'], { bandwidthMbps: 0 }]]);
    expect(plan.tenants.map((t) => t.limits.bandwidthMbps)).toEqual([undefined, undefined]);
    expect(renderSquidConf(plan)).not.toContain('delay_pools');
  });

  it('the boot and apply scripts refuse a bandwidth-limited policy on a Squid without delay pools, with the fix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eh-delay-'));
    try {
      const conf = join(dir, 'squid.conf');
      writeFileSync(conf, renderSquidConf(planWith([])));
      // A stand-in `squid -v` for a build configured without delay pools, first on PATH.
      writeFileSync(join(dir, 'squid'), '#!/bin/sh\necho "configure options: \'--with-openssl\'"\n', { mode: 0o755 });
      const run = (path: string) =>
        spawnSync('bash', ['-c', `${APPLY_TENANT_LIMITS}\nsquid_has_delay_pools "$1"`, 'check', conf], {
          encoding: 'utf8',
          env: { ...process.env, PATH: path },
        });
      const without = run(`${dir}:${process.env.PATH}`);
      expect(without.status).toBe(1);
      expect(without.stderr).toContain('set hub.tenantLimits.bandwidthMbps: 0');
      // Debian's squid-openssl has them.
      expect(run(process.env.PATH!).status).toBe(0);
      // A policy without pools passes on any build.
      writeFileSync(conf, renderSquidConf(planWith([[['hub', 'tenantLimits'], { bandwidthMbps: 0 }]])));
      expect(run(`${dir}:${process.env.PATH}`).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
