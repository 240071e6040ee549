// sni-mismatch: a tunnel whose ClientHello names a server outside the tenant's allowlist (domain fronting). Matched
// like dstdomain: `*.x` is x and below, any case, one trailing dot (the `sni_<tenant>` ACL, renderSquidConf's).
import { expectFor, type RuleCase } from './case';
import { ruleAcl, wouldDenyAcl, type PolicyRule } from './rule';

export const sniMismatch: PolicyRule = {
  id: 'sni-mismatch',
  kind: 'tls',
  enforcedBy: 'ssl_bump',
  auditable: true,
  decision: 'denied',
  logHost: 'sni',
  render: {
    'bump.name': ({ plan }) =>
      plan.tenants
        .filter((t) => !t.allow.any)
        .map((t) =>
          t.mode === 'enforce'
            ? `ssl_bump terminate tenant_${t.name} !sni_${t.name} ${ruleAcl('sni-mismatch')}`
            : `ssl_bump splice tenant_${t.name} !sni_${t.name} ${wouldDenyAcl('sni-mismatch')}`,
        ),
  },
  cases: ({ tenant: t, allowedHost, suffix }) => {
    const sniChecked = !t.allow.any && t.mode !== 'audit';
    const otherAllowed = suffix ? `sni.${suffix}` : undefined;
    const cases: RuleCase[] = [];
    if (otherAllowed && otherAllowed !== allowedHost) {
      cases.push({
        id: 'sni-other-allowed',
        title: `SNI of another allowlisted name (${otherAllowed})`,
        request: `CONNECT ${allowedHost}:443, SNI ${otherAllowed}`,
        expected: expectFor(t, allowedHost),
        rule: 'tenant-allow',
        curl: {
          url: `https://${otherAllowed}/`,
          proxy: 'endpoint',
          args: ['-k', '--connect-to', `${otherAllowed}:443:${allowedHost}:443`],
        },
      });
    }
    cases.push({
      id: 'sni-not-listed',
      title: 'SNI of a name not on the allowlist (domain fronting)',
      request: `CONNECT ${allowedHost}:443, SNI www.example.info`,
      expected: sniChecked ? 'denied' : expectFor(t, allowedHost),
      rule: t.allow.any ? 'tenant-allow' : 'sni-mismatch',
      curl: {
        url: 'https://www.example.info/',
        proxy: 'endpoint',
        args: ['-k', '--connect-to', `www.example.info:443:${allowedHost}:443`],
      },
    });
    return cases;
  },
  doc: {
    refuses: "a tunnel whose ClientHello's SNI is not on the allowlist (closed at the peek)",
    notes: 'allowlist tenants; matched as `dstdomain` matches a host',
  },
};
