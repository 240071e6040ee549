// The idle-timeout fault: PrivateLink paths drop flows that stay idle longer than their timeout (NLB 350 s; a
// resource gateway's is UNCONFIRMED), and a tunnel a client leaves idle then dies silently unless something keeps
// the flow alive. The lab shortens the endpoint path's idle timeout to seconds (conntrack in the tenant's endpoint
// and gateway namespaces forgets an idle flow, and a packet of a forgotten flow is answered with a reset, as a NAT
// gateway or NLB does) and scales the proxy's keepalive by the same factor. Idle tunnels opened without keepalive
// are the control: they must die; tunnels opened with it must answer after idling 3× the timeout.
import type { EgressPlan } from '../../config';
import { type TcpKeepalive } from '../../policy';
import { allowedByConfig } from '../matrix';
import { labUp, type Step } from '../lab';
import { reconfigureProxy } from '../reconfigure';
import { labPaths, type LabSquidOverrides } from '../state';
import { inNs, nodeEntry, spawnInNs } from '../sh';
import type { LabTenant, LabTopology } from '../topology';
import type { Fault, FaultContext, FaultResult } from './fault';
import type { IdleClientEvent, IdleClientSpec } from './idle-client';

/** The emulated idle timeout of the endpoint path, in seconds (AWS: 350 s for NLB and endpoints, or less). */
export const LAB_IDLE_TIMEOUT_S = 6;
/**
 * The proxy's keepalive in the lab, scaled to the emulated timeout: the first probe at a third of it (the hub's
 * TENANT_KEEPALIVE probes at 30 s, half the shortest documented neighbour's 60 s, well under 350 s).
 */
export const LAB_KEEPALIVE: TcpKeepalive = { idleSeconds: 2, intervalSeconds: 1, timeoutSeconds: 4 };
/** How long each tunnel idles: three times the timeout. */
export const IDLE_FACTOR = 3;
/** Tunnels per case (with keepalive, and the control without). */
export const TUNNELS = 3;

export interface IdleTimeoutResult extends FaultResult {
  readonly idleTimeoutSeconds: number;
  readonly idleSeconds: number;
  readonly keepalive: TcpKeepalive;
  /** Tunnels opened with the proxy's keepalive that answered after idling (of `requests`). */
  readonly survived: number;
  /** Proxy-side sockets of those tunnels with a keepalive timer running (ss), seen while they idled. */
  readonly keepaliveTimers: number;
  /** The control: tunnels opened without keepalive, and how many of them were dead after idling. */
  readonly control: { readonly tunnels: number; readonly died: number; readonly errors: readonly string[] };
  /** Proxy-side connections on the tenant port still open after the control died (Squid does not know). */
  readonly staleOnProxy: number;
  readonly errors: readonly string[];
}

/** The conntrack settings the fault changes in a namespace (per network namespace in Linux). */
const CONNTRACK_KEYS = ['net.netfilter.nf_conntrack_tcp_timeout_established', 'net.netfilter.nf_conntrack_tcp_loose'] as const;

function readSysctls(ns: string): Record<string, string> {
  return Object.fromEntries(CONNTRACK_KEYS.map((k) => [k, inNs(ns, ['sysctl', '-n', k]).stdout.trim()]));
}

function writeSysctls(ns: string, values: Record<string, string | number>): void {
  inNs(ns, ['sysctl', '-q', '-w', ...Object.entries(values).map(([k, v]) => `${k}=${v}`)]);
}

/** The first tenant that may open a tunnel to a lab name on 443, and that name. */
function tunnelTarget(topo: LabTopology): { tenant: LabTenant; host: string } {
  for (const t of topo.tenants) {
    if (!t.tenant.connectPorts.includes(443)) continue;
    const a = t.tenant.allow;
    const host = a.any ? 'www.example.net' : (a.exact[0] ?? (a.suffixes[0] ? `www.${a.suffixes[0]}` : undefined));
    if (host && allowedByConfig(t.tenant, host)) return { tenant: t, host };
  }
  throw new Error('no tenant of the lab may open a tunnel to a lab name on port 443: the idle-timeout fault needs one');
}

/** What an idle client ends with: its outcome, or why it got no further. */
type Outcome = Exclude<IdleClientEvent, { event: 'open' }>;

interface RunningClient {
  readonly opened: Promise<void>;
  readonly finished: Promise<Outcome>;
}

function startClient(t: LabTenant, spec: IdleClientSpec): RunningClient {
  const child = spawnInNs(t.spokeNs, [process.execPath, ...nodeEntry(__dirname, 'idle-client'), JSON.stringify(spec)], {
    timeoutMs: spec.idleMs + 4 * spec.answerMs + 15_000,
  });
  child.stdin.end();
  let out = '';
  let opened: () => void = () => {};
  let failedOpen: (e: Error) => void = () => {};
  const openedP = new Promise<void>((resolve, reject) => ((opened = resolve), (failedOpen = reject)));
  const finished = new Promise<Outcome>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const events = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as IdleClientEvent);
      if (events.some((e) => e.event === 'open')) opened();
      const last = events.find((e): e is Outcome => e.event !== 'open');
      if (last) {
        if (last.event === 'failed') failedOpen(new Error(`idle client: ${last.stage}: ${last.error}`));
        resolve(last);
      }
    });
    child.once('close', () => {
      const error = child.timedOut() ? 'timed out' : `exited without a result (${out.trim().slice(0, 200)})`;
      failedOpen(new Error(`idle client ${error}`));
      resolve({ event: 'failed', stage: 'process', error });
    });
  });
  return { opened: openedP, finished };
}

/** Established connections on the proxy's tenant port, and how many of them run a keepalive timer (ss -o). */
function proxySockets(topo: LabTopology, port: number): { established: number; keepalive: number } {
  let established = 0;
  let keepalive = 0;
  for (const x of topo.proxies) {
    const lines = inNs(x.ns, ['ss', '-tnoH', 'state', 'established', `( sport = :${port} )`], { allowFail: true })
      .stdout.split('\n')
      .filter(Boolean);
    established += lines.length;
    keepalive += lines.filter((l) => l.includes('timer:(keepalive')).length;
  }
  return { established, keepalive };
}

async function reconfigureAll(plan: EgressPlan, topo: LabTopology, step: Step, overrides: LabSquidOverrides): Promise<void> {
  await Promise.all(topo.proxies.map((x) => reconfigureProxy(plan, topo, x, step, overrides)));
}

export async function runIdleTimeout(ctx: FaultContext): Promise<IdleTimeoutResult> {
  const { plan, step } = ctx;
  const { topo } = await labUp(plan, ctx.configFile, step);
  const { tenant, host } = tunnelTarget(topo);
  const idleMs = IDLE_FACTOR * LAB_IDLE_TIMEOUT_S * 1000;
  const spec: IdleClientSpec = {
    proxyHost: tenant.endpointIp,
    proxyPort: tenant.tenant.port,
    host,
    caFile: labPaths(topo.stateDir).caCert,
    idleMs,
    answerMs: 4000,
  };
  const path = [tenant.endpointNs, tenant.gatewayNs];
  const saved = path.map((ns) => [ns, readSysctls(ns)] as const);
  try {
    step(
      `emulating a ${LAB_IDLE_TIMEOUT_S} s idle timeout on the endpoint path (${path.join(', ')}: conntrack forgets idle flows, no loose pickup)`,
    );
    for (const ns of path) writeSysctls(ns, { [CONNTRACK_KEYS[0]]: LAB_IDLE_TIMEOUT_S, [CONNTRACK_KEYS[1]]: 0 });
    const k = LAB_KEEPALIVE;
    step(`proxies with keepalive ${k.idleSeconds},${k.intervalSeconds},${k.timeoutSeconds} (scaled to the emulated timeout)`);
    await reconfigureAll(plan, topo, step, { tcpKeepalive: LAB_KEEPALIVE });
    step(`opening ${TUNNELS} tunnels to ${host}:443 with the proxy's keepalive, each to idle ${idleMs / 1000} s`);
    const kept = Array.from({ length: TUNNELS }, () => startClient(tenant, spec));
    await Promise.all(kept.map((c) => c.opened));
    // The kept-alive tunnels live through this reconfigure (Squid keeps open connections), so the control's death
    // below is the idle timeout's doing, not the reconfigure's.
    step(`${tenant.tenant.name}: proxies without keepalive, for the control tunnels`);
    await reconfigureAll(plan, topo, step, { tcpKeepalive: false });
    step(`opening ${TUNNELS} control tunnels (no keepalive), each to idle ${idleMs / 1000} s`);
    const control = Array.from({ length: TUNNELS }, () => startClient(tenant, spec));
    await Promise.all(control.map((c) => c.opened));
    // A few keepalive periods on, the proxy runs a keepalive timer on each kept-alive tunnel's socket, none on the control's.
    await new Promise((r) => setTimeout(r, 2 * k.idleSeconds * 1000));
    const timers = proxySockets(topo, tenant.tenant.port).keepalive;
    step('waiting for every tunnel to idle and ask again');
    const [controlDone, keptDone] = await Promise.all([
      Promise.all(control.map((c) => c.finished)),
      Promise.all(kept.map((c) => c.finished)),
    ]);
    // The kept-alive clients have closed (their FIN reaches the proxy); the control's tunnels were reset on the
    // client side only: a second later, what is still open on the proxy is theirs.
    await new Promise((r) => setTimeout(r, 1000));
    const stale = proxySockets(topo, tenant.tenant.port).established;
    const describe = (e: Outcome) => (e.event === 'done' ? (e.error ?? 'ok') : `${e.stage}: ${e.error}`);
    const survived = keptDone.filter((e) => e.event === 'done' && e.ok).length;
    const died = controlDone.filter((e) => !(e.event === 'done' && e.ok)).length;
    return {
      fault: 'idle-timeout',
      requests: kept.length,
      failed: kept.length - survived,
      failedAfterDetect: kept.length - survived,
      detectMs: null,
      idleTimeoutSeconds: LAB_IDLE_TIMEOUT_S,
      idleSeconds: Math.min(...[...keptDone, ...controlDone].map((e) => (e.event === 'done' ? e.idleMs : idleMs))) / 1000,
      keepalive: LAB_KEEPALIVE,
      survived,
      keepaliveTimers: timers,
      control: { tunnels: control.length, died, errors: [...new Set(controlDone.map(describe))] },
      staleOnProxy: stale,
      errors: [...new Set(keptDone.filter((e) => !(e.event === 'done' && e.ok)).map(describe))],
    };
  } finally {
    for (const [ns, values] of saved) writeSysctls(ns, values);
    step('restoring the lab: its own squid.conf and conntrack settings');
    await reconfigureAll(plan, topo, step, {});
  }
}

export const idleTimeout: Fault = {
  name: 'idle-timeout',
  summary: `an idle timeout of ${LAB_IDLE_TIMEOUT_S} s on the endpoint path: idle tunnels survive ${IDLE_FACTOR}× it with the proxy's TCP keepalive, and die without it`,
  run: runIdleTimeout,
};
