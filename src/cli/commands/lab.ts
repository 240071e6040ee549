// `egresshub lab up|test|reconfigure|failover|down|demo`: the whole data path on this machine (network namespaces,
// real Squid with the generated squid.conf on every proxy of the fleet, real DNS and TLS). Progress goes to stderr;
// results are tables on stdout.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type * as App from '../../app';
import { buildPlan, DEFAULT_CONFIG_FILE, loadConfigFile, type EgressPlan } from '../../config';
import { UsageError } from '../../config';
import { DEFAULT_FAILOVER, labFailover, type FailoverResult } from '../../lab/failover';
import { requireFleet, setSupervisorSettings, supervisorSettings } from '../../lab/fleet';
import { rollingReconfigure, type RollingResult } from '../../lab/rollout';
import { DEFAULT_LOAD } from '../../lab/traffic';
import { describeRouting } from '../../lab/daemons';
import { checkLabHost, LabNeedsRootError, labDown, labUp, requireRunningLab, type Step } from '../../lab/lab';
import { labReconfigure } from '../../lab/reconfigure';
import { labPaths, readState } from '../../lab/state';
import { LOAD_LIMITS } from '../../lab/load';
import { SUPERVISOR_LIMITS, type SupervisorSettings } from '../../lab/supervisor';
import { acquireLabLock, labLockHolder, processStart } from '../../lab/lock';
import { accessLogMarks, checkAccessLog, runMatrix, type MatrixRow } from '../../lab/matrix';
import { labReplace } from '../../lab/replace';
import { curlIn, proxyRefusal } from '../../lab/curl';
import { INTERNET } from '../../lab/topology';
import { FAULTS } from '../../lab/faults';
import type { CommandContext, CommandSpec } from '../command';
import { addConfigOption } from '../options';
import type { Printer } from '../printer';

const EXAMPLE_CONFIG = resolve(__dirname, '../../../examples/egresshub.yaml');

/** ./egresshub.yaml when it exists, else the shipped example: the lab must work on a fresh clone. */
export function labConfigFile(opts: Record<string, unknown>): string {
  if (typeof opts.config === 'string') return opts.config;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : EXAMPLE_CONFIG;
}

/** The shared --config; without ./egresshub.yaml the lab runs the shipped example (lab summary says so). */
const withConfig = (cmd: Command) => addConfigOption(cmd);

/**
 * Commands that act on the running lab use the config it was built from; a --config that names another
 * file is refused rather than silently ignored.
 */
function checkRunningConfig(opts: Record<string, unknown>): void {
  if (typeof opts.config !== 'string') return;
  const running = readState()?.config;
  if (running !== undefined && resolve(opts.config) !== running) {
    throw new UsageError(
      `the lab is up with ${running}, not ${opts.config}; failover uses the running lab's config: run \`egresshub lab up --config ${opts.config}\` first (after \`lab down\`), or drop --config`,
    );
  }
}

/** --probe-interval / --unhealthy-threshold / --healthy-threshold: the supervisor's timings (docs/ha.md). */
const withSupervisor = (cmd: Command) =>
  cmd
    .option(
      '--probe-interval <ms>',
      `how often the supervisor probes every proxy (${SUPERVISOR_LIMITS.intervalMs.join('–')} ms; default 2000)`,
    )
    .option('--unhealthy-threshold <n>', 'failed probes in a row before a proxy is withdrawn (default 3)')
    .option('--healthy-threshold <n>', 'good probes in a row before it takes connections again (default 2)');

function supervisorOptions(opts: Record<string, unknown>): Partial<SupervisorSettings> {
  const n = (k: string, name: string) => {
    const text = opts[k];
    if (typeof text !== 'string') return undefined;
    const v = Number(text);
    if (!Number.isInteger(v)) throw new UsageError(`${name} must be a whole number (got ${text})`);
    return v;
  };
  const out: Partial<Record<keyof SupervisorSettings, number>> = {
    intervalMs: n('probeInterval', '--probe-interval'),
    unhealthyThreshold: n('unhealthyThreshold', '--unhealthy-threshold'),
    healthyThreshold: n('healthyThreshold', '--healthy-threshold'),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

/** --clients N (at most LOAD_LIMITS.concurrency) and --seconds N (the load's cap in time). */
function loadOptions(opts: Record<string, unknown>) {
  const text = typeof opts.clients === 'string' ? opts.clients : String(DEFAULT_LOAD.clients);
  const clients = Number(text);
  if (!Number.isInteger(clients) || clients < 1 || clients > LOAD_LIMITS.concurrency) {
    throw new UsageError(`--clients must be a whole number from 1 to ${LOAD_LIMITS.concurrency} (got ${text})`);
  }
  return { ...DEFAULT_LOAD, clients, tenant: typeof opts.tenant === 'string' ? opts.tenant : undefined };
}

const withLoad = (cmd: Command) =>
  cmd
    .option('--tenant <name>', 'the tenant the load goes through (default: the first that allows plain HTTP)')
    .option('--clients <n>', `concurrent clients of the load, each a new connection per request (default ${DEFAULT_LOAD.clients})`);

function load(opts: Record<string, unknown>): { file: string; plan: EgressPlan } {
  const file = labConfigFile(opts);
  return { file, plan: buildPlan(loadConfigFile(file)) };
}

/** Tears the lab down if the process is interrupted while `work` runs (Ctrl-C during up/test/demo). */
async function teardownOnSignal<T>(step: Step, work: () => Promise<T>): Promise<T> {
  const onSignal = (sig: NodeJS.Signals) => {
    step(`${sig}: tearing the lab down`);
    // Then die of the same signal (its handler is gone: `once`), so the shell sees an interrupted command
    // (exit 130 for SIGINT) without the command calling process.exit.
    void labDown(step).finally(() => process.kill(process.pid, sig));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function printMatrix(printer: Printer, rows: readonly MatrixRow[]): void {
  const mark = (r: MatrixRow, k: 'curl' | 'fetch' | 'raw') => {
    const g = r.got[k];
    if (!g) return '';
    return g === r.case.expected ? g : printer.bad(g);
  };
  printer.table(
    ['tenant', 'case', 'request', 'expected', 'curl', 'fetch', 'raw', 'pass'],
    rows.map((r) => [
      r.tenant,
      r.case.title,
      r.case.request,
      r.case.expected,
      mark(r, 'curl'),
      mark(r, 'fetch'),
      mark(r, 'raw'),
      r.pass ? printer.ok('✓') : printer.bad('✗'),
    ]),
  );
}

/** Runs the matrix on a lab that is up; returns the exit code (1 on any mismatch). */
export function runLabTest(ctx: CommandContext, plan: EgressPlan, topo: Awaited<ReturnType<typeof labUp>>['topo']): number {
  const { printer } = ctx;
  const from = accessLogMarks(topo);
  const started = Date.now();
  const rows = runMatrix(topo, (t) =>
    printer.step(`matrix for ${t.tenant.name}: spoke ${t.spokeNs} ${t.clientIp} → endpoint ${t.endpointIp}:${t.tenant.port}`),
  );
  const logs = checkAccessLog(topo, rows, from);
  const failed = rows.filter((r) => !r.pass);
  printer.data({
    config: plan.name,
    rows: rows.map((r) => ({ tenant: r.tenant, case: r.case.id, expected: r.case.expected, got: r.got, pass: r.pass, details: r.details })),
    accessLog: logs,
  });
  printMatrix(printer, rows);
  printer.table(
    ['tenant', 'requests that reached squid', 'access-log lines', 'wrong tenant', 'pass'],
    logs.map((l) => [l.tenant, l.requests, l.lines, l.mislabelled, l.pass ? printer.ok('✓') : printer.bad('✗')]),
  );
  for (const r of failed) printer.warn(`${r.tenant} / ${r.case.id}: expected ${r.case.expected}; ${JSON.stringify(r.details)}`);
  const ok = failed.length === 0 && logs.every((l) => l.pass);
  const clients = rows.reduce((n, r) => n + Object.keys(r.got).length, 0);
  printer.line(
    ok
      ? printer.ok(
          `✓ ${rows.length} cases (${clients} client requests) as expected for ${plan.tenants.length} tenants in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        )
      : printer.bad(
          `✗ ${failed.length} of ${rows.length} cases failed${logs.every((l) => l.pass) ? '' : '; the access log does not match the requests'}`,
        ),
  );
  return ok ? 0 : 1;
}

const up: CommandSpec = {
  name: 'up',
  summary: 'build the lab (idempotent): namespaces, NAT, DNS, web servers and Squid with the generated squid.conf',
  configure: (cmd) => withSupervisor(withConfig(cmd)),
  run: async (ctx, opts) => {
    const { file, plan } = load(opts);
    const step = (s: string) => ctx.printer.step(s);
    const { topo, reused } = await teardownOnSignal(step, () => labUp(plan, file, step));
    const settings = supervisorOptions(opts);
    if (Object.keys(settings).length > 0) setSupervisorSettings(topo, settings);
    ctx.printer.data({
      up: true,
      reused,
      config: file,
      namespaces: topo.tenants.length * 3 + 3 + topo.proxies.length,
      proxies: topo.proxies.map((x) => ({ id: x.id, ip: x.ip, namespace: x.ns })),
      routing: topo.routing,
      supervisor: supervisorSettings(topo),
    });
    const s = supervisorSettings(topo);
    ctx.printer.line(
      `${ctx.printer.ok('✓')} lab ${reused ? 'already ' : ''}up for ${file}: ${topo.proxies.map((x) => `${x.id} ${x.ip} (${x.ns})`).join(', ')}`,
    );
    if (topo.proxies.length > 1) {
      ctx.printer.line(
        `  ${describeRouting(topo)}; supervisor probes every ${s.intervalMs} ms, withdraws after ${s.unhealthyThreshold} failures, reinstates after ${s.healthyThreshold} successes`,
      );
    }
    ctx.printer.table(
      ['tenant', 'proxy URL', 'spoke namespace', 'spoke CIDR', 'client', 'endpoint', 'gateway (what squid sees)'],
      topo.tenants.map((t) => [
        t.tenant.name,
        `http://${t.proxyHost}:${t.tenant.port}`,
        t.spokeNs,
        t.vpcCidr,
        t.clientIp,
        `${t.endpointIp}:${t.tenant.port}`,
        t.gatewayIp,
      ]),
    );
    return 0;
  },
};

const test: CommandSpec = {
  name: 'test',
  summary: 'run the policy matrix (curl, Node fetch, raw requests) from every spoke; exit 1 on any mismatch',
  configure: (cmd) => withConfig(cmd).option('--down', 'tear the lab down afterwards'),
  run: async (ctx, opts) => {
    const { file, plan } = load(opts);
    const step = (s: string) => ctx.printer.step(s);
    return teardownOnSignal(step, async () => {
      try {
        const { topo } = await labUp(plan, file, step);
        return runLabTest(ctx, plan, topo);
      } finally {
        if (opts.down) await labDown(step);
      }
    });
  },
};

const down: CommandSpec = {
  name: 'down',
  summary: 'remove every lab namespace, process and file (safe on a half-built lab)',
  configure: (cmd) =>
    cmd.option('--force', 'also when another live egresshub run holds the lab: stop that run first (SIGTERM, then SIGKILL)'),
  run: async (ctx) => {
    const r = await labDown((s) => ctx.printer.step(s));
    ctx.printer.data({ down: true, ...r });
    ctx.printer.line(`${ctx.printer.ok('✓')} lab down: ${r.namespaces} namespaces and ${r.processes} processes removed`);
    return 0;
  },
};

const reconfigure: CommandSpec = {
  name: 'reconfigure',
  summary: "apply a changed config's policy to the running lab's Squid without a restart (squid -k reconfigure, as on the hub)",
  configure: (cmd) => withLoad(withConfig(cmd)).option('--no-load', 'with 2+ proxies: roll the change without a load'),
  run: async (ctx, opts) => {
    const { file, plan } = load(opts);
    const step = (s: string) => ctx.printer.step(s);
    if (requireRunningLab().proxies.length < 2) {
      // One proxy: nothing to fail over to, so a plain reconfigure (new connections refused briefly; docs/policy.md).
      const r = await labReconfigure(plan, step);
      ctx.printer.data({ reconfigured: true, rolling: false, config: file, ...r });
      ctx.printer.line(`${ctx.printer.ok('✓')} squid runs the policy of ${file}: listening on ${r.ports.join(', ')} after ${r.ms} ms`);
      return 0;
    }
    requireFleet();
    const r = await rollingReconfigure(plan, step, opts.load === false ? undefined : loadOptions(opts));
    ctx.printer.data({ reconfigured: true, rolling: true, config: file, ...r });
    printRolling(ctx.printer, file, r);
    return (r.load?.failed ?? 0) === 0 ? 0 : 1;
  },
};

const demo: CommandSpec = {
  name: 'demo',
  summary: 'a narrated tour: two tenants with identical CIDRs through one proxy, their log lines, the CloudFormation; then down',
  configure: withConfig,
  run: async (ctx, opts) => {
    const { printer } = ctx;
    checkLabHost();
    const { file, plan } = load(opts);
    const step = (s: string) => printer.step(s);
    return teardownOnSignal(step, async () => {
      try {
        const { topo } = await labUp(plan, file, step);
        printer.line(
          printer.bold(
            `egresshub lab: ${plan.tenants.length} project VPCs, a hub of ${topo.proxies.length === 1 ? 'one Squid proxy' : `${topo.proxies.length} Squid proxies`} (${file})`,
          ),
        );
        if (topo.proxies.length > 1)
          printer.line(`Proxies ${topo.proxies.map((x) => `${x.id} ${x.ip}`).join(', ')}; ${describeRouting(topo)}.`);
        printer.table(
          ['tenant', 'spoke VPC', 'client', 'its proxy', 'policy'],
          topo.tenants.map((t) => [
            t.tenant.name,
            t.vpcCidr,
            t.clientIp,
            `http://${t.proxyHost}:${t.tenant.port}`,
            t.tenant.allow.any
              ? '* (any public name)'
              : [...t.tenant.allow.exact, ...t.tenant.allow.suffixes.map((s) => `*.${s}`)].join(', '),
          ]),
        );
        const same = new Set(topo.tenants.map((t) => `${t.vpcCidr} ${t.clientIp}`)).size === 1;
        printer.line(
          same ? 'Every spoke has the same CIDR and the same client address: no routing could tell them apart. The port can.' : '',
        );
        const from = readLog(topo);
        for (const t of topo.tenants) {
          const allowed = t.tenant.allow.any ? 'www.example.net' : (t.tenant.allow.exact[0] ?? `www.${t.tenant.allow.suffixes[0]!}`);
          const targets: { label: string; url: string; args?: string[] }[] = [
            { label: `https://${allowed}/`, url: `https://${allowed}/` },
            { label: 'https://www.example.info/', url: 'https://www.example.info/' },
            // Domain fronting: CONNECT to an allowed name, then a ClientHello for another site.
            {
              label: `CONNECT ${allowed}, SNI www.example.info`,
              url: 'https://www.example.info/',
              args: ['-k', '--connect-to', `www.example.info:443:${allowed}:443`],
            },
            { label: 'http://169.254.169.254/latest/meta-data/', url: 'http://169.254.169.254/latest/meta-data/' },
          ];
          for (const { label, url, args = [] } of targets) {
            const r = curlIn(t.spokeNs, url, { proxy: `http://${t.proxyHost}:${t.tenant.port}`, caCert: labPaths().caCert, args });
            const refusal = proxyRefusal(r);
            const verdict =
              r.code === '200'
                ? printer.ok('reached the internet')
                : refusal === '403'
                  ? printer.bad('refused by the proxy (403)')
                  : refusal === '407'
                    ? printer.bad('CONNECT refused by the proxy (407)')
                    : refusal
                      ? printer.bad('tunnel closed at the ClientHello (SNI check)')
                      : `curl exit ${r.exit}`;
            printer.line(`  ${t.tenant.name.padEnd(12)} ${t.clientIp} → ${label.padEnd(50)} ${verdict}`);
          }
        }
        printer.line('');
        printer.line(printer.bold('Squid access log (one line per request, tenant from the listener port):'));
        for (const l of readLog(topo).slice(from.length)) printer.line(`  ${l}`);
        printer.line(
          `client= is the tenant's resource gateway (${topo.tenants.map((t) => t.gatewayIp).join(', ')}), never the overlapping ${topo.tenants[0]?.clientIp ?? ''}: tenant= comes from the listener port.`,
        );
        const outDir = mkdtempSync(join(tmpdir(), 'egresshub-demo-cdk-'));
        step(`synthesizing CloudFormation for the same config into ${outDir}`);
        // Loaded only here: aws-cdk-lib takes seconds to import, and the other lab commands never need it.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { synthesize } = require('../../app') as typeof App;
        const { stacks } = synthesize(plan, outDir);
        printer.line('');
        printer.line(printer.bold('The same config as CloudFormation (what `npx cdk deploy` would create):'));
        printer.table(
          ['stack', 'resources', 'template'],
          stacks.map((s) => [s.stackName, s.resources, s.file]),
        );
        printer.line(`Internet here is emulated on ${INTERNET.webIp} (documentation range); nothing left this machine.`);
        return 0;
      } finally {
        await labDown(step);
      }
    });
  },
};

function printRolling(printer: Printer, file: string, r: RollingResult): void {
  const withLoad = r.load !== undefined;
  printer.table(
    ['proxy', 'drain → reconfigure', 'reconfigure → listening', 'undrain → healthy', 'total', ...(withLoad ? ['requests', 'failed'] : [])],
    r.steps.map((s) => [
      s.proxy,
      `${s.drainMs} ms`,
      `${s.reconfigureMs} ms`,
      `${s.rejoinMs} ms`,
      `${(s.totalMs / 1000).toFixed(1)} s`,
      ...(withLoad ? [s.requests ?? 0, (s.failed ?? 0) === 0 ? '0' : printer.bad(String(s.failed))] : []),
    ]),
  );
  const loadText = r.load
    ? `; load ${r.load.tenant} → ${r.load.url}: ${r.load.requests} requests, ${r.load.failed === 0 ? '0 failed' : printer.bad(`${r.load.failed} failed ${JSON.stringify(r.load.errors)}`)}`
    : '';
  const line = `every proxy runs the policy of ${file} (ports ${r.ports.join(', ')}) after a rolling reconfigure in ${(r.ms / 1000).toFixed(1)} s${loadText}`;
  printer.line(!r.load || r.load.failed === 0 ? `${printer.ok('✓')} ${line}` : `${printer.bad('✗')} ${line}`);
  printer.line(
    r.method === 'apply-script'
      ? "  each proxy ran the instances' apply script (src/hub/policy-rollout.ts; a fake `aws s3 cp` serves the new squid.conf), one at a time"
      : '  the lab drained each proxy through its health probe (nlb: the instances deregister from the NLB, which needs AWS)',
  );
  printer.line(
    `  supervisor: probe every ${r.settings.intervalMs} ms, withdraw after ${r.settings.unhealthyThreshold}, reinstate after ${r.settings.healthyThreshold} (lab emulation; docs/ha.md)`,
  );
}

function printFailover(printer: Printer, r: FailoverResult): void {
  const errors = Object.entries(r.errors)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  printer.table(
    ['figure', 'value'],
    [
      ['load', `${r.clients} clients, ${r.tenant} → ${r.url}, a new connection per request`],
      [r.kind === 'instance' ? 'lost (link down + SIGKILL squid)' : 'killed (SIGKILL squid)', r.killed],
      ['new connections then go to', r.failedOverTo.join(', ')],
      ['kill → gateways switched (detection)', `${r.detectMs} ms`],
      ['kill → first successful new request', `${r.firstSuccessMs} ms`],
      ['kill → sustained success (after the last failure)', `${r.sustainedMs} ms`],
      ['requests', r.requests],
      ['failed', r.failed === 0 ? '0' : `${r.failed} (${errors})`],
      ['  in flight at the kill / started before the switch', `${r.inFlightAtKill} / ${r.startedInWindow}`],
      ['failed after the switch', r.failedAfterSwitch === 0 ? '0' : printer.bad(String(r.failedAfterSwitch))],
      [`restart → ${r.killed} listening`, `${r.rejoin.restartMs} ms`],
      [`listening → ${r.killed} takes new connections again`, `${r.rejoin.rejoinMs} ms`],
      [
        'requests / failed from the restart on',
        `${r.rejoin.requests} / ${r.rejoin.failed === 0 ? '0' : printer.bad(String(r.rejoin.failed))}`,
      ],
      [
        'supervisor (lab emulation)',
        `probe every ${r.settings.intervalMs} ms, withdraw after ${r.settings.unhealthyThreshold}, reinstate after ${r.settings.healthyThreshold}`,
      ],
    ],
  );
  const ok = r.failedAfterSwitch === 0 && r.rejoin.failed === 0;
  const text = `${r.killed} killed: ${r.failed} of ${r.requests} requests failed, all before the switch at ${r.detectMs} ms; recovered through ${r.failedOverTo.join(', ')} (sustained after ${r.sustainedMs} ms); ${r.killed} rejoined with ${r.rejoin.failed} failures`;
  printer.line(ok ? `${printer.ok('✓')} ${text}` : `${printer.bad('✗')} ${text}`);
}

const replace: CommandSpec = {
  name: 'replace',
  summary:
    'replace every proxy as a new image or instance type does, under load: single = interruption measured, multi-az/nlb = one at a time, drained',
  configure: (cmd) =>
    withLoad(withConfig(cmd)).option(
      '--boot-seconds <s>',
      'emulated boot of each replacement before its Squid starts (default 0: the lab part only)',
    ),
  run: async (ctx, opts) => {
    checkRunningConfig(opts);
    const text = typeof opts.bootSeconds === 'string' ? opts.bootSeconds : '0';
    const bootSeconds = Number(text);
    if (!Number.isFinite(bootSeconds) || bootSeconds < 0 || bootSeconds > 600)
      throw new UsageError(`--boot-seconds must be 0 to 600 (got ${text})`);
    const r = await labReplace({ ...DEFAULT_LOAD, ...loadOptions(opts), bootMs: bootSeconds * 1000 }, (s) => ctx.printer.step(s));
    ctx.printer.data(r);
    for (const s of r.steps) {
      ctx.printer.line(
        `${s.proxy}: ${s.drainMs !== undefined ? `drained in ${s.drainMs} ms, ` : ''}replaced in ${s.replaceMs} ms; ${s.failed} of ${s.requests} requests failed meanwhile`,
      );
    }
    const summary = `${r.load.failed} of ${r.load.requests} requests through ${r.load.tenant} failed${r.interruptionMs !== undefined ? `; interruption ${r.interruptionMs} ms (lab: kill → first success; add the instance boot on AWS, docs/ha.md)` : ''}`;
    const ok = r.mode === 'single' || r.load.failed === 0;
    ctx.printer.line(ok ? `${ctx.printer.ok('✓')} ${summary}` : `${ctx.printer.bad('✗')} ${summary}`);
    return ok ? 0 : 1;
  },
};

const failover: CommandSpec = {
  name: 'failover',
  summary: 'kill the proxy that takes new connections under load; print failed requests and recovery time; restart it',
  configure: (cmd) =>
    withSupervisor(withLoad(withConfig(cmd))).option(
      '--instance',
      "lose the whole instance, not only Squid: the proxy's link goes down too, so connections to it time out instead of being refused",
    ),
  run: async (ctx, opts) => {
    const step = (s: string) => ctx.printer.step(s);
    checkRunningConfig(opts);
    const { topo } = requireFleet();
    const settings = supervisorOptions(opts);
    if (Object.keys(settings).length > 0) setSupervisorSettings(topo, settings);
    const r = await labFailover({ ...DEFAULT_FAILOVER, ...loadOptions(opts), kind: opts.instance ? 'instance' : 'squid' }, step);
    ctx.printer.data(r);
    printFailover(ctx.printer, r);
    return r.failedAfterSwitch === 0 && r.rejoin.failed === 0 ? 0 : 1;
  },
};

/** The fault called `name`, or a usage error naming them all (before the lab is touched). */
function faultNamed(name: string | undefined) {
  const f = FAULTS.find((x) => x.name === name);
  if (!f) {
    throw new UsageError(
      `unknown fault "${name ?? ''}"; the faults are: ${FAULTS.map((x) => x.name).join(', ')} (egresshub lab fault --help describes each)`,
    );
  }
  return f;
}

const faultList = () => FAULTS.map((f) => `  ${f.name.padEnd(18)} ${f.summary}`).join('\n');

const fault: CommandSpec = {
  name: 'fault',
  summary: 'break one thing on the lab under load and measure what tenants saw (docs/reliability.md); --json: one line',
  configure: (cmd) =>
    withConfig(cmd).argument('<name>', 'the fault to inject (listed below)').addHelpText('after', `\nFaults:\n${faultList()}\n`),
  run: async (ctx, opts, args) => {
    const f = faultNamed(args[0]);
    const { file, plan } = load(opts);
    const step = (s: string) => ctx.printer.step(s);
    const r = await teardownOnSignal(step, () => f.run({ plan, configFile: file, step }));
    ctx.printer.dataLine(r);
    ctx.printer.table(
      ['figure', 'value'],
      Object.entries(r).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    );
    const ok = r.failedAfterDetect === 0 && r.failed === 0;
    const text = `${r.fault}: ${r.failed} of ${r.requests} requests failed`;
    ctx.printer.line(ok ? `${ctx.printer.ok('✓')} ${text}` : `${ctx.printer.bad('✗')} ${text}`);
    return ok ? 0 : 1;
  },
};

function readLog(topo: { stateDir: string }): string[] {
  const f = labPaths(topo.stateDir).accessLog;
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
}

/** Every lab command holds the lab lock while it runs: a second run fails at once (exit 2) instead of tearing this one down. */
function locked(spec: CommandSpec): CommandSpec {
  const run = spec.run!;
  return {
    ...spec,
    run: async (ctx, opts, args) => {
      // Bad input first: it is refused whoever holds the lab.
      if (spec.name === 'fault') faultNamed(args[0]);
      if (process.getuid?.() !== 0) throw new LabNeedsRootError();
      if (spec.name === 'down' && opts.force === true) await stopHolder(ctx);
      const release = await acquireLabLock({
        wait: false,
        onTakeover: (pid) => ctx.printer.step(`taking over the lab lock of pid ${pid}, which is gone`),
      });
      try {
        return await run(ctx, opts, args);
      } finally {
        release();
      }
    },
  };
}

/** `lab down --force`: the run holding the lab is stopped (it tears nothing down itself once killed; `down` does). */
async function stopHolder(ctx: CommandContext): Promise<void> {
  const pid = labLockHolder();
  if (pid === undefined) return;
  ctx.printer.step(`stopping egresshub run ${pid}, which holds the lab`);
  const gone = async (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (processStart(pid) === undefined) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return processStart(pid) === undefined;
  };
  try {
    process.kill(pid, 'SIGTERM');
    if (!(await gone(5_000))) process.kill(pid, 'SIGKILL');
    await gone(2_000);
  } catch {
    // Gone between the check and the signal: nothing to stop.
  }
}

export const lab: CommandSpec = {
  name: 'lab',
  summary:
    'the local lab: real Squid and DNS in network namespaces, overlapping VPCs (up | test | reconfigure | failover | replace | fault | down | demo); without --config and ./egresshub.yaml it runs examples/egresshub.yaml',
  subcommands: [up, test, reconfigure, failover, replace, fault, down, demo].map(locked),
};
