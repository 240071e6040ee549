// no-sni: a tunnel whose ClientHello carries no server name. Squid's `ssl::server_name --client-requested` falls back
// to the CONNECT host without one, so the `sni_sent` external ACL (SNI_HELPER) tells "no SNI" apart.
import { expectFor } from './case';
import { ruleAcl, wouldDenyAcl, listedTenants, type PolicyRule } from './rule';

export const noSni: PolicyRule = {
  id: 'no-sni',
  kind: 'tls',
  enforcedBy: 'ssl_bump',
  auditable: true,
  decision: 'denied',
  logHost: 'none',
  render: {
    'bump.presence': ({ plan }) => {
      const lines: string[] = [];
      if (listedTenants(plan, 'enforce').length) lines.push(`ssl_bump terminate sni_enforced_tenants !sni_sent ${ruleAcl('no-sni')}`);
      const audited = listedTenants(plan, 'audit').map((t) => `tenant_${t.name}`);
      if (audited.length) {
        lines.push(`acl sni_audited_tenants any-of ${audited.join(' ')}`);
        lines.push(`ssl_bump splice sni_audited_tenants !sni_sent ${wouldDenyAcl('no-sni')}`);
      }
      return lines;
    },
  },
  cases: ({ tenant: t, allowedHost, webIp }) => [
    {
      id: 'no-sni',
      title: 'no SNI (curl sends none for an IP-literal URL)',
      request: `CONNECT ${allowedHost}:443, no SNI`,
      expected: !t.allow.any && t.mode !== 'audit' ? 'denied' : expectFor(t, allowedHost),
      rule: t.allow.any ? 'tenant-allow' : 'no-sni',
      curl: { url: `https://${webIp}/`, proxy: 'endpoint', args: ['-k', '--connect-to', `${webIp}:443:${allowedHost}:443`] },
    },
  ],
  doc: { refuses: 'a tunnel whose ClientHello carries no SNI', notes: 'allowlist tenants' },
};
