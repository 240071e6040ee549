// Brings the lab up and down: checks the host, builds every piece in order (state directory, certificates,
// namespaces, daemons: src/lab/{state,certificates,namespaces,daemons}.ts) for one plan, reuses a running lab of
// the same plan (`up` is idempotent), and tears down any lab, whole or half-built. What the lab is (namespaces for
// the emulated internet, the NAT gateway, the hub's proxies and supervisor, per tenant a spoke VPC plus the
// endpoint/gateway pair that stands in for PrivateLink) is src/lab/topology.ts.
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildPlan, loadConfigFile, UsageError, type EgressPlan } from '../config';
import { LOG_DAEMON_REPORT_DIR, logDaemonReportFile } from '../policy';
import { hasCommand, run, sleep, waitFor } from './sh';
import {
  buildTopology,
  INTERNET,
  LAB_PREFIX,
  LAB_STATE_DIR,
  namespacesOf,
  SQUID_IPC_DIR,
  squidServiceName,
  type LabTopology,
} from './topology';
import { LAB_SQUID_USER, type LabState, isUp, labNamespaces, labPaths, pidAlive, planHash, readState, servesProxyName } from './state';
import { makeCertificates } from './certificates';
import { createNamespace, wireHub, wireInternetAndNat, wireTenant } from './namespaces';
import { describeRouting, startDns, startSpokeDns, startSquid, startSupervisor, startWeb } from './daemons';

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
