import { describe, expect, it } from 'vitest';
import { architectureOf, buildPlan, loadConfigFile, normaliseAllowlist, type HubConfig } from '../../src/config';
import { planWith } from '../fixtures/configs';

describe('plan', () => {
  it('derives names, ports and subnet sizes from the example config', () => {
    const plan = buildPlan(loadConfigFile('examples/egresshub.yaml'));
    expect(plan.tenants.map((t) => [t.name, t.port, t.resourceConfigurationName])).toEqual([
      ['project-a', 3201, 'egresshub-project-a'],
      ['project-b', 3202, 'egresshub-project-b'],
    ]);
    // 10.0.0.0/16 split into 2 AZs x (public + private) = 4 subnets -> /18 each.
    expect(plan.hub.subnetPrefix).toBe(18);
    expect(plan.tenants[0]!.sharePrincipals).toEqual(['222222222222']);
    // project-b lists only the hub account: no RAM share.
    expect(plan.tenants[1]!.sharePrincipals).toEqual([]);
    expect(plan.spokes.map((s) => s.crossAccount)).toEqual([true, false]);
  });

  it('falls back to one shared configuration on port 3128 when no tenants are listed', () => {
    const plan = planWith();
    expect(plan.tenants).toHaveLength(1);
    expect(plan.tenants[0]).toMatchObject({ name: 'shared', port: 3128, implicit: true, allow: { any: true } });
    expect(plan.hub.cidr).toBe('10.0.0.0/16');
  });

  it.each([
    [
      'multi-az (the default)',
      {},
      { mode: 'multi-az', instanceType: 't4g.small', fixed: ['ProxyA:us-east-1a:0', 'ProxyB:us-east-1b:1'], natGateways: 1 },
    ],
    [
      'single',
      { proxy: { mode: 'single' } },
      { mode: 'single', instanceType: 't4g.small', fixed: ['ProxyA:us-east-1a:0'], natGateways: 1 },
    ],
    ['nlb', { proxy: { mode: 'nlb' }, natGateways: 'per-az' }, { mode: 'nlb', instanceType: 'c7g.large', fixed: [], natGateways: 2 }],
    [
      'public egress',
      { egress: 'public' },
      { mode: 'multi-az', instanceType: 't4g.small', fixed: ['ProxyA:us-east-1a:0', 'ProxyB:us-east-1b:1'], natGateways: 0 },
    ],
  ])('plans the fleet for %s', (_, extra, want) => {
    const plan = planWith([], extra as Partial<HubConfig>);
    const { proxy } = plan.hub;
    expect({
      mode: proxy.mode,
      instanceType: proxy.instanceType,
      fixed: proxy.fixed.map((f) => `${f.id}:${f.availabilityZone}:${f.azIndex}`),
      natGateways: plan.hub.natGateways,
    }).toEqual(want);
    // Each mode carries exactly its own fields.
    expect('failoverName' in proxy).toBe(want.mode === 'multi-az');
    expect('scaling' in proxy).toBe(want.mode === 'nlb');
  });

  it('names the multi-az failover record in a hub-private zone, and sizes the nlb group from the AZs', () => {
    const multi = buildPlan(loadConfigFile('examples/egresshub.yaml'));
    expect(multi.hub.proxy).toMatchObject({ mode: 'multi-az' });
    expect(multi.hub.proxy.mode === 'multi-az' && multi.hub.proxy.failoverName).toEqual({
      zone: 'egresshub-hub.egresshub.internal',
      name: 'proxy.egresshub-hub.egresshub.internal',
      ttlSeconds: 10,
    });
    const nlb = planWith([], {
      availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
      proxy: { mode: 'nlb', scaling: { targetCpuPercent: 40 } },
    });
    expect(nlb.hub.proxy.mode === 'nlb' && nlb.hub.proxy.scaling).toEqual({ min: 3, max: 6, targetCpuPercent: 40 });
  });

  it('normalises allowlists: case, trailing dots, duplicates and names covered by a wildcard', () => {
    expect(normaliseAllowlist(['API.GitHub.com.', '*.github.com', 'registry.npmjs.org', 'registry.npmjs.org', '*.api.github.com'])).toEqual(
      {
        any: false,
        exact: ['registry.npmjs.org'],
        suffixes: ['github.com'],
      },
    );
  });

  it.each([
    ['a wildcard covers its own name', ['example.com', '*.example.com'], [], ['example.com']],
    ['a wildcard covers a deeper wildcard', ['*.a.b.example.com', '*.example.com'], [], ['example.com']],
    ['a sibling is not covered', ['*.a.example.com', 'b.example.com'], ['b.example.com'], ['a.example.com']],
    ['a longer name is not a child', ['*.example.com', 'myexample.com'], ['myexample.com'], ['example.com']],
    ['duplicate wildcards stay once', ['*.x.org', '*.X.org.', 'y.x.org'], [], ['x.org']],
  ])('normalises allowlists: %s', (_title, allow, exact, suffixes) => {
    expect(normaliseAllowlist(allow)).toEqual({ any: false, exact, suffixes });
  });

  it('normalises 100,000 wildcard and exact entries in linear time (the pairwise check took minutes)', () => {
    const allow = Array.from({ length: 50_000 }, (_, i) => [
      `*.s${i}.example.com`,
      `www.s${i}.example.com`,
      `www.t${i}.example.org`,
    ]).flat();
    const started = Date.now();
    const a = normaliseAllowlist(allow);
    expect(a.any === false && [a.suffixes.length, a.exact.length]).toEqual([50_000, 50_000]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it.each([
    ['t4g.small', 'arm64'],
    ['m7gd.large', 'arm64'],
    ['c6gn.xlarge', 'arm64'],
    ['t3.micro', 'x86_64'],
    ['g5.xlarge', 'x86_64'],
    ['m6a.large', 'x86_64'],
  ])('knows %s runs %s', (type, arch) => {
    expect(architectureOf(type)).toBe(arch);
  });
});
