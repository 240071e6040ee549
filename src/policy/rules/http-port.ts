// http-port: a plain-HTTP request to a port outside the tenant's `httpPorts`.
import { expectFor, httpAccessRule, type RuleCase } from './case';
import { portGroupRender, type PolicyRule } from './rule';

export const httpPort: PolicyRule = {
  id: 'http-port',
  kind: 'port',
  enforcedBy: 'http_access',
  auditable: false,
  decision: 'denied',
  logHost: 'none',
  render: portGroupRender('http', 'request', 'http-port'),
  cases: ({ tenant: t, allowedHost, labHttpPorts }) =>
    labHttpPorts
      .filter((p) => p !== 80)
      .map((p): RuleCase => ({
        id: `http-${p}`,
        title: `plain HTTP to port ${p}`,
        request: `GET http://${allowedHost}:${p}/`,
        expected: expectFor(t, allowedHost, t.httpPorts.includes(p)),
        rule: httpAccessRule(t, { method: 'GET', host: allowedHost, port: p, to: 'public' }),
        curl: { url: `http://${allowedHost}:${p}/`, proxy: 'endpoint' },
      })),
  doc: { refuses: "plain HTTP to a port outside the tenant's `httpPorts`", notes: 'default: 80' },
};
