// ip-literal-spelling: a host made only of decimal or 0x-hex labels is an IPv4 literal in some spelling (2130706433,
// 0x7f.1, 0177.0.0.1, 127.1); only the canonical dotted quad is accepted, so every later check sees one spelling.
import { httpAccessRule, type RuleCase } from './case';
import { CANONICAL_IPV4_RE, denyLines, NUMERIC_HOST_RE, type PolicyRule } from './rule';

/** Loopback in every spelling the lab sends, and the host Squid 5.7 makes of it before any ACL (docs/policy.md). */
const IP_SPELLINGS: readonly [name: string, spelled: string, seen: string][] = [
  ['decimal', '2130706433', '127.0.0.1'],
  ['hex', '0x7f.1', '127.0.0.1'],
  ['octal', '0177.0.0.1', '127.0.0.1'],
  ['short', '127.1', '127.0.0.1'],
  ['ipv6-loopback', '[::1]', '::1'],
  ['ipv4-mapped', '[::ffff:127.0.0.1]', '127.0.0.1'],
  ['ipv4-mapped-hex', '[::ffff:7f00:1]', '127.0.0.1'],
  ['zero', '0', '0'],
];

export const ipLiteralSpelling: PolicyRule = {
  id: 'ip-literal-spelling',
  kind: 'address',
  enforcedBy: 'http_access',
  auditable: false,
  decision: 'denied',
  logHost: 'internal',
  render: {
    'acl.address': () => [
      // -n: match the name as written; never reverse-resolve an IP literal into an allowlisted name.
      `acl numeric_host dstdom_regex -n -i ${NUMERIC_HOST_RE}`,
      `acl canonical_ipv4 dstdom_regex -n ${CANONICAL_IPV4_RE}`,
    ],
    'deny.name': () => denyLines({ on: 'both', acls: 'numeric_host !canonical_ipv4', rule: 'ip-literal-spelling' }),
  },
  cases: ({ tenant }) => [
    ...IP_SPELLINGS.map(([name, spelled, seen]): RuleCase => ({
      id: `ip-${name}`,
      title: `loopback spelled ${name}`,
      request: `GET http://${spelled}/`,
      expected: 'denied',
      rule: httpAccessRule(tenant, { method: 'GET', host: seen, port: 80, to: 'blocked' }),
      curl: { url: `http://${spelled}/`, proxy: 'endpoint' },
      raw: { line: `GET http://${spelled}/` },
    })),
    {
      id: 'ip-connect-hex',
      title: 'CONNECT to loopback spelled hex',
      request: 'CONNECT 0x7f.1:443',
      expected: 'denied',
      rule: httpAccessRule(tenant, { method: 'CONNECT', host: '127.0.0.1', port: 443, to: 'blocked' }),
      raw: { line: 'CONNECT 0x7f.1:443' },
    },
  ],
  doc: {
    refuses: 'hosts made only of decimal/`0x` labels that are not a canonical dotted quad (`0`, `0x7f.1`)',
    notes: 'before every other check, so each sees one spelling',
  },
};
