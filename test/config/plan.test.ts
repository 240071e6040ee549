import { describe, expect, it } from 'vitest';
import { architectureOf, buildPlan, loadConfigFile, normaliseAllowlist, parseConfig } from '../../src/config';

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
    const plan = buildPlan(
      parseConfig('region: us-east-1\naccount: "111111111111"\nhub:\n  availabilityZones: [us-east-1a, us-east-1b]\n'),
    );
    expect(plan.tenants).toHaveLength(1);
    expect(plan.tenants[0]).toMatchObject({ name: 'shared', port: 3128, implicit: true, allow: { any: true } });
    expect(plan.hub.cidr).toBe('10.0.0.0/16');
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
