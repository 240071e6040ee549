// The lab's layout as a pure function of the plan: namespace and interface names, every address, the
// emulated internet's DNS records and certificate names. `lab up` builds exactly this; tests read it.
import { UsageError, type EgressPlan, type TenantPlan } from '../config';
import { fleetMode, type LabRouting } from '../config/fleet-modes';

/** Every namespace, interface and /etc/netns entry the lab makes starts with this; `down` removes them all. */
export const LAB_PREFIX = 'eh-';
export const LAB_STATE_DIR = '/run/egresshub-lab';
/** Gateway addresses are hub host numbers 100 + i, so a lab holds at most this many tenants. */
export const MAX_LAB_TENANTS = 50;
/** Proxy addresses are hub host numbers 10 + i: at most this many proxies (one per AZ). */
export const MAX_LAB_PROXIES = 4;

// Documentation ranges only (RFC 5737): the emulated internet can never collide with a real one.
export const INTERNET = {
  natPublicIp: '198.51.100.1',
  routerIp: '198.51.100.254',
  dnsIp: '198.51.100.53',
  webIp: '203.0.113.10',
  prefix: 24,
} as const;

/** The "PrivateLink" hop between a tenant's endpoint and gateway namespaces; each pair is private to its tenant. */
export const LINK = { endpointSide: '169.254.0.1', gatewaySide: '169.254.0.2', prefix: 30 } as const;

/** A public name that resolves to a private address (the DNS-rebinding case). */
export const REBIND_TARGET = '192.168.0.10';

export interface LabTenant {
  readonly tenant: TenantPlan;
  readonly index: number;
  readonly spokeNs: string;
  readonly endpointNs: string;
  readonly gatewayNs: string;
  /** The spoke VPC's CIDR: by default every spoke gets the same 10.0.0.0/16. */
  readonly vpcCidr: string;
  readonly clientIp: string;
  readonly endpointIp: string;
  /**
   * What clients put in HTTP(S)_PROXY: the tenant's stable proxy name when the config has a dns section
   * (the spoke's own resolver answers it with the endpoint address, as the managed private hosted zone
   * does on AWS), else the endpoint address.
   */
  readonly proxyHost: string;
  /** The resource gateway's address in the hub: what Squid sees as the client. */
  readonly gatewayIp: string;
  /** The hub-side bridge port of this tenant's gateway. */
  readonly hubIf: string;
}

/**
 * One proxy of the fleet: a namespace of its own on the hub bridge, with its own address and Squid. Single and
 * multi-az modes: one per fixed proxy of the plan (`ProxyA` in the first AZ, …); nlb mode: one per AZ, standing
 * for the scaling group's instances behind the NLB.
 */
/**
 * The Squid service name (`squid -n`) of a lab proxy: every proxy's Squid shares the host's /dev/shm and /run/squid
 * (network namespaces do not separate files), and with SMP workers Squid names its shared memory segments and IPC
 * sockets after the service. Letters and digits only, as Squid requires: `ehpxa`.
 */
export const squidServiceName = (p: Pick<LabProxy, 'ns'>) => p.ns.replace(/[^a-z0-9]/g, '');

/** Where Squid keeps its SMP IPC sockets (Debian's and Amazon Linux's build). */
export const SQUID_IPC_DIR = '/run/squid';

export interface LabProxy {
  /** The plan's id for a fixed proxy (`ProxyA`); for nlb the same scheme by AZ. */
  readonly id: string;
  /** 1-based position: the failover order (1 is the primary); names its files (labPaths().proxy(index)). */
  readonly index: number;
  /** Lowercase AZ letter: names the namespace, interface and files (`eh-px-a`). */
  readonly letter: string;
  readonly availabilityZone: string;
  readonly ns: string;
  readonly ip: string;
  /** The hub-side bridge port of this proxy. */
  readonly hubIf: string;
}

/**
 * How the tenants' gateways pick a proxy, emulating the hub's fleet mode: `failover` sends every new connection
 * to the first healthy proxy in order (multi-az: Route 53 failover records; single: the one proxy); `spread`
 * spreads new connections over every healthy proxy (nlb).
 */
export type { LabRouting };

export interface LabTopology {
  readonly stateDir: string;
  readonly inetNs: string;
  readonly natNs: string;
  readonly hubNs: string;
  readonly hubCidr: string;
  readonly hubPrefix: number;
  /** The first proxy's address (the primary); kept for the matrix's "hub address" cases. */
  readonly squidIp: string;
  readonly proxies: readonly LabProxy[];
  readonly routing: LabRouting;
  readonly natPrivateIp: string;
  readonly tenants: readonly LabTenant[];
  /** dnsmasq `address=/name/ip` records: a name also answers for its subdomains. */
  readonly dns: readonly { readonly name: string; readonly ip: string }[];
  /** Names the lab's TLS certificate covers. */
  readonly certNames: readonly string[];
  /** Ports the emulated web server listens on, plain and TLS. */
  readonly httpPorts: readonly number[];
  readonly httpsPorts: readonly number[];
}

/** Names served by every lab regardless of config: public names for "*" tenants and the not-allowlisted case. */
export const LAB_DOMAINS = ['example.net', 'example.info'] as const;

export function buildTopology(plan: EgressPlan, stateDir = LAB_STATE_DIR): LabTopology {
  if (plan.tenants.length > MAX_LAB_TENANTS) {
    throw new UsageError(
      `the lab emulates at most ${MAX_LAB_TENANTS} tenants (got ${plan.tenants.length}); use a smaller config for the lab, e.g. examples/egresshub.yaml`,
    );
  }
  const [hubNet, hubPrefixText] = plan.hub.cidr.split('/') as [string, string];
  const hubBase = toInt(hubNet);
  const tenants = plan.tenants.map((t, i): LabTenant => {
    const vpcCidr = plan.spokes.find((s) => s.tenant === t.name)?.vpcCidr ?? '10.0.0.0/16';
    const [net, prefix] = vpcCidr.split('/') as [string, string];
    const base = toInt(net);
    const hosts = 2 ** (32 - Number(prefix));
    if (hosts < 256) throw new UsageError(`the lab needs spoke VPCs of /24 or larger; ${t.name}'s spoke is ${vpcCidr}`);
    return {
      tenant: t,
      index: i + 1,
      spokeNs: `${LAB_PREFIX}spoke-${i + 1}`,
      endpointNs: `${LAB_PREFIX}ep-${i + 1}`,
      gatewayNs: `${LAB_PREFIX}gw-${i + 1}`,
      vpcCidr,
      clientIp: toIp(base + 20),
      endpointIp: toIp(base + 200),
      proxyHost: t.proxyHost ?? toIp(base + 200),
      gatewayIp: toIp(hubBase + 100 + i),
      hubIf: `hub-gw${i + 1}`,
    };
  });
  const proxies = proxiesOf(plan).map((x, i): LabProxy => ({
    ...x,
    index: i + 1,
    ns: `${LAB_PREFIX}px-${x.letter}`,
    ip: toIp(hubBase + 10 + i),
    hubIf: `hub-px-${x.letter}`,
  }));
  const names = new Set<string>(LAB_DOMAINS);
  for (const t of plan.tenants) {
    if (t.allow.any) continue;
    t.allow.exact.forEach((n) => names.add(n));
    t.allow.suffixes.forEach((n) => names.add(n));
  }
  const sorted = [...names].sort();
  const egress = plan.hub.proxyHealth.egress;
  return {
    stateDir,
    inetNs: `${LAB_PREFIX}inet`,
    natNs: `${LAB_PREFIX}nat`,
    hubNs: `${LAB_PREFIX}hub`,
    hubCidr: plan.hub.cidr,
    hubPrefix: Number(hubPrefixText),
    squidIp: proxies[0]!.ip,
    proxies,
    routing: fleetMode(plan.hub.proxy.mode).labRouting,
    natPrivateIp: toIp(hubBase + 1),
    tenants,
    dns: [
      ...sorted.map((name) => ({ name, ip: INTERNET.webIp })),
      // More specific than the records above, so dnsmasq prefers it for the rebinding names.
      ...sorted.map((name) => ({ name: `rebind.${name}`, ip: REBIND_TARGET })),
      // The proxies' egress check target (the Region's STS endpoint by default) is a host of the emulated internet.
      ...(names.has(egress.host) ? [] : [{ name: egress.host, ip: INTERNET.webIp }]),
    ],
    certNames: sorted.flatMap((n) => [n, `*.${n}`]),
    httpPorts: [...new Set([80, ...plan.tenants.flatMap((t) => t.httpPorts)])].filter((p) => p !== 22).sort((a, b) => a - b),
    // The egress check's port too, unless the plain server has it (80).
    httpsPorts: [...new Set([443, ...(egress.port === 80 ? [] : [egress.port]), ...plan.tenants.flatMap((t) => t.connectPorts)])]
      .filter((p) => p !== 22)
      .sort((a, b) => a - b),
  };
}

/** Namespaces in the order `up` creates them. */
export function namespacesOf(topo: LabTopology): string[] {
  return [
    topo.inetNs,
    topo.natNs,
    topo.hubNs,
    ...topo.proxies.map((x) => x.ns),
    ...topo.tenants.flatMap((t) => [t.spokeNs, t.endpointNs, t.gatewayNs]),
  ];
}

/** The plan's fixed proxies; with nlb (no fixed proxies) one per AZ, at least two, as the scaling group's minimum spreads them. */
function proxiesOf(plan: EgressPlan): { id: string; letter: string; availabilityZone: string }[] {
  const fixed =
    plan.hub.proxy.fixed.length > 0
      ? plan.hub.proxy.fixed
      : plan.hub.availabilityZones.map((az, azIndex) => ({
          id: `Proxy${az.slice(plan.region.length).toUpperCase()}`,
          availabilityZone: az,
          azIndex,
        }));
  if (fixed.length > MAX_LAB_PROXIES) {
    throw new UsageError(
      `the lab emulates at most ${MAX_LAB_PROXIES} proxies (the config has ${fixed.length}, one per AZ); use at most ${MAX_LAB_PROXIES} availabilityZones for the lab`,
    );
  }
  return fixed.map((f) => ({
    id: f.id,
    letter:
      f.id
        .replace(/^Proxy/, '')
        .toLowerCase()
        .replace(/[^a-z0-9]/g, '')
        .slice(-6) || String(f.azIndex + 1),
    availabilityZone: f.availabilityZone,
  }));
}

function toInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
