// tenant-connections: a tenant's open connections per proxy (`limits.connections`), held by nftables, not Squid: a
// connection past the cap is reset before Squid sees it. Its ruleset rides in squid.conf as `#nft: ` comment lines
// (tenantLimitsRuleset in squid-conf.ts wraps these lines in the table).
import { mapElements, type PolicyRule } from './rule';

/** nftables names allow no hyphen where tenant names have one (and tenant names have no underscore). */
export const nftName = (tenant: string) => tenant.replaceAll('-', '_');

/**
 * Every new TCP connection to a tenant port jumps to that tenant's chain (one verdict-map lookup, whatever the tenant
 * count), which refuses it with a TCP reset once the tenant holds `limits.connections` on this proxy, counts the
 * refusal (`refused_<tenant>`) and logs it, at most 10 lines a second, as `egresshub rule=tenant-connections
 * tenant=<name>`. `ct count` counts the connections conntrack still tracks as open.
 * https://wiki.nftables.org/wiki-nftables/index.php/Meters (connlimit)
 */
export const tenantConnections: PolicyRule = {
  id: 'tenant-connections',
  kind: 'limit',
  enforcedBy: 'nftables',
  auditable: false,
  logHost: 'none',
  render: {
    'nft.hooks': ({ plan }) => [
      '  map tenant_ports {',
      '    type inet_service : verdict',
      ...mapElements(plan.tenants.map((t) => `${t.port} : jump t_${nftName(t.name)}`)),
      '  }',
      '  chain input {',
      '    type filter hook input priority filter; policy accept;',
      '    ct state new tcp dport vmap @tenant_ports',
      '  }',
    ],
    'nft.tenants': ({ plan }) =>
      plan.tenants.flatMap((t) => {
        const n = nftName(t.name);
        const over = `ct count over ${t.limits.connections}`;
        return [
          `  counter refused_${n} {}`,
          `  chain t_${n} {`,
          `    ${over} limit rate 10/second log prefix "egresshub rule=tenant-connections tenant=${t.name} " level info`,
          `    ${over} counter name refused_${n} reject with tcp reset`,
          '  }',
        ];
      }),
  },
  provenBy: ['test/lab/tenant-limits.test.ts'],
  doc: {
    refuses: "a new connection past the tenant's `limits.connections` on one proxy (TCP reset, counted, logged)",
    notes: 'nftables, before Squid; every tenant',
  },
};
