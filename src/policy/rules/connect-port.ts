// connect-port: CONNECT to a port outside the tenant's `connectPorts` (TLS and raw tunnel ports). Never its
// `httpPorts`: a raw tunnel to port 80 would carry any Host unseen (docs/policy.md, "CONNECT ports").
import { expectFor, httpAccessRule, viaBoth, type RuleCase } from './case';
import { portGroupRender, type PolicyRule } from './rule';
import { tunnelPortsOf } from '../ports';

export const connectPort: PolicyRule = {
  id: 'connect-port',
  kind: 'port',
  enforcedBy: 'http_access',
  auditable: false,
  decision: 'denied',
  logHost: 'none',
  render: portGroupRender('connect', 'tunnel', 'connect-port'),
  cases: ({ tenant: t, allowedHost, labConnectPorts }) => {
    const to = (port: number) => httpAccessRule(t, { method: 'CONNECT', host: allowedHost, port, to: 'public' });
    return [
      // Node's fetch (undici's EnvHttpProxyAgent) sends http:// through a CONNECT tunnel, and a raw tunnel to port 80
      // would carry any Host unseen: refused unless the tenant declares { port: 80, tls: false }.
      {
        id: 'http-fetch',
        title: 'Node fetch tunnels http:// (CONNECT :80)',
        request: `CONNECT ${allowedHost}:80`,
        expected: expectFor(t, allowedHost, t.rawTunnelPorts.includes(80)),
        rule: to(80),
        fetchRule: to(80),
        fetch: `http://${allowedHost}/`,
      },
      {
        id: 'connect-80',
        title: 'CONNECT to port 80 (a raw tunnel to a plain-HTTP port)',
        request: `CONNECT ${allowedHost}:80`,
        expected: expectFor(t, allowedHost, t.rawTunnelPorts.includes(80)),
        rule: to(80),
        curl: { url: `http://${allowedHost}/`, proxy: 'endpoint', args: ['-p'] },
      },
      {
        id: 'connect-22',
        title: 'CONNECT to port 22',
        request: `CONNECT ${allowedHost}:22`,
        expected: tunnelPortsOf(t).includes(22) ? 'allowed' : 'denied',
        rule: to(22),
        curl: { url: `https://${allowedHost}:22/`, proxy: 'endpoint' },
        raw: { line: `CONNECT ${allowedHost}:22` },
      },
      ...labConnectPorts
        .filter((p) => p !== 443)
        .map((p): RuleCase => ({
          id: `connect-${p}`,
          title: `CONNECT to port ${p}`,
          request: `CONNECT ${allowedHost}:${p}`,
          expected: expectFor(t, allowedHost, tunnelPortsOf(t).includes(p)),
          rule: to(p),
          ...viaBoth(`https://${allowedHost}:${p}/`),
        })),
    ];
  },
  doc: {
    refuses: "CONNECT to a port outside the tenant's `connectPorts` (407)",
    notes: 'default: 443; never `httpPorts`',
  },
};
