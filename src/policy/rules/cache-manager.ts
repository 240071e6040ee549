// cache-manager: Squid's own management pages (`cache_object://`, `/squid-internal-mgr/`), never a tenant's business.
// Only the proxy's health probe, from loopback, passes before it (HEALTH_PROBE in squid-conf.ts).
import { ruleAcl, type PolicyRule } from './rule';

export const cacheManager: PolicyRule = {
  id: 'cache-manager',
  kind: 'address',
  enforcedBy: 'http_access',
  auditable: false,
  decision: 'denied',
  logHost: 'internal',
  render: {
    'access.manager': () => [`http_access deny manager ${ruleAcl('cache-manager')}`],
  },
  cases: ({ allowedHost }) => [
    {
      id: 'cache-manager',
      title: "Squid's cache manager page",
      request: `GET http://${allowedHost}/squid-internal-mgr/info`,
      expected: 'denied',
      rule: 'cache-manager',
      curl: { url: `http://${allowedHost}/squid-internal-mgr/info`, proxy: 'endpoint' },
    },
  ],
  provenBy: ['test/hub/health-probe.test.ts'],
  doc: { refuses: "Squid's cache manager URLs", notes: 'first: never useful to a tenant' },
};
