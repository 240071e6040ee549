// Control-plane benchmark: `egresshub validate` and `synthesize()` at 10, 100, 500, 1,000 and 2,000 tenants (the default quota of resource configurations per Region).
// Each size is measured in a fresh child process (so peak RSS belongs to that size alone); a synth that
// fails (e.g. a CloudFormation limit the app refuses) is reported as a row, not a crash.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { synthesize } from '../src/app';
import { buildPlan, loadConfigFile } from '../src/config';
import { fmt, machine, machineLines, median, table } from './common';
import { manyTenantsConfig } from './gen-config';

const ROOT = resolve(__dirname, '..');
const TSX = require.resolve('tsx/cjs');
/** CloudFormation's per-stack limits (AWS-FACTS.md, "Quotas"). */
const LIMITS = { resources: 500, bytes: 1_000_000, outputs: 200 } as const;

interface StackFigures {
  readonly stackName: string;
  readonly resources: number;
  readonly outputs: number;
  readonly bytes: number;
}

/** What one child process reports. */
interface ChildResult {
  readonly mode: 'validate' | 'synth';
  readonly tenants: number;
  readonly planMs: number;
  readonly synthMs?: number;
  readonly maxRssMiB: number;
  readonly stacks?: StackFigures[];
  readonly error?: string;
}

/** Child side: load + plan (what `validate` does), then optionally synthesize; prints one JSON line. */
function child(mode: 'validate' | 'synth', file: string, tenants: number): void {
  const t0 = performance.now();
  const plan = buildPlan(loadConfigFile(file));
  const planMs = performance.now() - t0;
  const rss = () => process.resourceUsage().maxRSS / 1024;
  if (mode === 'validate') {
    process.stdout.write(JSON.stringify({ mode, tenants, planMs, maxRssMiB: rss() } satisfies ChildResult));
    return;
  }
  const out = mkdtempSync(join(tmpdir(), 'egresshub-bench-synth-'));
  const t1 = performance.now();
  try {
    const { stacks } = synthesize(plan, out);
    const synthMs = performance.now() - t1;
    const figures = stacks.map((s) => {
      const template = JSON.parse(readFileSync(s.file, 'utf8')) as { Outputs?: Record<string, unknown> };
      return { stackName: s.stackName, resources: s.resources, outputs: Object.keys(template.Outputs ?? {}).length, bytes: s.bytes };
    });
    process.stdout.write(JSON.stringify({ mode, tenants, planMs, synthMs, maxRssMiB: rss(), stacks: figures } satisfies ChildResult));
  } catch (e) {
    // The app refusing a size (a clear synth error) is a result worth a row, not a benchmark crash.
    const error = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    process.stdout.write(
      JSON.stringify({ mode, tenants, planMs, synthMs: performance.now() - t1, maxRssMiB: rss(), error } satisfies ChildResult),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function runChild(mode: 'validate' | 'synth', file: string, tenants: number): ChildResult {
  const r = spawnSync(process.execPath, ['-r', TSX, __filename, '--child', mode, file, String(tenants)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 600_000,
    maxBuffer: 64 * 2 ** 20,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ChildResult;
  } catch {
    return {
      mode,
      tenants,
      planMs: Number.NaN,
      maxRssMiB: Number.NaN,
      error: `child exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n')[0]}`,
    };
  }
}

/** The real CLI end to end (Node start, tsx, commander, config, plan, printing) under /usr/bin/time. */
function runCli(file: string): { wallS: number; maxRssMiB: number; exit: number | null } {
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', 'EHBENCH %e %M', process.execPath, '-r', TSX, join(ROOT, 'src/cli/main.ts'), '--json', 'validate', '--config', file],
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 2 ** 20 },
  );
  const m = /EHBENCH ([\d.]+) (\d+)/.exec(r.stderr);
  return { wallS: m ? Number(m[1]) : Number.NaN, maxRssMiB: m ? Number(m[2]) / 1024 : Number.NaN, exit: r.status };
}

function main(): void {
  const args = process.argv.slice(2);
  const sizes = (args.find((a) => a.startsWith('--sizes='))?.slice(8) ?? '10,100,500,1000,2000').split(',').map(Number);
  const runs = Number(args.find((a) => a.startsWith('--runs='))?.slice(7) ?? 3);
  const command = `npm run bench:synth --${args.length ? ` ${args.join(' ')}` : ''}`;
  const m = machine();
  const dir = mkdtempSync(join(tmpdir(), 'egresshub-bench-config-'));
  const rows: { n: number; validate: ChildResult[]; cli: ReturnType<typeof runCli>[]; synth: ChildResult[] }[] = [];
  try {
    for (const n of sizes) {
      const file = join(dir, `tenants-${n}.yaml`);
      writeFileSync(file, manyTenantsConfig(n));
      const row = { n, validate: [] as ChildResult[], cli: [] as ReturnType<typeof runCli>[], synth: [] as ChildResult[] };
      for (let i = 0; i < runs; i++) {
        row.validate.push(runChild('validate', file, n));
        row.cli.push(runCli(file));
        row.synth.push(runChild('synth', file, n));
        process.stderr.write(`  ${n} tenants: run ${i + 1}/${runs} done\n`);
      }
      rows.push(row);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const out: string[] = [
    '## Control plane: validate and synth by tenant count',
    '',
    ...machineLines(m, command),
    `- runs per size: ${runs}, median shown; each run is a fresh child process`,
    '',
  ];
  out.push(
    table(
      [
        'tenants',
        'validate: load+plan ms',
        'validate: peak RSS MiB',
        'CLI `validate` wall s',
        'CLI peak RSS MiB',
        'synth ms',
        'synth peak RSS MiB',
        'result',
      ],
      rows.map((r) => {
        const ok = r.synth.filter((s) => !s.error);
        const failed = r.synth.find((s) => s.error);
        return [
          r.n,
          fmt(median(r.validate.map((v) => v.planMs))),
          fmt(median(r.validate.map((v) => v.maxRssMiB)), 0),
          fmt(median(r.cli.map((c) => c.wallS)), 2) +
            (r.cli.some((c) => c.exit !== 0) ? ` (exit ${r.cli.find((c) => c.exit !== 0)?.exit})` : ''),
          fmt(median(r.cli.map((c) => c.maxRssMiB)), 0),
          fmt(median(r.synth.map((s) => s.synthMs ?? Number.NaN)), 0),
          fmt(median(r.synth.map((s) => s.maxRssMiB)), 0),
          failed ? `synth failed: ${failed.error}` : `${ok[0]?.stacks?.length ?? 0} stacks`,
        ];
      }),
    ),
    '',
  );

  // Per size: the largest stack against each limit; every stack in a fold-out (1,000 tenants make many).
  const summary: (string | number)[][] = [];
  const stackRows: (string | number)[][] = [];
  for (const r of rows) {
    const stacks = r.synth.find((s) => s.stacks)?.stacks ?? [];
    if (stacks.length === 0) continue;
    const max = (f: (s: StackFigures) => number) => Math.max(...stacks.map(f));
    const over = stacks.filter((s) => s.resources > LIMITS.resources || s.bytes > LIMITS.bytes || s.outputs > LIMITS.outputs);
    summary.push([
      r.n,
      stacks.length,
      max((s) => s.resources),
      max((s) => s.outputs),
      fmt(max((s) => s.bytes) / 1024),
      fmt(stacks.reduce((a, s) => a + s.bytes, 0) / 1024),
      stacks.reduce((a, s) => a + s.resources, 0),
      over.length ? `OVER in ${over.map((s) => s.stackName).join(', ')}` : 'all within',
    ]);
    for (const s of stacks) stackRows.push([r.n, s.stackName, s.resources, s.outputs, fmt(s.bytes / 1024)]);
  }
  out.push(
    `Stacks (CloudFormation limits per stack: ${LIMITS.resources} resources, ${LIMITS.outputs} outputs, 1 MB template):`,
    '',
    summary.length
      ? table(
          [
            'tenants',
            'stacks',
            'max resources/stack',
            'max outputs/stack',
            'max template KiB',
            'all templates KiB',
            'resources in all',
            'limits',
          ],
          summary,
        )
      : '(no size synthesized)',
    '',
    '<details><summary>every stack</summary>',
    '',
    stackRows.length ? table(['tenants', 'stack', 'resources', 'outputs', 'template KiB'], stackRows) : '(none)',
    '',
    '</details>',
    '',
  );

  const at = (n: number) => rows.find((r) => r.n === n);
  const [a, b] = [at(100), at(1000)];
  if (a && b) {
    const ratio = (f: (r: NonNullable<typeof a>) => number) => fmt(f(b) / f(a), 2);
    const synthOk = !a.synth.some((s) => s.error) && !b.synth.some((s) => s.error);
    const bytes = (r: NonNullable<typeof a>) => (r.synth.find((s) => s.stacks)?.stacks ?? []).reduce((acc, s) => acc + s.bytes, 0);
    out.push(
      `Ratio 1,000 vs 100 tenants (10x the tenants; linear = 10): validate load+plan ${ratio((r) => median(r.validate.map((v) => v.planMs)))}x, ` +
        (synthOk
          ? `synth time ${ratio((r) => median(r.synth.map((s) => s.synthMs!)))}x, synth peak RSS ${ratio((r) => median(r.synth.map((s) => s.maxRssMiB)))}x, template bytes ${ratio(bytes)}x.`
          : 'synth: not comparable (a size failed, see the table).'),
      '',
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv[2] === '--child') {
  child(process.argv[3] as 'validate' | 'synth', process.argv[4]!, Number(process.argv[5]));
} else if (require.main === module) {
  main();
}
