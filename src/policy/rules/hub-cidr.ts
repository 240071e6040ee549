// hub-cidr: destinations inside the hub's own CIDR (the proxies, gateway ENIs, endpoints), on the resolved address.
import { httpAccessRule } from './case';
import { denyLines, type PolicyRule } from './rule';

export const hubCidr: PolicyRule = {
  id: 'hub-cidr',
  kind: 'address',
  enforcedBy: 'http_access',
  auditable: false,
  decision: 'denied',
  logHost: 'internal',
  render: {
    // dst matches the address Squid will connect to, so a public name resolving to a hub address is caught.
    'acl.address': ({ plan }) => [`acl hub_cidr dst ${plan.hub.cidr}`],
    'deny.address': () => denyLines({ on: 'both', acls: 'hub_cidr', rule: 'hub-cidr' }),
  },
  cases: ({ tenant: t, squidIp }) => [
    {
      id: 'hub-proxy',
      title: "the hub proxy's own address",
      request: `GET http://${squidIp}:${t.port}/`,
      expected: 'denied',
      rule: httpAccessRule(t, { method: 'GET', host: squidIp, port: t.port, to: 'hub' }),
      curl: { url: `http://${squidIp}:${t.port}/`, proxy: 'endpoint' },
    },
    {
      id: 'hub-address',
      title: 'a hub address on a web port',
      request: `GET http://${squidIp}/ + CONNECT :443`,
      expected: 'denied',
      rule: httpAccessRule(t, { method: 'GET', host: squidIp, port: 80, to: 'hub' }),
      curl: { url: `http://${squidIp}/`, proxy: 'endpoint' },
      raw: { line: `CONNECT ${squidIp}:443` },
    },
  ],
  doc: { refuses: 'destinations inside the hub CIDR (`dst`)', notes: 'the proxies, gateway ENIs, endpoints' },
};
