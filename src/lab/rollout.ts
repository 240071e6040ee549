// The rolling policy change, measured under load: each proxy drained, reconfigured and undrained in turn, either by
// the lab or by the instances' own apply script (renderPolicyApply) run in the proxy's namespace with a fake
// `aws` (docs/ha.md).
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { failoverNameOf, type EgressPlan } from '../config';
import { fleetMode } from '../config/fleet-modes';
import { APPLY_TAG, renderPolicyApply } from '../hub/policy-rollout';
import type { LoadSample } from './load';
import { sleep, spawnInNs } from './sh';
import type { SupervisorSettings, SupervisorStatus } from './supervisor';
import type { LabProxy, LabTopology } from './topology';
import type { Step } from './lab';
import { LAB_SQUID_USER, labPaths, labSquidConf, readSupervisorStatus } from './state';
import { reconfigureProxy } from './reconfigure';
import { drain, healthOf, reactionBound, requireFleet, supervisorSettings, undrain, waitForStatus } from './fleet';
import { type LoadOptions, countBy, startLoad } from './traffic';

export interface RollingStep {
  readonly proxy: string;
  /**
   * Drain started → reconfigure: lab method, until the supervisor withdrew it (+ QUIESCE_MS); apply script, its
   * own wait (the failover name stops answering this proxy, polled every 5 s, then TTL + 5 s).
   */
  readonly drainMs: number;
  /** `squid -k reconfigure` → every listener of the new plan open. */
  readonly reconfigureMs: number;
  /** Drain file removed → healthy again (and, in failover order, primary again). */
  readonly rejoinMs: number;
  readonly totalMs: number;
  /** Load requests that started during this proxy's turn, and those that failed (with a load running). */
  readonly requests?: number;
  readonly failed?: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface RollingResult {
  readonly steps: readonly RollingStep[];
  /**
   * `apply-script`: each proxy ran the instances' own apply script (multi-az: drain through the health probe and
   * the failover name); `lab`: the lab drained, reconfigured and undrained it (nlb: the instances deregister from
   * the NLB with the AWS CLI, which the lab cannot run).
   */
  readonly method: RolloutMethod;
  readonly settings: SupervisorSettings;
  readonly load?: {
    readonly tenant: string;
    readonly url: string;
    readonly requests: number;
    readonly failed: number;
    readonly errors: Readonly<Record<string, number>>;
  };
  readonly ms: number;
  readonly ports: readonly number[];
}

/** After the supervisor withdrew a proxy, connections it admitted just before may still sit in Squid's accept queue. */
export const QUIESCE_MS = 300;

/**
 * A policy change with no refused connection: for each proxy in failover order, drain it (its health probe fails,
 * the supervisor withdraws it), wait until the supervisor no longer sends it new connections, `squid -k
 * reconfigure`, wait for its listeners, undrain and wait until it is healthy again. Squid keeps open connections
 * across a reconfigure; new ones reach only proxies that are not reconfiguring. With `load`, a bounded load runs
 * through one tenant for the whole rollout and the result counts its requests and failures per proxy.
 */
export async function rollingReconfigure(plan: EgressPlan, step: Step, load?: LoadOptions): Promise<RollingResult> {
  const { topo } = requireFleet();
  const settings = supervisorSettings(topo);
  const method = rolloutMethod(topo, plan);
  const began = Date.now();
  const running = load ? await startLoad(topo, load) : undefined;
  if (running) step(`load: ${load!.clients} clients through ${running.tenant.tenant.name} → ${running.url}, a new connection per request`);
  const steps: Omit<RollingStep, 'requests' | 'failed'>[] = [];
  let samples: LoadSample[] | undefined;
  try {
    for (const proxy of topo.proxies) {
      const startedAt = Date.now();
      const others = topo.proxies.filter((x) => x !== proxy);
      const now = readSupervisorStatus(topo.stateDir);
      if (!now || !others.some((x) => healthOf(now, x)?.healthy)) {
        throw new Error(
          `no other proxy is healthy: draining ${proxy.id} would leave no proxy for new connections; nothing was changed on it`,
        );
      }
      if (method === 'apply-script') {
        step(`${proxy.id}: the instances' apply script (src/hub/policy-rollout.ts) in ${proxy.ns}`);
        const r = await applyWithRolloutScript(plan, topo, proxy, (line) => step(`${proxy.id}: ${line}`));
        const undrainedAt = Date.now();
        await waitForStatus(topo, `${proxy.id} healthy`, (s) => healthOf(s, proxy)?.healthy === true, reactionBound(settings), undrainedAt);
        const endedAt = Date.now();
        steps.push({
          proxy: proxy.id,
          drainMs: r.drainMs,
          reconfigureMs: r.reconfigureMs,
          rejoinMs: endedAt - undrainedAt,
          totalMs: endedAt - startedAt,
          startedAt,
          endedAt,
        });
        continue;
      }
      step(`${proxy.id}: drain (the health probe fails while ${labPaths(topo.stateDir).proxy(proxy.index).drainFile} exists)`);
      drain(topo, proxy);
      let reconfigureMs = 0;
      let drainedAt = 0;
      try {
        const withdrawn = (s: SupervisorStatus) => healthOf(s, proxy)?.healthy === false && !s.active.includes(proxy.id);
        await waitForStatus(topo, `${proxy.id} withdrawn`, withdrawn, reactionBound(settings), startedAt);
        drainedAt = Date.now();
        step(
          `${proxy.id}: withdrawn after ${drainedAt - startedAt} ms; new connections go to ${readSupervisorStatus(topo.stateDir)?.active.join(', ')}`,
        );
        await sleep(QUIESCE_MS);
        reconfigureMs = await reconfigureProxy(plan, topo, proxy, step);
      } finally {
        undrain(topo, proxy);
      }
      const undrainedAt = Date.now();
      step(`${proxy.id}: listening with the new policy after ${reconfigureMs} ms; undrained, waiting until it is healthy`);
      await waitForStatus(topo, `${proxy.id} healthy`, (s) => healthOf(s, proxy)?.healthy === true, reactionBound(settings), undrainedAt);
      const endedAt = Date.now();
      steps.push({
        proxy: proxy.id,
        drainMs: drainedAt - startedAt,
        reconfigureMs,
        rejoinMs: endedAt - undrainedAt,
        totalMs: endedAt - startedAt,
        startedAt,
        endedAt,
      });
    }
    if (running) {
      // Let the last proxy's return settle under load before counting.
      await sleep(500);
      samples = await running.stop();
    }
  } finally {
    if (running && !samples) await running.stop().catch(() => []);
  }
  const failed = samples?.filter((s) => s.error) ?? [];
  const within = (s: LoadSample, a: RollingStep | (typeof steps)[number]) => s.start >= a.startedAt && s.start < a.endedAt;
  return {
    steps: steps.map((s) =>
      samples ? { ...s, requests: samples.filter((x) => within(x, s)).length, failed: failed.filter((x) => within(x, s)).length } : s,
    ),
    settings,
    method,
    load:
      running && samples
        ? { tenant: running.tenant.tenant.name, url: running.url, requests: samples.length, failed: failed.length, errors: countBy(failed) }
        : undefined,
    ms: Date.now() - began,
    ports: plan.tenants.map((t) => t.port),
  };
}

export type RolloutMethod = 'apply-script' | 'lab';

/** multi-az labs run the instances' apply script; nlb labs drain through the supervisor (see RollingResult.method). */
export function rolloutMethod(topo: LabTopology, plan: EgressPlan): RolloutMethod {
  return topo.routing === 'failover' && fleetMode(plan.hub.proxy.mode).drain === 'health' ? 'apply-script' : 'lab';
}

/** The lab's stand-in bucket: `s3://LAB_BUCKET/<key>` is served from `<state>/s3/<key>` by the fake `aws`. */
const LAB_BUCKET = 'egresshub-lab-policy';

/**
 * A directory whose `aws` is src/lab/scripts/fake-aws.sh, a fake AWS CLI for the apply script: only
 * `aws s3 cp [--region R] [--only-show-errors] s3://LAB_BUCKET/KEY DEST`, copied from the lab's state directory
 * (which it reads from the environment, fakeAwsEnv). Anything else fails loudly, so a script that starts needing
 * another call is noticed here first.
 */
function writeFakeAws(stateDir: string): string {
  const dir = join(stateDir, 'fake-aws');
  mkdirSync(join(stateDir, 's3'), { recursive: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(__dirname, 'scripts', 'fake-aws.sh'), join(dir, 'aws'));
  chmodSync(join(dir, 'aws'), 0o755);
  return dir;
}

/** The environment fake-aws.sh reads: the lab bucket's name and the directory that holds its objects. */
function fakeAwsEnv(stateDir: string): string[] {
  return [`FAKE_S3_BUCKET=${LAB_BUCKET}`, `FAKE_S3_DIR=${join(stateDir, 's3')}`];
}

/** The apply script's own bounds in the lab: the longest drain (and undrain) wait, and the wait for listeners. */
const LAB_APPLY = { maxDrainSeconds: 60, listenSeconds: 20 } as const;
/**
 * The longest the lab lets the apply script run on one proxy: above the sum of its own waits (drain, settle, the
 * reconfigure's and the ports' listen waits, undrain), so that a slow step ends with the script's own message.
 */
export const APPLY_SCRIPT_TIMEOUT_MS = (2 * LAB_APPLY.maxDrainSeconds + 2 * LAB_APPLY.listenSeconds + 30) * 1000;

/**
 * Runs `renderPolicyApply` (the script State Manager runs on each proxy) inside the proxy's namespace, with the
 * instance's files under the proxy's lab directory, the new squid.conf as an "S3 object" of the fake `aws`, and
 * the failover name answered by the supervisor (TTL 0: the lab's hosts file caches nothing). Resolves when the
 * script exits 0 (it has undrained the proxy); `drainMs` = start → "reconfiguring", `reconfigureMs` = → "applied".
 */
export async function applyWithRolloutScript(
  plan: EgressPlan,
  topo: LabTopology,
  proxy: LabProxy,
  onLine: (line: string) => void,
): Promise<{ drainMs: number; reconfigureMs: number; output: string[] }> {
  const fleet = plan.hub.proxy;
  // The apply script drains through the failover name: a multi-az plan's (rolloutMethod picks this only then).
  const failoverName = failoverNameOf(fleet);
  if (!failoverName) throw new Error(`the apply script drains through the multi-az failover name; this plan is ${fleet.mode}`);
  const files = labPaths(topo.stateDir).proxy(proxy.index);
  const instance = join(files.dir, 'instance');
  mkdirSync(instance, { recursive: true });
  const paths = {
    squidConf: files.squidConf,
    env: join(instance, 'proxy.env'),
    bootstrapped: join(instance, 'bootstrapped'),
    sysctl: join(instance, '90-egresshub.conf'),
    stateDir: instance,
    // The certificate startSquid made for this proxy, readable by the lab's Squid user.
    peekCert: files.peekCert,
    squidGroup: LAB_SQUID_USER,
    // The lab's squid.conf names the package's own log daemon; these stay unused (no proxy files in a lab policy).
    logDaemon: join(instance, 'egresshub-logd'),
    agentConfig: join(instance, 'cloudwatch-agent.json'),
  };
  writeFileSync(paths.env, `REGION='lab'\nINSTANCE_ID='${proxy.ns}'\nLISTENER_IP='${proxy.ip}'\n`);
  writeFileSync(paths.bootstrapped, '');
  const key = `proxy-${proxy.index}/squid.conf`;
  const fakeAws = writeFakeAws(topo.stateDir);
  // Each proxy's own host paths (logs, pid): on AWS every instance reads the same object.
  writeFileSync(join(topo.stateDir, 's3', key.replace('/', '-')), labSquidConf(plan, topo.stateDir, proxy.index));
  const script = renderPolicyApply({
    drain: 'health',
    drainFile: files.drainFile,
    failoverName: { name: failoverName.name, ttlSeconds: 0 },
    ...LAB_APPLY,
    paths,
  });
  const env = [
    `PATH=${fakeAws}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
    ...fakeAwsEnv(topo.stateDir),
    `POLICY_OBJECT=s3://${LAB_BUCKET}/${key.replace('/', '-')}`,
  ];
  const started = Date.now();
  const child = spawnInNs(proxy.ns, ['env', ...env, 'bash', '-c', script], { timeoutMs: APPLY_SCRIPT_TIMEOUT_MS });
  child.stdin.end();
  const output: string[] = [];
  const at: Record<string, number> = {};
  let partial = '';
  const onData = (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      output.push(line);
      if (line.startsWith(APPLY_TAG)) {
        const text = line.slice(APPLY_TAG.length).trim();
        if (/^reconfiguring squid/.test(text)) at.reconfiguring ??= Date.now();
        if (/^applied /.test(text)) at.applied ??= Date.now();
        onLine(text);
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', (d: Buffer) => output.push(...d.toString().split('\n').filter(Boolean)));
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  if (child.timedOut()) {
    throw new Error(
      `the apply script did not finish on ${proxy.id} within ${APPLY_SCRIPT_TIMEOUT_MS / 1000} s (ended with its process group):\n${output.slice(-20).join('\n')}`,
    );
  }
  if (code !== 0) {
    throw new Error(`the apply script failed on ${proxy.id} (exit ${code}):\n${output.slice(-20).join('\n')}`);
  }
  const reconfiguring = at.reconfiguring ?? started;
  return { drainMs: reconfiguring - started, reconfigureMs: (at.applied ?? reconfiguring) - reconfiguring, output };
}
