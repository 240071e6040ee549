// tenant-allow: the one allow for every tenant, after every deny; a port no tenant owns still falls through.
import { expectFor, httpAccessRule, viaBoth } from './case';
import { ruleAcl, type PolicyRule } from './rule';

export const tenantAllow: PolicyRule = {
  id: 'tenant-allow',
  kind: 'verdict',
  enforcedBy: 'http_access',
  auditable: false,
  decision: 'allowed',
  logHost: 'asked',
  render: {
    'access.final': () => [`http_access allow any_tenant ${ruleAcl('tenant-allow')}`],
  },
  cases: ({ tenant: t, allowedHost }) => {
    const tls = httpAccessRule(t, { method: 'CONNECT', host: allowedHost, port: 443, to: 'public' });
    return [
      {
        id: 'http',
        title: 'allowed name, plain HTTP',
        request: `GET http://${allowedHost}/`,
        expected: expectFor(t, allowedHost, t.httpPorts.includes(80)),
        rule: httpAccessRule(t, { method: 'GET', host: allowedHost, port: 80, to: 'public' }),
        curl: { url: `http://${allowedHost}/`, proxy: 'endpoint' },
      },
      {
        id: 'https',
        title: 'allowed name, HTTPS via CONNECT',
        request: `CONNECT ${allowedHost}:443`,
        expected: expectFor(t, allowedHost, t.connectPorts.includes(443)),
        rule: tls,
        ...viaBoth(`https://${allowedHost}/`),
      },
      {
        id: 'http2',
        title: 'HTTP/2 by ALPN through the tunnel',
        request: `CONNECT ${allowedHost}:443, ALPN h2`,
        expected: expectFor(t, allowedHost, t.connectPorts.includes(443)),
        rule: tls,
        curl: { url: `https://${allowedHost}/`, proxy: 'endpoint', args: ['--http2'], http2: true },
      },
    ];
  },
  doc: { refuses: '– (allows the tenant)', notes: 'after every deny' },
};
