// The lab's files and state: where everything lives under the state directory, the squid.conf a lab proxy runs,
// the record of the lab that is up (for which plan, complete or not), and whether it is still whole.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EgressPlan } from '../config';
import { renderSquidConf, type SquidConfOptions } from '../policy';
import { run } from './sh';
import { INTERNET, LAB_PREFIX, LAB_STATE_DIR, namespacesOf, type LabTenant, type LabTopology } from './topology';
import type { SupervisorStatus } from './supervisor';

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

export interface LabState {
  readonly planHash: string;
  readonly config: string;
  readonly complete: boolean;
}

/** The plan and the squid.conf it renders: a changed policy generator also means a fresh lab. */
export function planHash(plan: EgressPlan): string {
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

export function pidAlive(file: string): boolean {
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

/** True when the tenant's clients use a proxy name that the spoke must resolve. */
export function servesProxyName(t: LabTenant): boolean {
  return t.proxyHost !== t.endpointIp;
}

export function readSupervisorStatus(stateDir = LAB_STATE_DIR): SupervisorStatus | undefined {
  try {
    return JSON.parse(readFileSync(labPaths(stateDir).supervisorStatus, 'utf8')) as SupervisorStatus;
  } catch {
    return undefined;
  }
}
