// The config's cross-field refusals, one named check each: what `configSchema` runs once every field has its
// shape (src/config/schema.ts), and what test/config/bad-configs.test.ts breaks one case at a time. Each check
// returns its refusals with the path of the field to fix, so the loader can point at the YAML line.
import { INSTANCE_FACTS } from './instance-types';
import {
  DEFAULT_INSTANCE_TYPES,
  DEFAULT_RESOURCE_CONFIGURATIONS_QUOTA,
  HUB_PREFIX_MAX,
  HUB_PREFIX_MIN,
  MAX_METRIC_TENANTS,
  MAX_SUBNET_PREFIX,
  MAX_TENANT_PORT,
  MIN_TENANT_PORT,
  NLB_MAX_LISTENERS,
  NLB_MAX_TARGETS,
  PRIVATE_HUB_RANGES,
  RESERVED_PORTS,
  SHARED_TENANT,
  cidrsOverlap,
  isPrivateCidr4,
  subnetPrefix,
} from './facts';
import type { EgressConfig } from './schema';

/** One refusal: the field to fix and what to do about it (the message the user reads, exit code 2). */
export interface CheckIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

export interface ConfigCheck {
  /** Stable name: the issue carries it (`params.check`), and the bad-config tests address the check by it. */
  readonly id: string;
  /** What the check refuses, in a line. */
  readonly about: string;
  /**
   * Checks of one group look at the same list (`tenants` or `spokes`); their refusals are reported item by item
   * (everything wrong with tenants[0], then tenants[1]), so every path of a grouped check starts `[list, index]`.
   */
  readonly group?: string;
  readonly find: (cfg: EgressConfig) => CheckIssue[];
}

/** The lowest port above the tenants' that no tenant uses and egresshub does not keep (wrapping to the bottom). */
function freePort(cfg: EgressConfig): number {
  const used = new Set(cfg.tenants.map((x) => x.port));
  let free = Math.max(...used) + 1;
  if (free > MAX_TENANT_PORT) free = MIN_TENANT_PORT;
  while (used.has(free) || RESERVED_PORTS.has(free)) free++;
  return free;
}

/** Every path at which an item repeats an earlier one's key, with the index of the last earlier item that has it. */
function repeats<T, K>(items: readonly T[], key: (item: T) => K): [number, number][] {
  const seen = new Map<K, number>();
  const found: [number, number][] = [];
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k)) found.push([i, seen.get(k)!]);
    seen.set(k, i);
  });
  return found;
}

const nlbFleet = (cfg: EgressConfig) => {
  const min = cfg.hub.proxy.scaling?.min ?? cfg.hub.availabilityZones.length;
  const max = cfg.hub.proxy.scaling?.max ?? Math.max(min, 2 * cfg.hub.availabilityZones.length);
  return { min, max, listeners: Math.max(cfg.tenants.length, 1) };
};

/** In the order the refusals are reported. */
export const CONFIG_CHECKS: readonly ConfigCheck[] = [
  {
    id: 'az-outside-region',
    about: "an availability zone that is not in the config's region",
    find: (cfg) =>
      cfg.hub.availabilityZones.flatMap((az, i) =>
        new RegExp(`^${cfg.region}[a-z]$`).test(az)
          ? []
          : [
              {
                path: ['hub', 'availabilityZones', i],
                message: `availability zone "${az}" is not in region ${cfg.region}; use names like ${cfg.region}a`,
              },
            ],
      ),
  },
  {
    id: 'az-twice',
    about: 'an availability zone listed twice',
    find: (cfg) =>
      repeats(cfg.hub.availabilityZones, (az) => az).map(([i, k]) => ({
        path: ['hub', 'availabilityZones', i],
        message: `availability zone "${cfg.hub.availabilityZones[i]}" is listed twice (also at index ${k})`,
      })),
  },
  {
    id: 'nat-gateways-with-public-egress',
    about: 'natGateways with egress: public (the hub has no NAT gateway then)',
    find: (cfg) =>
      cfg.hub.egress === 'public' && cfg.hub.natGateways !== undefined
        ? [
            {
              path: ['hub', 'natGateways'],
              message:
                'egress: public puts the proxies in public subnets with their own Elastic IPs, so the hub has no NAT gateway; remove natGateways or set egress: nat',
            },
          ]
        : [],
  },
  {
    id: 'multi-az-one-az',
    about: 'proxy mode multi-az with fewer than two availability zones',
    find: (cfg) =>
      cfg.hub.proxy.mode === 'multi-az' && cfg.hub.availabilityZones.length < 2
        ? [
            {
              path: ['hub', 'availabilityZones'],
              message: `proxy mode multi-az (the default) runs one proxy per AZ and needs at least two availability zones; list another one (e.g. ${cfg.region}c) or set hub.proxy.mode: single`,
            },
          ]
        : [],
  },
  {
    id: 'nlb-public-egress',
    about: 'proxy mode nlb with egress: public (a scaling fleet has no static egress addresses)',
    find: (cfg) =>
      cfg.hub.proxy.mode === 'nlb' && cfg.hub.egress === 'public'
        ? [
            {
              path: ['hub', 'egress'],
              message:
                'egress: public gives each fixed proxy its own Elastic IP; an NLB fleet scales in and out, so it has no static egress addresses. Use egress: nat with mode nlb, or mode multi-az with egress: public',
            },
          ]
        : [],
  },
  {
    id: 'workers-above-vcpus',
    about: "more Squid workers than the instance type's vCPUs",
    find: (cfg) => {
      const { proxy } = cfg.hub;
      const type = proxy.instanceType ?? DEFAULT_INSTANCE_TYPES[proxy.mode];
      const facts = INSTANCE_FACTS[type];
      if (!facts || proxy.workers <= facts.vcpus) return [];
      return [
        {
          path: ['hub', 'proxy', 'workers'],
          message: `${proxy.workers} Squid workers on ${type} (${facts.vcpus} vCPU${facts.vcpus === 1 ? '' : 's'}) would share cores: use at most ${facts.vcpus}, or a larger instance type`,
        },
      ];
    },
  },
  {
    // A bandwidth ceiling is a class of the fair-share tree: without a tree nothing would enforce it.
    id: 'bandwidth-ceiling-without-fair-share',
    about: 'a bandwidthMbps ceiling on a proxy without a fair-share tree (lineRateMbps 0, or unknown for the instance type)',
    find: (cfg) => {
      const { proxy } = cfg.hub;
      const facts = INSTANCE_FACTS[proxy.instanceType ?? DEFAULT_INSTANCE_TYPES[proxy.mode]];
      const lineRate = proxy.lineRateMbps ?? (facts ? 1 : 0);
      if (lineRate !== 0) return [];
      const capped: (string | number)[][] = [];
      if (cfg.hub.tenantLimits.bandwidthMbps) capped.push(['hub', 'tenantLimits', 'bandwidthMbps']);
      cfg.tenants.forEach((t, i) => {
        if (t.limits?.bandwidthMbps) capped.push(['tenants', i, 'limits', 'bandwidthMbps']);
      });
      return capped.map((path) => ({
        path,
        message:
          proxy.lineRateMbps === 0
            ? "a bandwidth ceiling is enforced by the fair-share tree, which hub.proxy.lineRateMbps: 0 turns off: set lineRateMbps to the instance's bandwidth in Mbit/s, or remove the ceiling"
            : `a bandwidth ceiling is enforced by the fair-share tree, whose rate egresshub does not know for ${proxy.instanceType}: set hub.proxy.lineRateMbps to the instance's bandwidth in Mbit/s, or remove the ceiling`,
      }));
    },
  },
  {
    id: 'scaling-outside-nlb',
    about: 'hub.proxy.scaling in a mode other than nlb',
    find: (cfg) => {
      const { proxy } = cfg.hub;
      if (proxy.mode === 'nlb' || !proxy.scaling) return [];
      return [
        {
          path: ['hub', 'proxy', 'scaling'],
          message: `scaling applies to mode nlb only (mode ${proxy.mode} runs ${proxy.mode === 'single' ? 'one proxy' : 'one proxy per AZ'}); remove it or set hub.proxy.mode: nlb`,
        },
      ];
    },
  },
  {
    id: 'scaling-min-above-max',
    about: "mode nlb: scaling.min above scaling.max (either one's default included)",
    find: (cfg) => {
      if (cfg.hub.proxy.mode !== 'nlb') return [];
      const { min, max } = nlbFleet(cfg);
      return min > max
        ? [{ path: ['hub', 'proxy', 'scaling', 'min'], message: `scaling.min (${min}) is larger than scaling.max (${max})` }]
        : [];
    },
  },
  {
    id: 'nlb-too-many-listeners',
    about: 'mode nlb with more tenants than an NLB has listeners (NLB_MAX_LISTENERS)',
    find: (cfg) => {
      if (cfg.hub.proxy.mode !== 'nlb') return [];
      const { listeners } = nlbFleet(cfg);
      if (listeners <= NLB_MAX_LISTENERS) return [];
      return [
        {
          path: ['hub', 'proxy', 'mode'],
          message: `mode nlb gives each tenant port an NLB listener, and an NLB holds at most ${NLB_MAX_LISTENERS} (not adjustable); this config has ${listeners} tenants. Use mode multi-az, or split the tenants across hubs`,
        },
      ];
    },
  },
  {
    // Every proxy is registered in every tenant port's target group, and each registration counts as a target.
    id: 'nlb-too-many-targets',
    about: 'mode nlb with tenants x scaling.max above the targets a cross-zone NLB holds (NLB_MAX_TARGETS)',
    find: (cfg) => {
      if (cfg.hub.proxy.mode !== 'nlb') return [];
      const { max, listeners } = nlbFleet(cfg);
      if (listeners * max <= NLB_MAX_TARGETS) return [];
      return [
        {
          path: ['hub', 'proxy', 'scaling', 'max'],
          message:
            `mode nlb registers every proxy in each tenant port's target group, so ${listeners} tenant${listeners === 1 ? '' : 's'} x scaling.max ${max} = ${listeners * max} NLB targets, above the ${NLB_MAX_TARGETS} an NLB with cross-zone load balancing holds; ` +
            `lower scaling.max to ${Math.floor(NLB_MAX_TARGETS / listeners)} or less, put fewer tenants on this hub, or use mode multi-az`,
        },
      ];
    },
  },
  {
    id: 'resource-configurations-above-quota',
    about: 'more tenants (resource configurations) than the declared VPC Lattice quota',
    find: (cfg) => {
      const configurations = Math.max(cfg.tenants.length, 1);
      const quota = cfg.hub.quotas.resourceConfigurationsPerRegion;
      if (configurations <= quota) return [];
      return [
        {
          path: ['tenants'],
          message:
            `${configurations} tenants need ${configurations} resource configurations, above the quota "Resource configurations per Region" (Amazon VPC Lattice) of ${quota}${quota === DEFAULT_RESOURCE_CONFIGURATIONS_QUOTA ? ', its default' : ''}, which also counts every other configuration in ${cfg.region}; ` +
            `request an increase in the Service Quotas console (Amazon VPC Lattice, "Resource configurations per Region"), then declare the approved value as hub.quotas.resourceConfigurationsPerRegion, or split the tenants across hubs in two Regions or accounts`,
        },
      ];
    },
  },
  {
    id: 'too-many-metric-tenants',
    about: 'more tenants with metrics: true than MAX_METRIC_TENANTS',
    find: (cfg) => {
      const metricTenants = cfg.tenants.flatMap((t, i) => (t.metrics ? [i] : []));
      if (metricTenants.length <= MAX_METRIC_TENANTS) return [];
      return [
        {
          path: ['tenants', metricTenants[MAX_METRIC_TENANTS]!, 'metrics'],
          message:
            `${metricTenants.length} tenants set metrics: true; at most ${MAX_METRIC_TENANTS} may (their names must fit one metric filter pattern, and each is 4 billed custom metrics). ` +
            'Every tenant is already in the Contributor Insights rules and saved queries (docs/operations.md); keep metrics: true for the tenants you alarm on',
        },
      ];
    },
  },
  {
    id: 'port-both-tls-and-raw',
    about: "a tenant's connect port listed both as a TLS port and as a raw tunnel",
    find: (cfg) =>
      cfg.tenants.flatMap((t, ti) => {
        const tls = new Set(t.connectPorts.filter((p) => typeof p === 'number'));
        return t.connectPorts.flatMap((p, i) =>
          typeof p !== 'number' && tls.has(p.port)
            ? [
                {
                  path: ['tenants', ti, 'connectPorts', i],
                  message: `port ${p.port} is listed as a TLS port (checked by SNI) and as a raw tunnel ({ port: ${p.port}, tls: false }); keep one of the two`,
                },
              ]
            : [],
        );
      }),
  },
  {
    id: 'hub-cidr-public',
    about: 'a hub CIDR outside private address space',
    find: (cfg) =>
      isPrivateCidr4(cfg.hub.cidr)
        ? []
        : [
            {
              path: ['hub', 'cidr'],
              message: `${cfg.hub.cidr} is not private address space: every tenant is denied the hub's own range, so a public hub range would also block egress to those public addresses; use a block inside ${PRIVATE_HUB_RANGES.join(', ')}`,
            },
          ],
  },
  {
    id: 'hub-cidr-prefix',
    about: 'a hub CIDR outside HUB_PREFIX_MIN to HUB_PREFIX_MAX (/16 to /24)',
    find: (cfg) => {
      const hubPrefix = Number(cfg.hub.cidr.split('/')[1]);
      return hubPrefix < HUB_PREFIX_MIN || hubPrefix > HUB_PREFIX_MAX
        ? [{ path: ['hub', 'cidr'], message: `the hub CIDR must be /${HUB_PREFIX_MIN} to /${HUB_PREFIX_MAX} (got /${hubPrefix})` }]
        : [];
    },
  },
  {
    id: 'hub-cidr-too-small-for-azs',
    about: 'a hub CIDR whose subnets (two per AZ) would be smaller than MAX_SUBNET_PREFIX (/26)',
    find: (cfg) => {
      const hubPrefix = Number(cfg.hub.cidr.split('/')[1]);
      if (hubPrefix < HUB_PREFIX_MIN || hubPrefix > HUB_PREFIX_MAX) return []; // hub-cidr-prefix says so
      const azs = cfg.hub.availabilityZones.length;
      const mask = subnetPrefix(hubPrefix, azs);
      if (mask <= MAX_SUBNET_PREFIX) return [];
      return [
        {
          path: ['hub', 'cidr'],
          message: `${cfg.hub.cidr} is too small for ${azs} AZs: each of the ${2 * azs} subnets would be /${mask}, smaller than /${MAX_SUBNET_PREFIX}; use a larger block or fewer AZs`,
        },
      ];
    },
  },
  {
    id: 'tenant-name-twice',
    about: 'two tenants with the same name',
    group: 'tenants',
    find: (cfg) =>
      repeats(cfg.tenants, (t) => t.name).map(([i, k]) => ({
        path: ['tenants', i, 'name'],
        message: `tenant name "${cfg.tenants[i]!.name}" is already used by tenants[${k}]; tenant names must be unique`,
      })),
  },
  {
    id: 'tenant-port-twice',
    about: 'two tenants on the same port',
    group: 'tenants',
    find: (cfg) =>
      repeats(cfg.tenants, (t) => t.port).map(([i, k]) => ({
        path: ['tenants', i, 'port'],
        message: `port ${cfg.tenants[i]!.port} is already used by tenants[${k}]; give every tenant its own port`,
      })),
  },
  {
    id: 'tenant-port-reserved',
    about: 'a tenant on a port Squid or egresshub keeps (RESERVED_PORTS)',
    group: 'tenants',
    find: (cfg) =>
      cfg.tenants.flatMap((t, i) => {
        const reserved = RESERVED_PORTS.get(t.port);
        return reserved
          ? [
              {
                path: ['tenants', i, 'port'],
                message: `port ${t.port} is reserved (${reserved}); pick a port no tenant uses, e.g. ${freePort(cfg)}`,
              },
            ]
          : [];
      }),
  },
  {
    id: 'spoke-tenant-not-shared',
    about: 'with no tenants configured, a spoke of a tenant other than SHARED_TENANT',
    group: 'spokes',
    find: (cfg) =>
      cfg.tenants.length > 0
        ? []
        : cfg.spokes.flatMap((s, i) =>
            s.tenant !== SHARED_TENANT
              ? [
                  {
                    path: ['spokes', i, 'tenant'],
                    message: `unknown tenant "${s.tenant}": with no tenants configured the only tenant is "${SHARED_TENANT}"`,
                  },
                ]
              : [],
          ),
  },
  {
    id: 'spoke-account-not-hub',
    about: 'with no tenants configured, a spoke in an account other than the hub account',
    group: 'spokes',
    find: (cfg) =>
      cfg.tenants.length > 0
        ? []
        : cfg.spokes.flatMap((s, i) =>
            s.tenant === SHARED_TENANT && s.account !== cfg.account
              ? [
                  {
                    path: ['spokes', i, 'account'],
                    message: `the shared configuration is not shared with other accounts; spoke account ${s.account} must be the hub account ${cfg.account}, or configure tenants`,
                  },
                ]
              : [],
          ),
  },
  {
    id: 'spoke-tenant-unknown',
    about: 'a spoke of a tenant the config does not list',
    group: 'spokes',
    find: (cfg) =>
      cfg.tenants.length === 0
        ? []
        : cfg.spokes.flatMap((s, i) =>
            cfg.tenants.some((t) => t.name === s.tenant)
              ? []
              : [
                  {
                    path: ['spokes', i, 'tenant'],
                    message: `unknown tenant "${s.tenant}"; known tenants: ${cfg.tenants.map((t) => t.name).join(', ')}`,
                  },
                ],
          ),
  },
  {
    id: 'spoke-account-not-shared',
    about: "a spoke in an account its tenant's resource configuration is not shared with",
    group: 'spokes',
    find: (cfg) =>
      cfg.spokes.flatMap((s, i) => {
        const tenant = cfg.tenants.find((t) => t.name === s.tenant);
        if (
          !tenant ||
          s.account === cfg.account ||
          tenant.accounts.includes(s.account) ||
          tenant.accounts.some((p) => p.startsWith('arn:'))
        )
          return [];
        return [
          {
            path: ['spokes', i, 'account'],
            message: `account ${s.account} is not among tenant "${s.tenant}"'s accounts, so the resource configuration is not shared with it; add it to that tenant's accounts`,
          },
        ];
      }),
  },
  {
    id: 'spoke-vpc-cidr-missing',
    about: 'a spoke with neither vpcCidr nor vpcCidrs',
    group: 'spoke-cidrs',
    find: (cfg) =>
      cfg.spokes.flatMap((s, i) =>
        s.vpcCidr === undefined && s.vpcCidrs === undefined
          ? [
              {
                path: ['spokes', i, 'vpcCidr'],
                message: "this field is required; add the VPC's CIDR block (or vpcCidrs with every block, primary first)",
              },
            ]
          : [],
      ),
  },
  {
    id: 'spoke-vpc-cidr-and-cidrs',
    about: 'a spoke with both vpcCidr and vpcCidrs',
    group: 'spoke-cidrs',
    find: (cfg) =>
      cfg.spokes.flatMap((s, i) =>
        s.vpcCidr !== undefined && s.vpcCidrs !== undefined
          ? [
              {
                path: ['spokes', i, 'vpcCidrs'],
                message: 'give either vpcCidr (one block) or vpcCidrs (every block, primary first), not both',
              },
            ]
          : [],
      ),
  },
  {
    id: 'spoke-vpc-cidrs-overlap',
    about: "a spoke's vpcCidrs with overlapping blocks",
    group: 'spoke-cidrs',
    find: (cfg) =>
      cfg.spokes.flatMap((s, i) => {
        const blocks = s.vpcCidrs ?? [];
        return blocks.flatMap((c, j) => {
          const k = blocks.findIndex((other, m) => m < j && cidrsOverlap(other, c));
          return k >= 0
            ? [
                {
                  path: ['spokes', i, 'vpcCidrs', j],
                  message: `${c} overlaps vpcCidrs[${k}] (${blocks[k]}); a VPC's CIDR blocks never overlap: list each block once`,
                },
              ]
            : [];
        });
      }),
  },
  {
    id: 'spoke-vpc-twice',
    about: 'two spokes of one tenant in the same VPC',
    find: (cfg) =>
      repeats(cfg.spokes, (s) => `${s.tenant}/${s.vpcId}`).map(([i, k]) => ({
        path: ['spokes', i, 'vpcId'],
        message: `${cfg.spokes[i]!.vpcId} already has a spoke for tenant "${cfg.spokes[i]!.tenant}" (spokes[${k}])`,
      })),
  },
];

/**
 * Every refusal of every check, with the check's id, in table order; a group's refusals item by item
 * (a stable sort on the index, so one item's refusals keep their checks' order).
 */
export function runConfigChecks(cfg: EgressConfig): (CheckIssue & { readonly check: string })[] {
  const found: (CheckIssue & { readonly check: string })[] = [];
  for (let k = 0; k < CONFIG_CHECKS.length;) {
    const group = CONFIG_CHECKS[k]!.group;
    let end = k + 1;
    while (group !== undefined && end < CONFIG_CHECKS.length && CONFIG_CHECKS[end]!.group === group) end++;
    const issues = CONFIG_CHECKS.slice(k, end).flatMap((c) => c.find(cfg).map((issue) => ({ ...issue, check: c.id })));
    if (group !== undefined) issues.sort((a, b) => (a.path[1] as number) - (b.path[1] as number));
    found.push(...issues);
    k = end;
  }
  return found;
}
