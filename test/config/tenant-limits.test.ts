// Tenant limits in the plan: defaults sized from the proxy instance type, a hub-wide override, a tenant's own, and
// what squid.conf makes of them: its nftables lines (connections, classification) and its tc lines (the fair-share
// tree); and the apply document's shell functions that load the tree and keep a delay pool through an upgrade.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { readFileSync } from 'node:fs';
import { buildPlan, parseConfig } from '../../src/config';
import { defaultLineRateMbps, defaultTenantConnections, INSTANCE_FACTS } from '../../src/config/instance-types';
import { APPLY_FAIR_SHARE, APPLY_TENANT_LIMITS } from '../../src/hub/user-data';
import { fairShareTree, NFT_LINE_PREFIX, renderSquidConf, TC_LINE_PREFIX, tenantLimitsRuleset } from '../../src/policy/squid-conf';

const EXAMPLE = readFileSync('examples/egresshub.yaml', 'utf8');
const planWith = (edits: [(string | number)[], unknown][]) => {
  const doc = parseDocument(EXAMPLE);
  for (const [path, v] of edits) doc.setIn(path, v);
  return buildPlan(parseConfig(doc.toString(), 'egresshub.yaml'));
};

describe('tenant limits', () => {
  it.each([
    // instance type → connections (a quarter of 32,768, at most 4 per MiB), fair-share line (95 % of the burst)
    ['t4g.small', 8192, 4750],
    ['t4g.micro', 4096, 4750],
    ['t4g.nano', 2048, 4750],
    ['c7g.large', 8192, 11875],
    ['c7g.2xlarge', 8192, 14250],
  ] as const)('defaults on %s: %i connections, weight 1, no ceiling, a %i Mbit/s line', (type, connections, line) => {
    expect(INSTANCE_FACTS[type]).toBeDefined();
    expect([defaultTenantConnections(type), defaultLineRateMbps(type)]).toEqual([connections, line]);
    const plan = planWith([[['hub', 'proxy', 'instanceType'], type]]);
    for (const t of plan.tenants) expect(t.limits).toEqual({ connections, weight: 1 });
    expect(plan.hub.proxy.lineRateMbps).toBe(line);
  });

  it('an instance type without figures gets the descriptor-based connections and no fair-share tree', () => {
    const plan = planWith([[['hub', 'proxy', 'instanceType'], 'r8g.large']]);
    expect(plan.tenants[0]!.limits).toEqual({ connections: 8192, weight: 1 });
    expect(plan.hub.proxy.lineRateMbps).toBeUndefined();
    const conf = renderSquidConf(plan);
    expect(conf).not.toContain(TC_LINE_PREFIX);
    expect(conf).not.toContain('meta priority');
    expect(conf).toContain('# fair share: off');
    // ... unless the user says what the instance can send.
    expect(
      planWith([[['hub', 'proxy'], { mode: 'multi-az', instanceType: 'r8g.large', lineRateMbps: 11000 }]]).hub.proxy.lineRateMbps,
    ).toBe(11000);
  });

  it('a ceiling without a tree to enforce it is refused, naming the field and the fix', () => {
    expect(() =>
      planWith([
        [['hub', 'proxy'], { mode: 'multi-az', lineRateMbps: 0 }],
        [['tenants', 1, 'limits'], { bandwidthMbps: 50 }],
      ]),
    ).toThrow(
      /tenants\[1\]\.limits\.bandwidthMbps: a bandwidth ceiling is enforced by the fair-share tree, which hub\.proxy\.lineRateMbps: 0 turns off/,
    );
    expect(() =>
      planWith([
        [['hub', 'proxy'], { mode: 'multi-az', instanceType: 'r8g.large' }],
        [['hub', 'tenantLimits'], { bandwidthMbps: 50 }],
      ]),
    ).toThrow(/hub\.tenantLimits\.bandwidthMbps: .*does not know for r8g\.large: set hub\.proxy\.lineRateMbps/);
    expect(() => planWith([[['tenants', 0, 'limits'], { weight: 0 }]])).toThrow(
      /tenants\[0\]\.limits\.weight: weight is a whole number from 1 to 10/,
    );
    expect(() => planWith([[['tenants', 0, 'limits'], { weight: 1.5 }]])).toThrow(/tenants\[0\]\.limits\.weight: expected an int/);
  });

  it("hub.tenantLimits applies to every tenant; a tenant's own limits win", () => {
    const plan = planWith([
      [['hub', 'tenantLimits'], { connections: 1000, bandwidthMbps: 50 }],
      [['tenants', 1, 'limits'], { connections: 10, weight: 3 }],
    ]);
    expect(plan.tenants.map((t) => [t.name, t.limits])).toEqual([
      ['project-a', { connections: 1000, weight: 1, bandwidthMbps: 50 }],
      ['project-b', { connections: 10, weight: 3, bandwidthMbps: 50 }],
    ]);
  });

  it('squid.conf: no delay pools; the fair-share tree as tc lines, each tenant guaranteed its weighted share and free to borrow the line', () => {
    const plan = planWith([
      [['hub', 'proxy'], { mode: 'multi-az', lineRateMbps: 1000 }],
      [['tenants', 0, 'limits'], { weight: 3 }],
      [['tenants', 1, 'limits'], { bandwidthMbps: 8 }],
    ]);
    const lines = renderSquidConf(plan).split('\n');
    expect(lines.filter((l) => l.startsWith('delay_'))).toEqual([]);
    const tc = lines.filter((l) => l.startsWith(TC_LINE_PREFIX)).map((l) => l.slice(TC_LINE_PREFIX.length));
    expect(tc).toEqual(fairShareTree(plan));
    // 1,000 Mbit/s line; 50 for everything else; 950 split 3:1 as guarantees. project-b's ceiling caps both.
    expect(tc.filter((l) => l.startsWith('class add'))).toEqual([
      'class add dev @DEV@ parent 1: classid 1:1 htb rate 1000000kbit ceil 1000000kbit burst 250000b cburst 250000b quantum 60000',
      'class add dev @DEV@ parent 1:1 classid 1:2 htb rate 50000kbit ceil 1000000kbit burst 15140b cburst 250000b quantum 60000',
      'class add dev @DEV@ parent 1:1 classid 1:c81 htb rate 712500kbit ceil 1000000kbit burst 178125b cburst 250000b quantum 180000',
      'class add dev @DEV@ parent 1:1 classid 1:c82 htb rate 8000kbit ceil 8000kbit burst 15140b cburst 15140b quantum 60000',
    ]);
    expect(tc).toContain('qdisc add dev @DEV@ root handle 1: htb default 2');
    // fq_codel where the kernel has it, pfifo where not: the first to load wins.
    expect(tc.filter((l) => l.includes('parent 1:c81 '))).toEqual([
      'qdisc add dev @DEV@ parent 1:c81 handle c81: fq_codel',
      'qdisc add dev @DEV@ parent 1:c81 handle c81: pfifo limit 1000',
    ]);
    expect(lines).toContain('# ceilings (Mbit/s per proxy): project-b 8');
  });

  it('squid.conf carries the nftables script: one verdict map over the ports, a chain per tenant at its limit, the class map', () => {
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
    // Responses leave from the tenant's port: that port names the tenant's class.
    expect(nft).toContain('    elements = { 3201 : 1:c81, 3202 : 1:c82 }');
    expect(nft).toContain('    meta priority set tcp sport map @tenant_classes');
    // nftables itself accepts the script (check mode: nothing is loaded).
    const check = spawnSync('nft', ['-c', '-f', '-'], { input: nft.join('\n'), encoding: 'utf8' });
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
    // Fair sharing off: no class map.
    expect(tenantLimitsRuleset(planWith([[['hub', 'proxy'], { mode: 'multi-az', lineRateMbps: 0 }]])).join('\n')).not.toContain(
      'meta priority',
    );
  });

  it('SMP: `workers` in squid.conf; no more workers than vCPUs', () => {
    const plan = planWith([
      [['hub', 'proxy', 'instanceType'], 'c7g.xlarge'],
      [['hub', 'proxy', 'workers'], 4],
    ]);
    expect(renderSquidConf(plan).split('\n')).toContain('workers 4');
    expect(
      renderSquidConf(planWith([]))
        .split('\n')
        .filter((l) => l.startsWith('workers')),
    ).toEqual([]);
    expect(() => planWith([[['hub', 'proxy', 'workers'], 3]])).toThrow(
      /hub\.proxy\.workers: 3 Squid workers on t4g\.small \(2 vCPUs\) would share cores: use at most 2/,
    );
  });

  it('bandwidthMbps: 0 means no ceiling', () => {
    const plan = planWith([[['hub', 'tenantLimits'], { bandwidthMbps: 0 }]]);
    expect(plan.tenants.map((t) => t.limits.bandwidthMbps)).toEqual([undefined, undefined]);
    expect(renderSquidConf(plan)).not.toContain('# ceilings');
  });

  it("the boot script's delay-pool check still refuses pools on a Squid without them; a generated policy has none", () => {
    const dir = mkdtempSync(join(tmpdir(), 'eh-delay-'));
    try {
      const conf = join(dir, 'squid.conf');
      // A stand-in `squid -v` for a build configured without delay pools, first on PATH.
      writeFileSync(join(dir, 'squid'), '#!/bin/sh\necho "configure options: \'--with-openssl\'"\n', { mode: 0o755 });
      const run = () =>
        spawnSync('bash', ['-c', `${APPLY_TENANT_LIMITS}\nsquid_has_delay_pools "$1"`, 'check', conf], {
          encoding: 'utf8',
          env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
        });
      writeFileSync(conf, 'delay_pools 1\n');
      expect(run().status).toBe(1);
      writeFileSync(conf, renderSquidConf(planWith([[['tenants', 0, 'limits'], { bandwidthMbps: 8 }]])));
      expect(run().status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the apply document's fair-share functions", () => {
  const dir = mkdtempSync(join(tmpdir(), 'eh-fair-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sh = (script: string, path = process.env.PATH!) =>
    spawnSync('/bin/bash', ['-c', `set -euo pipefail\n${APPLY_FAIR_SHARE}\n${script}`], {
      encoding: 'utf8',
      cwd: dir,
      env: { ...process.env, PATH: path },
    });

  it('keep_inert_delay_pool: a candidate that drops every pool keeps one that limits nobody; otherwise nothing changes', () => {
    writeFileSync(join(dir, 'running'), 'delay_pools 2\ndelay_class 1 1\n');
    const candidate = renderSquidConf(planWith([]));
    writeFileSync(join(dir, 'candidate'), candidate);
    expect(sh('keep_inert_delay_pool running candidate').status).toBe(0);
    const kept = readFileSync(join(dir, 'candidate'), 'utf8');
    expect(kept.startsWith(candidate)).toBe(true);
    expect(
      kept
        .slice(candidate.length)
        .split('\n')
        .filter((l) => l.startsWith('delay_')),
    ).toEqual(['delay_pools 1', 'delay_class 1 1', 'delay_parameters 1 -1/-1', 'delay_access 1 deny all']);
    // Applied again (the next run: the running policy now has the inert pool) it gives the same file, so the
    // apply script finds the policy unchanged.
    writeFileSync(join(dir, 'running'), kept);
    writeFileSync(join(dir, 'candidate'), candidate);
    sh('keep_inert_delay_pool running candidate');
    expect(readFileSync(join(dir, 'candidate'), 'utf8')).toBe(kept);
    // A running policy without pools: the candidate is left alone.
    writeFileSync(join(dir, 'running'), candidate);
    sh('keep_inert_delay_pool running candidate');
    expect(readFileSync(join(dir, 'candidate'), 'utf8')).toBe(kept);
    writeFileSync(join(dir, 'candidate'), candidate);
    sh('keep_inert_delay_pool running candidate');
    expect(readFileSync(join(dir, 'candidate'), 'utf8')).toBe(candidate);
    // Squid accepts the inert pool without a diagnostic.
    writeFileSync(join(dir, 'parse.conf'), `http_port 127.0.0.1:39999\n${kept.slice(candidate.length)}`);
    const parse = spawnSync('squid', ['-k', 'parse', '-f', join(dir, 'parse.conf')], { encoding: 'utf8' });
    const diagnostics = `${parse.stdout}${parse.stderr}`.split('\n').filter((l) => !l.includes('Processing:') && /ERROR|FATAL/.test(l));
    expect({ status: parse.status, diagnostics }).toEqual({ status: 0, diagnostics: [] });
  });

  it('apply_fair_share fails open without tc, and returns 1 only when a ceiling then goes unenforced', () => {
    // A PATH with the tools the function uses, but no tc.
    const bin = join(dir, 'bin');
    spawnSync('mkdir', ['-p', bin]);
    for (const tool of ['grep', 'sed', 'awk', 'ip']) {
      const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      spawnSync('ln', ['-sf', found, join(bin, tool)]);
    }
    writeFileSync(join(dir, 'fair.conf'), renderSquidConf(planWith([])));
    const open = sh('LISTENER_IP=192.0.2.1 apply_fair_share fair.conf', bin);
    expect({ status: open.status, stderr: open.stderr.trim() }).toEqual({
      status: 0,
      stderr: 'egresshub: fair share not applied (no tc command, or no device for 192.0.2.1): tenants share this proxy per connection',
    });
    writeFileSync(join(dir, 'capped.conf'), renderSquidConf(planWith([[['tenants', 0, 'limits'], { bandwidthMbps: 8 }]])));
    expect(sh('LISTENER_IP=192.0.2.1 apply_fair_share capped.conf', bin).status).toBe(1);
  });
});
