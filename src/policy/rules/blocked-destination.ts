// blocked-destination: addresses no tenant may reach, whatever name led there, on the address Squid would connect to.
import { fetchRule, httpAccessRule, viaBoth } from './case';
import { denyLines, type PolicyRule } from './rule';

/**
 * Destinations no tenant may reach, whatever name led there: RFC 1918, CGNAT, loopback, link-local
 * (IMDS 169.254.169.254, ECS task metadata 169.254.170.2), "this network", IETF protocol space,
 * benchmarking, multicast and reserved; and the IPv6 equivalents (incl. IMDS fd00:ec2::254 in ULA,
 * NAT64's 64:ff9b::/96 and 64:ff9b:1::/48, which embed an IPv4 address, and the discard prefix 100::/64).
 * IPv4-mapped ::ffff:0:0/96 is not listed: Squid reads it as 0.0.0.0/0 (and then ignores it); it maps
 * such addresses to IPv4 itself, so the IPv4 ranges above catch them (lab cases ip-ipv4-mapped*).
 * The documentation ranges stay reachable:
 * they are not routed on the internet, and the lab's emulated internet lives there.
 */
export const BLOCKED_DESTINATIONS: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  '64:ff9b::/96',
  '64:ff9b:1::/48',
  '100::/64',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
];

export const blockedDestination: PolicyRule = {
  id: 'blocked-destination',
  kind: 'address',
  enforcedBy: 'http_access',
  auditable: false,
  decision: 'denied',
  logHost: 'internal',
  render: {
    'acl.address': () => [`acl blocked_dst dst ${BLOCKED_DESTINATIONS.join(' ')}`],
    'deny.address': () => denyLines({ on: 'both', acls: 'blocked_dst', rule: 'blocked-destination' }),
  },
  cases: ({ tenant: t, rebindHost, rebindTarget }) => {
    const get = (host: string) => httpAccessRule(t, { method: 'GET', host, port: 80, to: 'blocked' });
    return [
      {
        id: 'imds',
        title: 'instance metadata (IMDS)',
        request: 'GET http://169.254.169.254/latest/meta-data/',
        expected: 'denied',
        rule: get('169.254.169.254'),
        fetchRule: fetchRule(t, '169.254.169.254', 'blocked'),
        ...viaBoth('http://169.254.169.254/latest/meta-data/'),
      },
      {
        id: 'ecs-metadata',
        title: 'container credentials address',
        request: 'GET http://169.254.170.2/v2/credentials',
        expected: 'denied',
        rule: get('169.254.170.2'),
        curl: { url: 'http://169.254.170.2/v2/credentials', proxy: 'endpoint' },
      },
      {
        id: 'private-ip',
        title: 'RFC 1918 literal',
        request: 'GET http://192.168.0.10/',
        expected: 'denied',
        rule: get('192.168.0.10'),
        fetchRule: fetchRule(t, '192.168.0.10', 'blocked'),
        ...viaBoth('http://192.168.0.10/'),
      },
      {
        id: 'cgnat-ip',
        title: 'CGNAT literal (100.64/10)',
        request: 'GET http://100.64.0.1/',
        expected: 'denied',
        rule: get('100.64.0.1'),
        curl: { url: 'http://100.64.0.1/', proxy: 'endpoint' },
      },
      {
        id: 'rebind',
        title: `public name resolving to ${rebindTarget}`,
        request: `GET http://${rebindHost}/ + CONNECT`,
        expected: 'denied',
        rule: get(rebindHost),
        fetchRule: fetchRule(t, rebindHost, 'blocked'),
        ...viaBoth(`http://${rebindHost}/`),
      },
      {
        id: 'rebind-tls',
        title: 'the same name over CONNECT',
        request: `CONNECT ${rebindHost}:443`,
        expected: 'denied',
        rule: httpAccessRule(t, { method: 'CONNECT', host: rebindHost, port: 443, to: 'blocked' }),
        ...viaBoth(`https://${rebindHost}/`),
      },
    ];
  },
  doc: {
    refuses:
      'private, CGNAT, loopback, link-local (IMDS 169.254.169.254, ECS 169.254.170.2), `0/8`, IETF 192.0.0/24, benchmarking 198.18/15, multicast, reserved; IPv6 `::`, `::1`, ULA `fc00::/7` (IMDS `fd00:ec2::254`), link-local, multicast, NAT64 `64:ff9b::/96`',
    notes: 'on the **resolved** address, so a public name resolving to a private address is caught',
  },
};
