// Builds and tears down the lab: network namespaces for the emulated internet, the NAT gateway, the hub
// (one namespace per proxy of the fleet, each a real Squid running the generated squid.conf, and the supervisor
// that emulates the fleet's failover or spreading) and, per tenant, a spoke VPC plus the endpoint/gateway pair
// that stands in for PrivateLink. `up` is idempotent and `down` cleans any half-built state.
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildPlan, failoverNameOf, loadConfigFile, UsageError, type EgressPlan } from '../config';
import { APPLY_FAIR_SHARE, APPLY_TENANT_LIMITS, ENSURE_TLS_PEEK } from '../hub/user-data';
import { LOG_DAEMON_REPORT_DIR, logDaemonReportFile, renderSquidConf, type SquidConfOptions } from '../policy';
import { spawn } from 'node:child_process';
import { hasCommand, inNs, nodeEntry, run, sleep, waitFor } from './sh';
import {
  buildTopology,
  INTERNET,
  LAB_PREFIX,
  LAB_STATE_DIR,
  LINK,
  namespacesOf,
  SQUID_IPC_DIR,
  squidServiceName,
  type LabProxy,
  type LabTenant,
  type LabTopology,
} from './topology';
import { labRuleset } from './nft';
import type { WebServerSpec } from './servers';
import {
  DEFAULT_SUPERVISOR_SETTINGS,
  gatewayMapScript,
  routeTo,
  type SupervisorSettings,
  type SupervisorSpec,
  type SupervisorStatus,
} from './supervisor';

export type Step = (text: string) => void;

export const REQUIRED_TOOLS = ['ip', 'nft', 'squid', 'dnsmasq', 'openssl', 'curl', 'python3'] as const;

export class LabNeedsRootError extends UsageError {
  constructor() {
    super(
      `the lab needs root to create network namespaces (running as uid ${process.getuid?.() ?? '?'}); run the lab commands as root (e.g. from a root shell); nothing else in egresshub needs root`,
    );
  }
}

/** Fails early, with exit code 2, when the lab cannot run here. */
export function checkLabHost(): void {
  if (process.getuid?.() !== 0) throw new LabNeedsRootError();
  const missing = REQUIRED_TOOLS.filter((t) => !hasCommand(t));
  if (missing.length > 0) {
    throw new UsageError(
      `the lab needs ${missing.join(', ')} (not found on PATH); install them with \`apt-get install squid dnsmasq-base nftables iproute2 curl openssl\``,
    );
  }
}

/** The user (and group) Debian's Squid runs as: it owns the lab proxies' log directories and reads their peek certificates. */
export const LAB_SQUID_USER = 'proxy';

/** Paths of everything the lab writes under its state directory. */
export function labPaths(stateDir = LAB_STATE_DIR) {
  const proxy = (index: number) => {
    const dir = join(stateDir, `proxy-${index}`);
    const squidDir = join(dir, 'squid');
    // A directory of its own for the logs, so that a fault can put a (full) filesystem over them alone.
    const logDir = join(squidDir, 'logs');
    return {
      dir,
      /** Owned by user proxy: Squid's pid file, and logDir. */
      squidDir,
      /** Owned by user proxy: the access log (the log daemon's files; access.log names the newest) and cache.log. */
      logDir,
      squidConf: join(dir, 'squid.conf'),
      squidPid: join(squidDir, 'squid.pid'),
      accessLog: join(logDir, 'access.log'),
      cacheLog: join(logDir, 'cache.log'),
      /** The throwaway certificate of the ssl-bump ports (ensure_tls_peek makes it, as on an instance). */
      peekCert: join(dir, 'peek.pem'),
      /** The lab's stand-in for plan.hub.proxyHealth.drainFile on this proxy's instance. */
      drainFile: join(dir, 'drain'),
    };
  };
  const primary = proxy(1);
  return {
    stateDir,
    state: join(stateDir, 'state.json'),
    /** Files of the proxy at 1-based position `index` (LabProxy.index; 1 is the primary). */
    proxy,
    // The primary proxy's files, under the names a one-proxy lab had.
    squidDir: primary.squidDir,
    squidConf: primary.squidConf,
    squidPid: primary.squidPid,
    accessLog: primary.accessLog,
    cacheLog: primary.cacheLog,
    supervisorSpec: join(stateDir, 'supervisor.json'),
    supervisorSettings: join(stateDir, 'supervisor-settings.json'),
    supervisorStatus: join(stateDir, 'supervisor-status.json'),
    supervisorEvents: join(stateDir, 'supervisor-events.jsonl'),
    supervisorLog: join(stateDir, 'supervisor.log'),
    supervisorPid: join(stateDir, 'supervisor.pid'),
    dnsmasqConf: join(stateDir, 'dnsmasq.conf'),
    dnsmasqPid: join(stateDir, 'dnsmasq.pid'),
    /** The spoke's own resolver (the private hosted zone of its proxy name), one per tenant index. */
    spokeDnsConf: (index: number) => join(stateDir, `spoke-dns-${index}.conf`),
    spokeDnsPid: (index: number) => join(stateDir, `spoke-dns-${index}.pid`),
    webSpec: join(stateDir, 'web.json'),
    webLog: join(stateDir, 'web.log'),
    webPid: join(stateDir, 'web.pid'),
    caCert: join(stateDir, 'ca.pem'),
    caKey: join(stateDir, 'ca.key'),
    cert: join(stateDir, 'server.pem'),
    key: join(stateDir, 'server.key'),
  };
}

/** What a lab experiment may change in the squid.conf the lab runs, besides the host settings (a fault's own timings). */
export type LabSquidOverrides = Pick<SquidConfOptions, 'tcpKeepalive'>;

/**
 * The squid.conf a lab proxy runs: the hub's, with only the host settings (paths, resolver, shutdown time) swapped;
 * each proxy (1-based `proxyIndex`) has its own log and pid paths. `overrides`: a fault's scaled timings.
 */
export function labSquidConf(plan: EgressPlan, stateDir = LAB_STATE_DIR, proxyIndex = 1, overrides: LabSquidOverrides = {}): string {
  const p = labPaths(stateDir).proxy(proxyIndex);
  return renderSquidConf(plan, {
    ...overrides,
    host: {
      logDir: p.logDir,
      pidFile: p.squidPid,
      coredumpDir: p.squidDir,
      peekCertFile: p.peekCert,
      dnsNameservers: [INTERNET.dnsIp],
      shutdownLifetimeSeconds: 1,
    },
  });
}

interface LabState {
  readonly planHash: string;
  readonly config: string;
  readonly complete: boolean;
}

/** The plan and the squid.conf it renders: a changed policy generator also means a fresh lab. */
function planHash(plan: EgressPlan): string {
  return createHash('sha256').update(JSON.stringify(plan)).update(labSquidConf(plan)).digest('hex').slice(0, 16);
}

export function readState(stateDir = LAB_STATE_DIR): LabState | undefined {
  try {
    return JSON.parse(readFileSync(labPaths(stateDir).state, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

export function labNamespaces(): string[] {
  return run(['ip', 'netns', 'list'])
    .stdout.split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(LAB_PREFIX));
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function pidAlive(file: string): boolean {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    process.kill(pid, 0);
    return pid > 0;
  } catch {
    return false;
  }
}

/** True when a complete lab for this plan is running: every namespace and every process. */
export function isUp(plan: EgressPlan, topo: LabTopology): boolean {
  const state = readState(topo.stateDir);
  const p = labPaths(topo.stateDir);
  if (!state?.complete || state.planHash !== planHash(plan)) return false;
  const present = new Set(labNamespaces());
  const spokeDns = topo.tenants.filter(servesProxyName).map((t) => p.spokeDnsPid(t.index));
  const squids = topo.proxies.map((x) => p.proxy(x.index).squidPid);
  // After a `lab reconfigure` the proxies run another policy: that is not a lab for this plan.
  const samePolicy = topo.proxies.every((x) => readText(p.proxy(x.index).squidConf) === labSquidConf(plan, topo.stateDir, x.index));
  return (
    samePolicy &&
    namespacesOf(topo).every((n) => present.has(n)) &&
    [...squids, p.dnsmasqPid, p.webPid, p.supervisorPid, ...spokeDns].every(pidAlive)
  );
}

/** Brings the lab up for `plan`; a running lab for the same plan is reused, anything else is torn down first. */
export async function labUp(plan: EgressPlan, configFile: string, step: Step): Promise<{ topo: LabTopology; reused: boolean }> {
  checkLabHost();
  const topo = buildTopology(plan);
  if (isUp(plan, topo)) {
    step(`lab already up for ${configFile} (${namespacesOf(topo).length} namespaces); reusing it`);
    return { topo, reused: true };
  }
  if (labNamespaces().length > 0 || existsSync(topo.stateDir)) {
    step('found a lab for another config or a half-built one: tearing it down first');
    await labDown(step);
  }
  try {
    await build(plan, topo, configFile, step);
  } catch (e) {
    // A failed build leaves nothing running; the error still says which command failed.
    step('lab up failed: tearing down what was built');
    await labDown(step);
    throw e;
  }
  return { topo, reused: false };
}

async function build(plan: EgressPlan, topo: LabTopology, configFile: string, step: Step): Promise<void> {
  const p = labPaths(topo.stateDir);
  mkdirSync(topo.stateDir, { recursive: true, mode: 0o755 });
  writeFileSync(p.state, JSON.stringify({ planHash: planHash(plan), config: resolve(configFile), complete: false } satisfies LabState));
  const proxyUid = Number(run(['id', '-u', LAB_SQUID_USER]).stdout.trim());
  const proxyGid = Number(run(['id', '-g', LAB_SQUID_USER]).stdout.trim());
  for (const x of topo.proxies) {
    for (const dir of [p.proxy(x.index).squidDir, p.proxy(x.index).logDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      chownSync(dir, proxyUid, proxyGid);
    }
  }

  step('making a CA and a server certificate for the emulated internet (openssl)');
  makeCertificates(topo, p);

  step(`creating ${namespacesOf(topo).length} network namespaces (${LAB_PREFIX}*)`);
  const resolving = new Set([topo.hubNs, topo.natNs, topo.inetNs, ...topo.proxies.map((x) => x.ns)]);
  for (const ns of namespacesOf(topo)) createNamespace(ns, resolving.has(ns));
  wireInternetAndNat(topo);
  wireHub(topo);
  for (const t of topo.tenants) wireTenant(topo, t);

  step(`starting dnsmasq in ${topo.inetNs} (${topo.dns.length} records) and the web server on ${INTERNET.webIp}`);
  startDns(topo, p);
  const named = topo.tenants.filter(servesProxyName);
  if (named.length > 0) {
    step(`starting each spoke's resolver for its proxy name (${named.map((t) => t.proxyHost).join(', ')})`);
    for (const t of named) startSpokeDns(t, p);
  }
  step(
    `starting ${topo.proxies.length === 1 ? 'squid' : `${topo.proxies.length} squids`} with the generated squid.conf: ${topo.proxies
      .map((x) => `${x.id} ${x.ip} in ${x.ns}`)
      .join(', ')}`,
  );
  step(`starting the supervisor (${describeRouting(topo)})`);
  // Side by side: each waits for its own readiness (the supervisor does not judge a proxy before its first good probe).
  await Promise.all([startWeb(topo, p), ...topo.proxies.map((x) => startSquid(plan, topo, x)), startSupervisor(plan, topo)]);
  writeFileSync(p.state, JSON.stringify({ planHash: planHash(plan), config: resolve(configFile), complete: true } satisfies LabState));
}

function makeCertificates(topo: LabTopology, p: ReturnType<typeof labPaths>): void {
  run(['openssl', 'req', '-x509', ...EC_KEY, '-keyout', p.caKey, '-out', p.caCert, '-days', '2', '-subj', '/CN=egresshub lab CA']);
  issueCertificate(p, {
    stem: join(topo.stateDir, 'server'),
    subject: '/CN=egresshub lab origin',
    altNames: `${topo.certNames.map((n) => `DNS:${n}`).join(',')},IP:${INTERNET.webIp}`,
    key: p.key,
    cert: p.cert,
  });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A server certificate signed by the lab's CA (`altNames` as for subjectAltName, e.g. `IP:203.0.113.20`). */
export function issueCertificate(
  p: ReturnType<typeof labPaths>,
  c: { stem: string; subject: string; altNames: string; key: string; cert: string },
): void {
  const csr = `${c.stem}.csr`;
  const ext = `${c.stem}.ext`;
  run(['openssl', 'req', '-new', ...EC_KEY, '-keyout', c.key, '-out', csr, '-subj', c.subject]);
  writeFileSync(ext, `subjectAltName=${c.altNames}\n`);
  run([
    'openssl',
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    p.caCert,
    '-CAkey',
    p.caKey,
    '-CAcreateserial',
    '-out',
    c.cert,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
}

function createNamespace(ns: string, dnsReachable: boolean): void {
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

function wireInternetAndNat(topo: LabTopology): void {
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
function wireHub(topo: LabTopology): void {
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
function wireTenant(topo: LabTopology, t: LabTenant): void {
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

function startDns(topo: LabTopology, p: ReturnType<typeof labPaths>): void {
  startDnsmasq(topo.inetNs, INTERNET.dnsIp, p.dnsmasqConf, p.dnsmasqPid, topo.dns);
}

/** True when the tenant's clients use a proxy name that the spoke must resolve. */
function servesProxyName(t: LabTenant): boolean {
  return t.proxyHost !== t.endpointIp;
}

/**
 * Emulates the private hosted zone AWS manages in a consumer VPC for a resource endpoint with private DNS:
 * a resolver on the spoke's loopback (its resolv.conf already points there) that knows only the tenant's
 * proxy name, answered with the endpoint address.
 */
function startSpokeDns(t: LabTenant, p: ReturnType<typeof labPaths>): void {
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

async function startWeb(topo: LabTopology, p: ReturnType<typeof labPaths>): Promise<void> {
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

/** The instance's own `ensure_tls_peek` (user-data.ts), run for a lab proxy: same check of the build, same certificate. */
export function ensurePeekCert(file: string): void {
  run(['bash', '-c', `set -euo pipefail\n${ENSURE_TLS_PEEK}\nensure_tls_peek "$1" "$2"`, 'ensure_tls_peek', file, LAB_SQUID_USER]);
}

/** The instance's own `apply_tenant_limits` (user-data.ts), run in a lab proxy's namespace: its nftables, its ports. */
export function applyTenantLimits(proxy: Pick<LabProxy, 'ns'>, conf: string, check = false): void {
  inNs(proxy.ns, [
    'bash',
    '-c',
    `set -euo pipefail\n${APPLY_TENANT_LIMITS}\napply_tenant_limits "$1" $2`,
    'apply_tenant_limits',
    conf,
    check ? '-c' : '',
  ]);
}

/**
 * The instance's own `apply_fair_share` (policy-rollout.ts's document), run in a lab proxy's namespace: its tree on
 * the device holding the proxy's address, as the listener ENI on a fixed proxy. Throws when the tree did not load
 * and the policy sets bandwidth ceilings (the instance's script then only warns: the lab is where that must show).
 */
export function applyFairShare(proxy: Pick<LabProxy, 'ns' | 'ip'>, conf: string): void {
  inNs(proxy.ns, [
    'env',
    `LISTENER_IP=${proxy.ip}`,
    'bash',
    '-c',
    `set -euo pipefail\n${APPLY_FAIR_SHARE}\napply_fair_share "$1"`,
    'apply_fair_share',
    conf,
  ]);
}

/** The apply document's `keep_inert_delay_pool`: a reconfigure that drops every delay pool keeps one inert pool. */
function keepInertDelayPool(running: string, candidate: string): void {
  run([
    'bash',
    '-c',
    `set -euo pipefail\n${APPLY_FAIR_SHARE}\nkeep_inert_delay_pool "$1" "$2"`,
    'keep_inert_delay_pool',
    running,
    candidate,
  ]);
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

function listensOn(proxy: LabProxy, ports: readonly number[]): boolean {
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
async function startSupervisor(
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

export function readSupervisorStatus(stateDir = LAB_STATE_DIR): SupervisorStatus | undefined {
  try {
    return JSON.parse(readFileSync(labPaths(stateDir).supervisorStatus, 'utf8')) as SupervisorStatus;
  } catch {
    return undefined;
  }
}

/**
 * Applies a changed policy to the running lab's proxies the way one proxy applies it: write the new squid.conf,
 * check it, `squid -k reconfigure` (the master process stays, open connections are kept), every proxy at once.
 * Only Squid changes: a tenant that is new in `plan` gets its listener but no spoke until `lab up`. Returns how
 * long the proxies took to listen again on every port of the new plan. With two or more proxies,
 * `rollingReconfigure` (src/lab/fleet.ts) drains each in turn instead, so no new connection is refused.
 */
export async function labReconfigure(plan: EgressPlan, step: Step): Promise<{ ms: number; ports: number[] }> {
  const topo = requireRunningLab();
  const started = Date.now();
  await Promise.all(topo.proxies.map((x) => reconfigureProxy(plan, topo, x, step)));
  return { ms: Date.now() - started, ports: plan.tenants.map((t) => t.port) };
}

/**
 * `squid -k parse` then `squid -k reconfigure` on one proxy; resolves when Squid has reopened every listener of
 * the new plan (cache.log says "Accepting … connections" once per port after the reconfigure). Returns the time
 * from the reconfigure to the last listener.
 */
export async function reconfigureProxy(
  plan: EgressPlan,
  topo: LabTopology,
  proxy: LabProxy,
  step: Step,
  overrides: LabSquidOverrides = {},
): Promise<number> {
  const p = labPaths(topo.stateDir).proxy(proxy.index);
  const conf = labSquidConf(plan, topo.stateDir, proxy.index, overrides);
  const candidate = `${p.squidConf}.next`;
  writeFileSync(candidate, conf);
  keepInertDelayPool(p.squidConf, candidate);
  step(`${proxy.id}: checking the new squid.conf (squid -k parse)`);
  inNs(proxy.ns, ['squid', '-k', 'parse', '-f', candidate]);
  applyTenantLimits(proxy, candidate, true);
  writeFileSync(p.squidConf, readFileSync(candidate));
  applyTenantLimits(proxy, p.squidConf);
  const ports = plan.tenants.map((t) => t.port);
  const accepting = () =>
    existsSync(p.cacheLog) ? (readFileSync(p.cacheLog, 'utf8').match(/Accepting .* connections at/g)?.length ?? 0) : 0;
  const before = accepting();
  const started = Date.now();
  step(`${proxy.id}: squid -k reconfigure (same master process, open connections kept)`);
  inNs(proxy.ns, ['squid', '-k', 'reconfigure', '-f', p.squidConf]);
  const ready = () => accepting() >= before + ports.length && listensOn(proxy, ports);
  if (!(await waitFor(ready, 20_000, 20))) {
    throw new Error(`squid (${proxy.id}) did not listen on ${ports.join(', ')} within 20 s after reconfigure; see ${p.cacheLog}`);
  }
  applyFairShare(proxy, p.squidConf);
  return Date.now() - started;
}

/** The running lab's topology, or a usage error when no complete lab is up. */
export function requireRunningLab(): LabTopology {
  checkLabHost();
  const state = readState();
  if (!state?.complete || !pidAlive(labPaths().supervisorPid)) throw new UsageError('no lab is up: run `egresshub lab up` first');
  return readRunningTopology();
}

/** The topology of the lab that is up (from the config it was built for). */
function readRunningTopology(): LabTopology {
  const state = readState();
  if (!state) throw new UsageError('no lab is up: run `egresshub lab up` first');
  return buildTopology(buildPlan(loadConfigFile(state.config)));
}

/** Removes every lab namespace (ending the processes inside), the /etc/netns entries and the state directory. */
export async function labDown(step: Step): Promise<{ namespaces: number; processes: number }> {
  if (process.getuid?.() !== 0) throw new LabNeedsRootError();
  const namespaces = labNamespaces();
  const pids = new Set<number>();
  for (const ns of namespaces) {
    for (const pid of run(['ip', 'netns', 'pids', ns], { allowFail: true }).stdout.split(/\s+/).filter(Boolean)) pids.add(Number(pid));
  }
  if (pids.size > 0) step(`stopping ${pids.size} lab process${pids.size === 1 ? '' : 'es'} (squid, dnsmasq, web server, supervisor)`);
  // SIGINT is Squid's "shut down now" (`squid -k interrupt`); SIGTERM would wait out open transfers.
  // dnsmasq treats SIGINT as a cache flush, so everything else gets SIGTERM. Then a bounded wait, then force.
  const isSquid = (pid: number) => readProc(pid, 'comm').trim() === 'squid';
  signal([...pids].filter(isSquid), 'SIGINT');
  signal(
    [...pids].filter((pid) => !isSquid(pid)),
    'SIGTERM',
  );
  const gone = await waitFor(() => [...pids].every((pid) => !alive(pid)), 5_000);
  if (!gone) {
    signal(pids, 'SIGKILL');
    await sleep(200);
  }
  if (namespaces.length > 0) step(`deleting ${namespaces.length} namespaces`);
  for (const ns of namespaces) run(['ip', 'netns', 'del', ns], { allowFail: true });
  if (existsSync('/etc/netns')) {
    for (const entry of readdirSync('/etc/netns').filter((e) => e.startsWith(LAB_PREFIX))) {
      rmSync(join('/etc/netns', entry), { recursive: true, force: true });
    }
  }
  rmSync(LAB_STATE_DIR, { recursive: true, force: true });
  // The log daemons' loss reports (tmpfs, outside the state directory), named after the lab's log paths.
  const reportPrefix = logDaemonReportFile(join(LAB_STATE_DIR, 'x')).replace(/x\.jsonl$/, '');
  if (existsSync(LOG_DAEMON_REPORT_DIR)) {
    for (const f of readdirSync(LOG_DAEMON_REPORT_DIR)) {
      if (join(LOG_DAEMON_REPORT_DIR, f).startsWith(reportPrefix)) rmSync(join(LOG_DAEMON_REPORT_DIR, f), { force: true });
    }
  }
  // SMP Squid leaves its IPC sockets behind, named after the lab proxies' service names.
  const service = squidServiceName({ ns: LAB_PREFIX });
  if (existsSync(SQUID_IPC_DIR)) {
    for (const f of readdirSync(SQUID_IPC_DIR).filter((e) => e.startsWith(service))) rmSync(join(SQUID_IPC_DIR, f), { force: true });
  }
  return { namespaces: namespaces.length, processes: pids.size };
}

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** A zombie has already exited; only its parent (often init, here) still has to reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signal(pids: Iterable<number>, sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}
