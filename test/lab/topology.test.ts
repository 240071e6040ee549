import { describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile, UsageError } from '../../src/config';
import { casesFor } from '../../src/lab/matrix';
import { planWith } from '../fixtures/configs';
import { planOf, variantConfig } from '../support/stack';
import { buildTopology, INTERNET, LAB_PREFIX, MAX_LAB_TENANTS, namespacesOf } from '../../src/lab/topology';

const example = buildPlan(loadConfigFile('examples/egresshub.yaml'));
const allowlist = buildPlan(loadConfigFile('examples/lab-allowlist.yaml'));

describe('lab topology', () => {
  it('gives every spoke the same CIDR, client and endpoint address, but its own gateway address in the hub', () => {
    const topo = buildTopology(example);
    expect(new Set(topo.tenants.map((t) => `${t.vpcCidr} ${t.clientIp} ${t.endpointIp}`))).toEqual(
      new Set(['10.0.0.0/16 10.0.0.20 10.0.0.200']),
    );
    expect(topo.tenants.map((t) => t.gatewayIp)).toEqual(['10.0.0.100', '10.0.0.101']);
    expect(topo.squidIp).toBe('10.0.0.10');
  });

  it('names every namespace with the lab prefix and within the 15-character interface limit', () => {
    const names = [...namespacesOf(buildTopology(example)), ...buildTopology(example).tenants.map((t) => t.hubIf)];
    expect(names.every((n) => n.length <= 15)).toBe(true);
    expect(namespacesOf(buildTopology(example)).every((n) => n.startsWith(LAB_PREFIX))).toBe(true);
  });

  it('serves every allowlisted name and a rebinding twin from documentation-range addresses', () => {
    const topo = buildTopology(allowlist);
    const names = topo.dns.map((r) => r.name);
    for (const n of ['example.com', 'downloads.example.org', 'mirror.example.org', 'api.example.net', 'rebind.example.com'])
      expect(names).toContain(n);
    expect(topo.dns.filter((r) => !r.name.startsWith('rebind.')).every((r) => r.ip === INTERNET.webIp)).toBe(true);
    expect(topo.httpsPorts).toEqual([443, 8443]);
    expect(topo.httpPorts).toEqual([80, 8080]);
  });

  it('builds a case for every item of the issue, each run by at least one client', () => {
    const topo = buildTopology(example);
    const ids = casesFor(topo, topo.tenants[0]!).map((c) => c.id);
    for (const id of [
      'http',
      'https',
      'wildcard',
      'not-listed',
      'imds',
      'hub-proxy',
      'private-ip',
      'ip-decimal',
      'ip-hex',
      'ip-ipv6-loopback',
      'rebind',
      'connect-22',
      'port-of-project-b',
      'endpoint-22',
      'proxy-direct',
      'cache-manager',
      'scheme-ftp',
    ]) {
      expect(ids).toContain(id);
    }
    for (const c of casesFor(topo, topo.tenants[1]!)) expect(Boolean(c.curl || c.fetch || c.raw), c.id).toBe(true);
  });

  it('runs one proxy namespace per fixed proxy of the plan, in failover order, and two or more for nlb', () => {
    const modes = (mode: string) => {
      const topo = buildTopology(planOf(variantConfig(mode, 'nat')));
      return { routing: topo.routing, proxies: topo.proxies.map((x) => `${x.id} ${x.ns} ${x.ip} ${x.hubIf}`) };
    };
    expect(modes('multi-az')).toEqual({
      routing: 'failover',
      proxies: ['ProxyA eh-px-a 10.0.0.10 hub-px-a', 'ProxyC eh-px-c 10.0.0.11 hub-px-c'],
    });
    expect(modes('single')).toEqual({ routing: 'failover', proxies: ['ProxyA eh-px-a 10.0.0.10 hub-px-a'] });
    expect(modes('nlb')).toEqual({
      routing: 'spread',
      proxies: ['ProxyA eh-px-a 10.0.0.10 hub-px-a', 'ProxyC eh-px-c 10.0.0.11 hub-px-c'],
    });
    expect(buildTopology(example).squidIp).toBe('10.0.0.10');
    expect(namespacesOf(buildTopology(example))).toContain('eh-px-c');
  });

  it('fails when the config has more tenants than the lab can address', () => {
    const plan = planWith(Array.from({ length: MAX_LAB_TENANTS + 1 }, (_, i) => ({ name: `t${i}`, port: 5000 + i, allow: '*' })));
    expect(() => buildTopology(plan)).toThrow(UsageError);
    expect(() => buildTopology(plan)).toThrow(`the lab emulates at most ${MAX_LAB_TENANTS} tenants (got ${MAX_LAB_TENANTS + 1})`);
  });
});
