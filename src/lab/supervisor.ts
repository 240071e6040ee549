// The lab's stand-in for what picks a proxy on AWS: Route 53 failover records driven by per-proxy health, plus
// the resource gateway re-resolving the proxy name (multi-az), or an NLB spreading over healthy targets (nlb).
// Every probe interval it runs the instances' own health probe and egress check inside each proxy namespace (a proxy
// whose egress fails while another's works counts as failing; when none has egress, none does: fail open, as the
// instances' health publisher decides from the hub's egress series), and when the set of
// proxies to use changes it swaps the nftables map every tenant gateway DNATs new connections through, in one
// nft transaction per gateway: established connections keep their conntrack mapping, as flows do on AWS.
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
// The health probe run inside each proxy namespace is the instances' own (`proxy_healthy PORT DRAIN_FILE`, then
// `egress_ok HOST PORT`), never a copy, so the lab's failover reacts to exactly what their health metric reports.
import { EGRESS_CHECK_SECONDS, EGRESS_OK, PROBE_TIMEOUT_SECONDS, PROXY_HEALTHY } from '../hub/health-probe';
import type { LabRouting } from './topology';

/**
 * The emulation's timings, explicit because every failover figure the lab reports depends on them. A proxy is
 * withdrawn after `unhealthyThreshold` failed probes in a row and reinstated after `healthyThreshold` good ones,
 * so detection takes between (unhealthyThreshold - 1) and unhealthyThreshold probe intervals plus one probe.
 */
export interface SupervisorSettings {
  readonly intervalMs: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
}

/**
 * Defaults: 2 s × 3 → a dead proxy is withdrawn 4–6 s after it dies. Slow enough that a single dead proxy is
 * visible for a few seconds (the doctor's "proxy down" check), fast enough for tests; AWS is far slower
 * (docs/ha.md).
 */
export const DEFAULT_SUPERVISOR_SETTINGS: SupervisorSettings = { intervalMs: 2000, unhealthyThreshold: 3, healthyThreshold: 2 };

/** Bounds for settings given on the command line: the supervisor must never spin or stall. */
export const SUPERVISOR_LIMITS = { intervalMs: [200, 60_000], threshold: [1, 10] } as const;

/** Slots of the gateways' DNAT map (`numgen inc mod SLOTS`): 12 divides evenly over 1, 2, 3 or 4 proxies. */
export const MAP_SLOTS = 12;
/** Failed probes before a proxy's first good one do not count for this long after the supervisor starts. */
const STARTUP_GRACE_MS = 30_000;
export const GATEWAY_MAP = { table: 'eh', map: 'proxy' } as const;

export interface SupervisorSpec {
  readonly routing: LabRouting;
  /** In failover order: the first is the primary. */
  readonly proxies: readonly { readonly id: string; readonly ns: string; readonly ip: string; readonly drainFile: string }[];
  /** Namespaces of the tenants' gateways, whose maps it keeps current. */
  readonly gateways: readonly string[];
  /** The tenant port the probe asks Squid on (the first tenant's). */
  readonly probePort: number;
  /**
   * multi-az: the failover name (plan.hub.proxy.failoverName.name) and the hosts files of the proxy namespaces.
   * The supervisor keeps the name answering the first proxy new connections go to, as the failover record does,
   * so the instances' policy-apply script sees its drain take effect (docs/ha.md).
   */
  readonly failoverName?: { readonly name: string; readonly hostsFiles: readonly string[] };
  /** The egress check's target (plan.hub.proxyHealth.egress, answered by the emulated internet); none: no check. */
  readonly egress?: { readonly host: string; readonly port: number };
  readonly settingsFile: string;
  readonly statusFile: string;
  readonly eventsFile: string;
}

export interface ProxyHealth {
  readonly id: string;
  readonly ip: string;
  readonly healthy: boolean;
  readonly okStreak: number;
  readonly failStreak: number;
  readonly lastProbe?: {
    readonly at: number;
    readonly ok: boolean;
    readonly ms: number;
    readonly reason: string;
    /** Squid answered and the proxy is not draining (proxy_healthy). */
    readonly squid?: boolean;
    /** Its own egress check passed (undefined: not checked, Squid did not answer or there is no check). */
    readonly egress?: boolean;
  };
}

/**
 * The emulated "no proxy has egress" alarm (src/hub/observability/hub-observability.ts, NoProxyEgressAlarm): ALARM after `unhealthyThreshold`
 * rounds in a row in which no proxy in service passed its egress check, OK at the first round one does.
 */
export interface EgressAlarm {
  readonly state: 'OK' | 'ALARM';
  /** When it took this state (ms since the epoch). */
  readonly since: number;
  /** Rounds in a row without any proxy's egress. */
  readonly rounds: number;
}

export interface SupervisorStatus {
  readonly pid: number;
  /** When the last probe round finished (ms since the epoch). */
  readonly at: number;
  readonly rounds: number;
  readonly settings: SupervisorSettings;
  readonly proxies: readonly ProxyHealth[];
  /** Ids of the proxies new connections go to, in failover order. */
  readonly active: readonly string[];
  /** With an egress check. */
  readonly egressAlarm?: EgressAlarm;
}

/** One change of the gateways' maps: `at` is when every gateway's map had been swapped. */
export interface SupervisorEvent {
  readonly at: number;
  readonly active: readonly string[];
  readonly reason: string;
}

/**
 * Which proxies take new connections. failover: the first healthy one in order, as Route 53 answers the primary
 * record while it is healthy; spread: every healthy one. With none healthy both fall back to all of them (failover:
 * the primary), as Route 53 does when every record of a failover pair is unhealthy, and an NLB whose targets are
 * all unhealthy ("fails open").
 */
export function routeTo<P extends { readonly healthy: boolean }>(routing: LabRouting, proxies: readonly P[]): P[] {
  const healthy = proxies.filter((p) => p.healthy);
  const pool = healthy.length > 0 ? healthy : proxies;
  return routing === 'failover' ? pool.slice(0, 1) : [...pool];
}

/** One round's raw result per proxy: Squid's answer, and its own egress check when Squid answered. */
export interface RoundProbe {
  readonly squid: boolean;
  readonly egress?: boolean;
}

/**
 * Whether each proxy passes the round, as its health publisher decides (publish-health.sh): Squid answers and either
 * its egress works or no other proxy in service has egress (fail open: withdrawing it would send tenants nowhere
 * better). Without an egress check (`egress` undefined) Squid's answer alone counts.
 */
export function passes(round: readonly RoundProbe[]): boolean[] {
  const withEgress = round.map((r) => r.squid && r.egress !== false);
  return round.map((r, i) => {
    if (!r.squid) return false;
    if (r.egress !== false) return true;
    return !withEgress.some((ok, j) => j !== i && ok);
  });
}

/** The next state of the emulated no-egress alarm after a round (`anyEgress`: some proxy in service had egress). */
export function nextEgressAlarm(prev: EgressAlarm, anyEgress: boolean, threshold: number, now: number): EgressAlarm {
  const rounds = anyEgress ? 0 : prev.rounds + 1;
  const state = rounds >= threshold ? 'ALARM' : anyEgress ? 'OK' : prev.state;
  return { state, since: state === prev.state ? prev.since : now, rounds };
}

/** The nft transaction that points every slot of a gateway's map at `ips` round-robin; atomic as one `nft -f`. */
export function gatewayMapScript(ips: readonly string[]): string {
  const elements = Array.from({ length: MAP_SLOTS }, (_, i) => `${i} : ${ips[i % ips.length]!}`).join(', ');
  return `flush map ip ${GATEWAY_MAP.table} ${GATEWAY_MAP.map}\nadd element ip ${GATEWAY_MAP.table} ${GATEWAY_MAP.map} { ${elements} }\n`;
}

export function readSettings(file: string): SupervisorSettings {
  try {
    return { ...DEFAULT_SUPERVISOR_SETTINGS, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<SupervisorSettings>) };
  } catch {
    return DEFAULT_SUPERVISOR_SETTINGS;
  }
}

function exec(
  argv: readonly string[],
  input: string | undefined,
  timeoutMs: number,
): Promise<{ ok: boolean; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'],
      timeout: timeoutMs,
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => resolve({ ok: false, code: null, stderr: e.message }));
    child.on('close', (code, sig) =>
      resolve({ ok: code === 0, code, stderr: stderr.trim() || (sig ? `killed by ${sig}` : `exit ${code}`) }),
    );
    if (child.stdin) {
      // A child that exits before reading its input must not take the supervisor down with an EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
  });
}

/**
 * `proxy_healthy PORT DRAIN_FILE`, then (with a target) `egress_ok HOST PORT`, inside the proxy's namespace, as the
 * instance's health timer runs them. Exit 0: both pass; 1: Squid did not answer (or draining); 3: egress failed.
 */
export function probeArgv(ns: string, port: number, drainFile: string, egress?: { host: string; port: number }): string[] {
  const script = egress
    ? `${PROXY_HEALTHY}\n${EGRESS_OK}\nproxy_healthy "$0" "$1" || exit 1\negress_ok "$2" "$3" || exit 3`
    : `${PROXY_HEALTHY}\nproxy_healthy "$0" "$1"`;
  return [
    'ip',
    'netns',
    'exec',
    ns,
    'bash',
    '--norc',
    '-c',
    script,
    String(port),
    drainFile,
    ...(egress ? [egress.host, String(egress.port)] : []),
  ];
}

/** The longest one probe may take before the supervisor counts it failed. */
export const PROBE_LIMIT_MS = (PROBE_TIMEOUT_SECONDS + EGRESS_CHECK_SECONDS + 2) * 1000;

/**
 * Points the failover name at `ip` in every proxy namespace's hosts file (what `getent` reads there first). Written
 * in place: `ip netns exec` bind-mounts the file, so a rename would leave running commands on the old one. Not
 * truncated first either: a `getent` (the apply script's drain wait) reading between the truncation and the write
 * would find no answer and take the proxy for withdrawn. The text is overwritten from the start and then cut to its
 * length (the same length for the lab's proxy addresses, so a reader sees the old text or the new).
 */
function answerFailoverName(spec: SupervisorSpec, ip: string): void {
  if (!spec.failoverName) return;
  const hosts = Buffer.from(`127.0.0.1 localhost\n::1 localhost ip6-localhost\n${ip} ${spec.failoverName.name}\n`);
  for (const file of spec.failoverName.hostsFiles) {
    const fd = openSync(file, existsSync(file) ? 'r+' : 'w');
    try {
      writeSync(fd, hosts, 0, hosts.length, 0);
      ftruncateSync(fd, hosts.length);
    } finally {
      closeSync(fd);
    }
  }
}

async function supervise(spec: SupervisorSpec): Promise<never> {
  let proxies: ProxyHealth[] = spec.proxies.map((p) => ({ id: p.id, ip: p.ip, healthy: true, okStreak: 0, failStreak: 0 }));
  // `lab up` wrote the initial maps for "everything healthy".
  let active = routeTo(spec.routing, proxies).map((p) => p.id);
  let rounds = 0;
  let egressAlarm: EgressAlarm = { state: 'OK', since: Date.now(), rounds: 0 };
  answerFailoverName(spec, proxies.find((p) => p.id === active[0])!.ip);
  const seen = new Set<string>();
  const born = Date.now();
  const log = (s: string) => process.stdout.write(`${new Date().toISOString()} ${s}\n`);
  log(`supervising ${spec.proxies.map((p) => `${p.id} ${p.ip}`).join(', ')} for ${spec.gateways.length} gateways (${spec.routing})`);
  for (;;) {
    const started = Date.now();
    let settings = DEFAULT_SUPERVISOR_SETTINGS;
    try {
      settings = readSettings(spec.settingsFile);
      const raw = await Promise.all(
        spec.proxies.map(async (p) => {
          const t0 = Date.now();
          const r = await exec(probeArgv(p.ns, spec.probePort, p.drainFile, spec.egress), undefined, PROBE_LIMIT_MS);
          const squid = r.code === 0 || r.code === 3;
          const egress = spec.egress && squid ? r.code === 0 : undefined;
          return { at: Date.now(), ms: Date.now() - t0, squid, egress, stderr: r.stderr };
        }),
      );
      const pass = passes(raw);
      if (spec.egress) {
        const before = egressAlarm.state;
        egressAlarm = nextEgressAlarm(
          egressAlarm,
          raw.some((r) => r.squid && r.egress),
          settings.unhealthyThreshold,
          Date.now(),
        );
        if (egressAlarm.state !== before) log(`no-egress alarm: ${egressAlarm.state} (${raw.map((r) => r.stderr).join('; ')})`);
      }
      const results = raw.map((r, i) => ({
        at: r.at,
        ok: pass[i]!,
        ms: r.ms,
        squid: r.squid,
        egress: r.egress,
        reason: pass[i] ? (r.egress === false ? `ok, failing open (no proxy has egress: ${r.stderr})` : 'ok') : r.stderr,
      }));
      proxies = proxies.map((p, i) => {
        const probe = results[i]!;
        // Squid may still be starting when the supervisor starts: a proxy is judged from its first good probe on.
        if (!seen.has(p.id) && !probe.ok && Date.now() - born < STARTUP_GRACE_MS) return { ...p, lastProbe: probe };
        if (probe.ok) seen.add(p.id);
        const okStreak = probe.ok ? p.okStreak + 1 : 0;
        const failStreak = probe.ok ? 0 : p.failStreak + 1;
        const healthy = p.healthy ? failStreak < settings.unhealthyThreshold : okStreak >= settings.healthyThreshold;
        if (healthy !== p.healthy) log(`${p.id} is now ${healthy ? 'healthy' : 'unhealthy'} (${probe.reason})`);
        return { ...p, healthy, okStreak, failStreak, lastProbe: probe };
      });
      const next = routeTo(spec.routing, proxies);
      const nextIds = next.map((p) => p.id);
      if (nextIds.join() !== active.join()) {
        const script = gatewayMapScript(next.map((p) => p.ip));
        const applied = await Promise.all(spec.gateways.map((ns) => exec(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], script, 5000)));
        const failed = applied.filter((a) => !a.ok);
        if (failed.length > 0) {
          // Tried again next round: `active` still names what the maps held before.
          throw new Error(`swapping the gateways' maps failed: ${failed.map((f) => f.stderr).join('; ')}`);
        }
        const reason = proxies.map((p) => `${p.id}=${p.healthy ? 'healthy' : `unhealthy (${p.lastProbe?.reason ?? '?'})`}`).join(', ');
        const event: SupervisorEvent = { at: Date.now(), active: nextIds, reason };
        answerFailoverName(spec, next[0]!.ip);
        appendFileSync(spec.eventsFile, `${JSON.stringify(event)}\n`);
        log(`new connections now go to ${nextIds.join(', ')}: ${reason}`);
        active = nextIds;
      }
      rounds++;
      const status: SupervisorStatus = {
        pid: process.pid,
        at: Date.now(),
        rounds,
        settings,
        proxies,
        active,
        ...(spec.egress && { egressAlarm }),
      };
      writeFileSync(`${spec.statusFile}.tmp`, JSON.stringify(status));
      renameSync(`${spec.statusFile}.tmp`, spec.statusFile);
    } catch (e) {
      log(`round failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, started + settings.intervalMs - Date.now())));
  }
}

if (require.main === module) {
  const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as SupervisorSpec;
  process.on('SIGTERM', () => process.exit(0));
  void supervise(spec);
}
