// The lab's network: one namespace per machine (emulated internet, NAT gateway, hub bridge, each proxy, and per
// tenant its spoke, endpoint and gateway), joined by veth pairs, with the nftables rulesets that stand in for
// the NAT gateway and for PrivateLink. No namespace has a route to the host's interfaces or asks its resolver.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNs, run } from './sh';
import { INTERNET, LINK, type LabTenant, type LabTopology } from './topology';
import { labRuleset } from './nft';
import { gatewayMapScript, routeTo } from './supervisor';

export function createNamespace(ns: string, dnsReachable: boolean): void {
  run(['ip', 'netns', 'add', ns]);
  inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
  // `ip netns exec` bind-mounts these over /etc: nothing in the lab ever asks the host's resolver.
  const etc = join('/etc/netns', ns);
  mkdirSync(etc, { recursive: true });
  writeFileSync(join(etc, 'resolv.conf'), `nameserver ${dnsReachable ? INTERNET.dnsIp : '127.0.0.1'}\n`);
  writeFileSync(join(etc, 'hosts'), '127.0.0.1 localhost\n::1 localhost ip6-localhost\n');
}

function veth(a: { ns: string; name: string }, b: { ns: string; name: string }): void {
  run(['ip', 'link', 'add', 'name', a.name, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.name, 'netns', b.ns]);
}

function addr(ns: string, dev: string, cidr: string): void {
  inNs(ns, ['ip', 'addr', 'add', cidr, 'dev', dev]);
  inNs(ns, ['ip', 'link', 'set', dev, 'up']);
}

function forwarding(ns: string): void {
  inNs(ns, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
}

function nft(ns: string, ruleset: string): void {
  inNs(ns, ['nft', '-f', '-'], { input: ruleset });
}

export function wireInternetAndNat(topo: LabTopology): void {
  veth({ ns: topo.inetNs, name: 'inet-nat' }, { ns: topo.natNs, name: 'nat-inet' });
  addr(topo.inetNs, 'inet-nat', `${INTERNET.routerIp}/${INTERNET.prefix}`);
  inNs(topo.inetNs, ['ip', 'addr', 'add', `${INTERNET.webIp}/32`, 'dev', 'lo']);
  inNs(topo.inetNs, ['ip', 'addr', 'add', `${INTERNET.dnsIp}/32`, 'dev', 'lo']);
  addr(topo.natNs, 'nat-inet', `${INTERNET.natPublicIp}/${INTERNET.prefix}`);
  inNs(topo.natNs, ['ip', 'route', 'add', 'default', 'via', INTERNET.routerIp]);
  forwarding(topo.natNs);
  nft(topo.natNs, labRuleset('nat-gateway'));
}

/** The hub's private subnets are one bridge: the NAT gateway, every proxy and every gateway ENI hang off it. */
export function wireHub(topo: LabTopology): void {
  inNs(topo.hubNs, ['ip', 'link', 'add', 'br-hub', 'type', 'bridge']);
  inNs(topo.hubNs, ['ip', 'link', 'set', 'br-hub', 'up']);
  veth({ ns: topo.natNs, name: 'nat-hub' }, { ns: topo.hubNs, name: 'hub-nat' });
  inNs(topo.hubNs, ['ip', 'link', 'set', 'hub-nat', 'master', 'br-hub', 'up']);
  addr(topo.natNs, 'nat-hub', `${topo.natPrivateIp}/${topo.hubPrefix}`);
  for (const x of topo.proxies) {
    veth({ ns: x.ns, name: 'px-hub' }, { ns: topo.hubNs, name: x.hubIf });
    addr(x.ns, 'px-hub', `${x.ip}/${topo.hubPrefix}`);
    inNs(topo.hubNs, ['ip', 'link', 'set', x.hubIf, 'master', 'br-hub', 'up']);
    inNs(x.ns, ['ip', 'route', 'add', 'default', 'via', topo.natPrivateIp]);
  }
}

/**
 * spoke ──(VPC CIDR)── endpoint ══(link)══ gateway ──(hub CIDR)── squid. The endpoint forwards only
 * the tenant's port and resets everything else; the gateway rewrites the source to its own hub
 * address, so Squid sees the gateway and never the (overlapping) client address, as on AWS. The gateway
 * picks the proxy for each new connection from its `proxy` map, which the supervisor keeps pointed at the
 * healthy proxies (it starts with all of them healthy).
 */
export function wireTenant(topo: LabTopology, t: LabTenant): void {
  const vpcPrefix = t.vpcCidr.split('/')[1]!;
  const port = t.tenant.port;
  veth({ ns: t.spokeNs, name: 'spoke-ep' }, { ns: t.endpointNs, name: 'ep-spoke' });
  veth({ ns: t.endpointNs, name: 'ep-gw' }, { ns: t.gatewayNs, name: 'gw-ep' });
  veth({ ns: t.gatewayNs, name: 'gw-hub' }, { ns: topo.hubNs, name: t.hubIf });
  addr(t.spokeNs, 'spoke-ep', `${t.clientIp}/${vpcPrefix}`);
  addr(t.endpointNs, 'ep-spoke', `${t.endpointIp}/${vpcPrefix}`);
  addr(t.endpointNs, 'ep-gw', `${LINK.endpointSide}/${LINK.prefix}`);
  addr(t.gatewayNs, 'gw-ep', `${LINK.gatewaySide}/${LINK.prefix}`);
  addr(t.gatewayNs, 'gw-hub', `${t.gatewayIp}/${topo.hubPrefix}`);
  inNs(topo.hubNs, ['ip', 'link', 'set', t.hubIf, 'master', 'br-hub', 'up']);
  forwarding(t.endpointNs);
  forwarding(t.gatewayNs);
  nft(
    t.endpointNs,
    labRuleset('endpoint', { ENDPOINT_IP: t.endpointIp, PORT: port, GATEWAY_SIDE: LINK.gatewaySide, ENDPOINT_SIDE: LINK.endpointSide }),
  );
  const proxyIps = topo.proxies.map((x) => x.ip);
  const healthy = routeTo(
    topo.routing,
    topo.proxies.map((x) => ({ ...x, healthy: true })),
  ).map((x) => x.ip);
  nft(t.gatewayNs, `${labRuleset('gateway', { PORT: port, GATEWAY_IP: t.gatewayIp, PROXIES: proxyIps })}\n${gatewayMapScript(healthy)}`);
  // A refused connection leaves a CLOSE conntrack entry (10 s) that a new SYN with the same ports would reuse,
  // NAT binding included: a client could still be sent to a withdrawn proxy after the switch. A new flow through
  // a resource gateway is placed anew, so here refused flows are forgotten at once (this namespace only).
  // Likewise an unanswered SYN (to a lost instance) leaves a SYN_SENT entry for 120 s: a later connection reusing
  // its ports would follow it to that proxy. 5 s covers the retransmits a client waits out before giving up.
  inNs(t.gatewayNs, [
    'sysctl',
    '-q',
    '-w',
    'net.netfilter.nf_conntrack_tcp_timeout_close=0',
    'net.netfilter.nf_conntrack_tcp_timeout_syn_sent=5',
  ]);
}
