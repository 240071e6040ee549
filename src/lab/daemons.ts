// The lab's processes: the emulated internet's resolver and web origin, each spoke's resolver for its proxy name,
// a real Squid per proxy (with the instances' own tenant limits and fair-share tree), and the supervisor that
// stands in for what picks a proxy on AWS. Each start waits, bounded, until its process is ready.
import { existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { failoverNameOf, type EgressPlan } from '../config';
import { spawn } from 'node:child_process';
import { inNs, nodeEntry, waitFor } from './sh';
import { INTERNET, squidServiceName, type LabProxy, type LabTenant, type LabTopology } from './topology';
import type { WebServerSpec } from './servers';
import { DEFAULT_SUPERVISOR_SETTINGS, type SupervisorSettings, type SupervisorSpec } from './supervisor';
import { labPaths, labSquidConf, readSupervisorStatus } from './state';
import { applyFairShare, applyTenantLimits, ensurePeekCert } from './instance-scripts';

export function startDns(topo: LabTopology, p: ReturnType<typeof labPaths>): void {
  startDnsmasq(topo.inetNs, INTERNET.dnsIp, p.dnsmasqConf, p.dnsmasqPid, topo.dns);
}

/**
 * Emulates the private hosted zone AWS manages in a consumer VPC for a resource endpoint with private DNS:
 * a resolver on the spoke's loopback (its resolv.conf already points there) that knows only the tenant's
 * proxy name, answered with the endpoint address.
 */
export function startSpokeDns(t: LabTenant, p: ReturnType<typeof labPaths>): void {
  startDnsmasq(t.spokeNs, '127.0.0.1', p.spokeDnsConf(t.index), p.spokeDnsPid(t.index), [{ name: t.proxyHost, ip: t.endpointIp }]);
}

/**
 * An authoritative-only dnsmasq: the given records (a name also answers for its subdomains) and NXDOMAIN for
 * every other name, as a resolver answers for a name nobody serves; no upstream, so no query leaves the lab.
 */
function startDnsmasq(ns: string, listen: string, conf: string, pid: string, records: readonly { name: string; ip: string }[]): void {
  const lines = [
    'no-resolv',
    'no-hosts',
    'no-poll',
    'bind-interfaces',
    `listen-address=${listen}`,
    `pid-file=${pid}`,
    ...records.map((r) => `address=/${r.name}/${r.ip}`),
    'address=/#/',
  ];
  writeFileSync(conf, `${lines.join('\n')}\n`);
  inNs(ns, ['dnsmasq', `--conf-file=${conf}`]);
}

export async function startWeb(topo: LabTopology, p: ReturnType<typeof labPaths>): Promise<void> {
  const spec: WebServerSpec = {
    ip: INTERNET.webIp,
    httpPorts: topo.httpPorts.filter((x) => !topo.httpsPorts.includes(x)),
    httpsPorts: topo.httpsPorts,
    certFile: p.cert,
    keyFile: p.key,
  };
  writeFileSync(p.webSpec, JSON.stringify(spec));
  const child = spawnTs(topo.inetNs, nodeEntry(__dirname, 'servers'), [p.webSpec], p.webLog);
  writeFileSync(p.webPid, String(child));
  const ok = await waitFor(() => readFileSync(p.webLog, 'utf8').includes('listening'), 15_000);
  if (!ok) throw new Error(`the lab web server did not start; see ${p.webLog}:\n${readFileSync(p.webLog, 'utf8')}`);
}

/** Starts a lab entry point (nodeEntry()) with Node inside a namespace, detached, output to `log`; returns its pid. */
export function spawnTs(
  ns: string,
  entry: readonly string[],
  args: readonly string[],
  log: string,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const fd = openSync(log, 'w');
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...entry, ...args], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env,
  });
  child.unref();
  return child.pid!;
}

/** Starts (or restarts, after it died) one proxy's Squid with the plan's squid.conf and waits for every tenant port. */
export async function startSquid(plan: EgressPlan, topo: LabTopology, proxy: LabProxy): Promise<void> {
  const p = labPaths(topo.stateDir).proxy(proxy.index);
  writeFileSync(p.squidConf, labSquidConf(plan, topo.stateDir, proxy.index));
  ensurePeekCert(p.peekCert);
  inNs(proxy.ns, ['squid', '-k', 'parse', '-f', p.squidConf]);
  applyTenantLimits(proxy, p.squidConf);
  // On AWS the apply document's first run after boot loads the tree; the lab loads it at once.
  applyFairShare(proxy, p.squidConf);
  inNs(proxy.ns, ['squid', '-n', squidServiceName(proxy), '-f', p.squidConf]);
  if (
    !(await waitFor(
      () =>
        listensOn(
          proxy,
          plan.tenants.map((t) => t.port),
        ),
      20_000,
    ))
  ) {
    const log = existsSync(p.cacheLog) ? readFileSync(p.cacheLog, 'utf8').split('\n').slice(-15).join('\n') : '(no cache.log)';
    throw new Error(`squid (${proxy.id}) did not open its tenant ports within 20 s; end of ${p.cacheLog}:\n${log}`);
  }
}

export function listensOn(proxy: LabProxy, ports: readonly number[]): boolean {
  const out = inNs(proxy.ns, ['ss', '-ltnH'], { allowFail: true }).stdout;
  return ports.every((port) => out.includes(`:${port} `));
}

export function describeRouting(topo: LabTopology): string {
  if (topo.proxies.length === 1) return 'one proxy';
  return topo.routing === 'failover'
    ? `failover: new connections go to the first healthy of ${topo.proxies.map((x) => x.id).join(' → ')}`
    : `spread: new connections go round-robin to every healthy one of ${topo.proxies.map((x) => x.id).join(', ')}`;
}

/** Starts the supervisor in the hub namespace and waits (bounded) for a probe round in which every proxy answered. */
export async function startSupervisor(
  plan: EgressPlan,
  topo: LabTopology,
  settings: SupervisorSettings = DEFAULT_SUPERVISOR_SETTINGS,
): Promise<void> {
  const p = labPaths(topo.stateDir);
  const failover = failoverNameOf(plan.hub.proxy);
  const spec: SupervisorSpec = {
    routing: topo.routing,
    proxies: topo.proxies.map((x) => ({ id: x.id, ns: x.ns, ip: x.ip, drainFile: p.proxy(x.index).drainFile })),
    gateways: topo.tenants.map((t) => t.gatewayNs),
    probePort: Math.min(...topo.tenants.map((t) => t.tenant.port)),
    failoverName:
      topo.routing === 'failover' && failover
        ? { name: failover.name, hostsFiles: topo.proxies.map((x) => join('/etc/netns', x.ns, 'hosts')) }
        : undefined,
    egress: { host: plan.hub.proxyHealth.egress.host, port: plan.hub.proxyHealth.egress.port },
    settingsFile: p.supervisorSettings,
    statusFile: p.supervisorStatus,
    eventsFile: p.supervisorEvents,
  };
  writeFileSync(p.supervisorSpec, JSON.stringify(spec));
  if (!existsSync(p.supervisorSettings)) writeFileSync(p.supervisorSettings, JSON.stringify(settings));
  writeFileSync(p.supervisorEvents, '');
  writeFileSync(p.supervisorPid, String(spawnTs(topo.hubNs, nodeEntry(__dirname, 'supervisor'), [p.supervisorSpec], p.supervisorLog)));
  const ready = () => readSupervisorStatus(topo.stateDir)?.proxies.every((x) => x.lastProbe?.ok) ?? false;
  if (!(await waitFor(ready, 20_000, 50))) {
    throw new Error(
      `the lab supervisor did not see every proxy healthy within 20 s; see ${p.supervisorLog}:\n${readFileSync(p.supervisorLog, 'utf8')}`,
    );
  }
}
