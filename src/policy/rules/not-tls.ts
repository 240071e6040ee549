// not-tls: bytes after CONNECT that are not a TLS ClientHello (plain HTTP, SSH): an error reply, then close.
import { expectFor, type RuleCase } from './case';
import { ruleAcl, wouldDenyAcl, type PolicyRule } from './rule';

export const notTls: PolicyRule = {
  id: 'not-tls',
  kind: 'tls',
  enforcedBy: 'ssl_bump',
  auditable: true,
  decision: 'denied',
  logHost: 'none',
  render: {
    'bump.unsupported': ({ audit }) => [
      ...(audit.length ? [`on_unsupported_protocol tunnel audit_tenants ${wouldDenyAcl('not-tls')}`] : []),
      `on_unsupported_protocol respond all ${ruleAcl('not-tls')}`,
    ],
  },
  // In audit these bytes reach the TLS origin, which rejects them: no outcome to compare (the log says would-deny).
  cases: ({ tenant: t, allowedHost }): RuleCase[] =>
    t.mode === 'audit'
      ? []
      : [
          {
            id: 'http-in-tunnel',
            title: 'plain HTTP inside a tunnel to 443',
            request: `CONNECT ${allowedHost}:443 + GET`,
            expected: expectFor(t, allowedHost, false),
            rule: 'not-tls',
            curl: { url: `http://${allowedHost}:443/`, proxy: 'endpoint', args: ['-p'] },
          },
          {
            id: 'ssh-in-tunnel',
            title: 'SSH inside a tunnel to 443',
            request: `CONNECT ${allowedHost}:443 + SSH-2.0`,
            expected: expectFor(t, allowedHost, false),
            rule: 'not-tls',
            raw: { line: `CONNECT ${allowedHost}:443`, payload: 'SSH-2.0-OpenSSH_9.2p1\r\n' },
          },
        ],
  doc: {
    refuses: 'a tunnel whose first bytes are not a TLS ClientHello (plain HTTP, SSH, anything else)',
    notes: 'every tenant, `"*"` included',
  },
};
