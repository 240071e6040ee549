// `egresshub lab up|test|down|demo`: the whole data path on this machine (network namespaces, real Squid
// with the generated squid.conf, real DNS and TLS). Progress goes to stderr; the matrix is a table on stdout.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type * as App from '../../app';
import { buildPlan, DEFAULT_CONFIG_FILE, loadConfigFile, type EgressPlan } from '../../config';
import { checkLabHost, LabNeedsRootError, labDown, labPaths, labReconfigure, labUp, type Step } from '../../lab/lab';
import { acquireLabLock } from '../../lab/lock';
import { accessLogLength, checkAccessLog, runMatrix, type MatrixRow } from '../../lab/matrix';
import { inNs } from '../../lab/sh';
import { INTERNET } from '../../lab/topology';
import type { CommandContext, CommandSpec } from '../command';
import type { Printer } from '../printer';

const EXAMPLE_CONFIG = resolve(__dirname, '../../../examples/egresshub.yaml');

/** ./egresshub.yaml when it exists, else the shipped example: the lab must work on a fresh clone. */
export function labConfigFile(opts: Record<string, unknown>): string {
  if (typeof opts.config === 'string') return opts.config;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : EXAMPLE_CONFIG;
}

const withConfig = (cmd: Command) =>
  cmd.option('-c, --config <file>', `the egresshub config file (default: ./${DEFAULT_CONFIG_FILE}, else examples/egresshub.yaml)`);

function load(opts: Record<string, unknown>): { file: string; plan: EgressPlan } {
  const file = labConfigFile(opts);
  return { file, plan: buildPlan(loadConfigFile(file)) };
}

/** Tears the lab down if the process is interrupted while `work` runs (Ctrl-C during up/test/demo). */
async function teardownOnSignal<T>(step: Step, work: () => Promise<T>): Promise<T> {
  const onSignal = (sig: NodeJS.Signals) => {
    step(`${sig}: tearing the lab down`);
    void labDown(step).finally(() => process.exit(130));
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
  const from = accessLogLength(topo);
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
  configure: withConfig,
  run: async (ctx, opts) => {
    const { file, plan } = load(opts);
    const step = (s: string) => ctx.printer.step(s);
    const { topo, reused } = await teardownOnSignal(step, () => labUp(plan, file, step));
    ctx.printer.data({ up: true, reused, config: file, namespaces: topo.tenants.length * 3 + 3 });
    ctx.printer.line(`${ctx.printer.ok('✓')} lab ${reused ? 'already ' : ''}up for ${file}: squid ${topo.squidIp} in ${topo.hubNs}`);
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
  configure: (cmd) => {
    withConfig(cmd);
  },
  run: async (ctx, opts) => {
    const { file, plan } = load(opts);
    const r = await labReconfigure(plan, (s) => ctx.printer.step(s));
    ctx.printer.data({ reconfigured: true, config: file, ...r });
    ctx.printer.line(`${ctx.printer.ok('✓')} squid runs the policy of ${file}: listening on ${r.ports.join(', ')} after ${r.ms} ms`);
    return 0;
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
        printer.line(printer.bold(`egresshub lab: ${plan.tenants.length} project VPCs, one Squid hub (${file})`));
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
          const targets = [
            t.tenant.allow.any ? 'https://www.example.net/' : `https://${t.tenant.allow.exact[0] ?? `www.${t.tenant.allow.suffixes[0]!}`}/`,
            'https://www.example.info/',
            'http://169.254.169.254/latest/meta-data/',
          ];
          for (const url of targets) {
            const r = inNs(
              t.spokeNs,
              [
                'curl',
                '-s',
                '-o',
                '/dev/null',
                '--max-time',
                '8',
                '--cacert',
                labPaths().caCert,
                '-x',
                `http://${t.proxyHost}:${t.tenant.port}`,
                '-w',
                '%{http_code} %{http_connect}',
                url,
              ],
              { allowFail: true },
            );
            const [code, connect] = r.stdout.split(' ');
            const verdict =
              code === '200'
                ? printer.ok('reached the internet')
                : connect === '403' || code === '403'
                  ? printer.bad('refused by the proxy (403)')
                  : `curl exit ${r.status}`;
            printer.line(`  ${t.tenant.name.padEnd(12)} ${t.clientIp} → ${url.padEnd(42)} ${verdict}`);
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
      if (process.getuid?.() !== 0) throw new LabNeedsRootError();
      const release = await acquireLabLock({ wait: false });
      try {
        return await run(ctx, opts, args);
      } finally {
        release();
      }
    },
  };
}

export const lab: CommandSpec = {
  name: 'lab',
  summary: 'the local lab: real Squid and DNS in network namespaces, overlapping VPCs (up | test | reconfigure | down | demo)',
  subcommands: [up, test, reconfigure, down, demo].map(locked),
};
