// scheme: a plain request (not CONNECT) for anything but `http://` (`ftp://`, `https://` in a GET): Squid must not
// originate TLS or FTP for a tenant.
import { denyLines, type PolicyRule } from './rule';

export const scheme: PolicyRule = {
  id: 'scheme',
  kind: 'protocol',
  enforcedBy: 'http_access',
  auditable: false,
  decision: 'denied',
  logHost: 'none',
  render: {
    'acl.request': () => ['acl http_scheme proto HTTP'],
    'deny.name': () => denyLines({ on: 'request', acls: '!http_scheme', rule: 'scheme' }),
  },
  cases: ({ allowedHost }) => [
    {
      id: 'scheme-ftp',
      title: 'an ftp:// request (Squid would speak FTP for the tenant)',
      request: `GET ftp://${allowedHost}/`,
      expected: 'denied',
      rule: 'scheme',
      raw: { line: `GET ftp://${allowedHost}/` },
    },
  ],
  doc: {
    refuses: 'non-CONNECT requests that are not `http://` (`ftp://`, `https://` in a GET)',
    notes: 'Squid must not originate TLS or FTP for a tenant',
  },
};
