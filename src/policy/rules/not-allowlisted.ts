// not-allowlisted: a name outside the tenant's allowlist (allowlist tenants only; `"*"` tenants have no name rule).
// The allowlist ACLs themselves (`allow_<tenant>`, `sni_<tenant>`) are renderSquidConf's: sni-mismatch reads them too.
import { expectFor, httpAccessRule, viaBoth, type RuleCase } from './case';
import { denyLines, listedTenants, wouldDenyAcl, type PolicyRule } from './rule';

export const notAllowlisted: PolicyRule = {
  id: 'not-allowlisted',
  kind: 'name',
  enforcedBy: 'http_access',
  auditable: true,
  decision: 'denied',
  logHost: 'asked',
  render: {
    // Audit: the annotation runs, then `!all` fails the line, so evaluation goes on to the checks below.
    'access.audit': ({ plan }) =>
      listedTenants(plan, 'audit').map((t) => `http_access deny tenant_${t.name} !allow_${t.name} ${wouldDenyAcl('not-allowlisted')} !all`),
    'deny.name': ({ plan }) =>
      listedTenants(plan, 'enforce').flatMap((t) =>
        denyLines({ on: 'both', acls: `tenant_${t.name} !allow_${t.name}`, rule: 'not-allowlisted' }),
      ),
  },
  cases: ({ tenant: t, allowedHost, suffix }) => {
    const get = (host: string) => httpAccessRule(t, { method: 'GET', host, port: 80, to: 'public' });
    const tls = (host: string) => httpAccessRule(t, { method: 'CONNECT', host, port: 443, to: 'public' });
    const cases: RuleCase[] = [];
    if (suffix) {
      const deep = `api.${suffix}`;
      cases.push(
        {
          id: 'wildcard',
          title: `wildcard *.${suffix}`,
          request: `CONNECT ${deep}:443`,
          expected: expectFor(t, deep),
          rule: tls(deep),
          ...viaBoth(`https://${deep}/`),
        },
        {
          id: 'wildcard-apex',
          title: `*.${suffix} also admits ${suffix}`,
          request: `GET http://${suffix}/`,
          expected: expectFor(t, suffix, t.httpPorts.includes(80)),
          rule: get(suffix),
          curl: { url: `http://${suffix}/`, proxy: 'endpoint' },
        },
      );
    }
    const shouted = `${allowedHost.toUpperCase()}.`;
    const other = 'www.example.info';
    const audit = t.mode === 'audit';
    cases.push(
      {
        id: 'case-dot',
        title: 'upper case + trailing dot',
        request: `GET http://${shouted}/`,
        expected: expectFor(t, allowedHost, t.httpPorts.includes(80)),
        rule: get(allowedHost),
        curl: { url: `http://${shouted}/`, proxy: 'endpoint' },
        raw: { line: `GET http://${shouted}/` },
      },
      {
        id: 'not-listed',
        title: 'name not on the allowlist',
        request: `GET http://${other}/`,
        expected: audit ? 'allowed' : expectFor(t, other),
        rule: get(other),
        curl: { url: `http://${other}/`, proxy: 'endpoint' },
      },
      {
        id: 'not-listed-tls',
        title: 'name not on the allowlist, HTTPS',
        request: `CONNECT ${other}:443`,
        expected: audit ? 'allowed' : expectFor(t, other),
        rule: tls(other),
        ...viaBoth(`https://${other}/`),
      },
    );
    return cases;
  },
  doc: {
    refuses: "a name outside the tenant's allowlist",
    notes: 'allowlist tenants only; before the address checks: a denied name costs no DNS lookup',
  },
};
