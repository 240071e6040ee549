// How `allowlist suggest` and config loading grow with their input: N distinct hosts under one parent in an
// access log (what S3 bucket names and CDN shards look like), and N wildcard allow entries in one tenant.
// Each size runs the real CLI in a child process under a time limit, so a size that regresses to quadratic
// ends as "killed" instead of hanging the bench. Prints a Markdown table for docs/benchmarks.md.
//   npx tsx bench/scale.ts [--max 1000000] [--limit 60]
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, machine, machineLines, table } from './common';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'bin', 'egresshub.js');
const EXAMPLE = join(ROOT, 'examples', 'egresshub.yaml');
const SIZES = [10_000, 40_000, 100_000, 1_000_000];

/** An access log of `n` lines, each a different host under one parent (`b<i>.cdn.example.net`). */
async function accessLog(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const line = `ts=1795626804.${String(i % 1000).padStart(3, '0')} tenant=project-a method=CONNECT host=b${i}.cdn.example.net port=443 bytes_in=100 bytes_out=900 decision=would-deny rule=not-allowlisted\n`;
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

/** The example config with project-a allowing `n` wildcard entries (`*.s<i>.example.com`). */
function wildcardConfig(file: string, n: number): void {
  const entries: string[] = [];
  for (let i = 0; i < n; i++) entries.push(`      - '*.s${i}.example.com'\n`);
  const text = readFileSync(EXAMPLE, 'utf8').replace("allow: ['*.github.com', 'registry.npmjs.org']", `allow:\n${entries.join('')}`);
  if (!text.includes('s0.example.com')) throw new Error('examples/egresshub.yaml changed: the bench cannot find project-a allow');
  writeFileSync(file, text);
}

interface Run {
  readonly seconds?: number;
  readonly maxRssMiB?: number;
  readonly outcome: string;
}

/** Runs the CLI under /usr/bin/time with a time limit: wall seconds and peak RSS, or "killed after …". */
function time(argv: string[], limitS: number): Run {
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'RSS_KB=%M', process.execPath, BIN, ...argv], {
    encoding: 'utf8',
    timeout: limitS * 1000,
    maxBuffer: 1 << 30,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.signal) return { outcome: `killed after ${limitS} s` };
  const rss = /RSS_KB=(\d+)/.exec(r.stderr ?? '');
  return {
    seconds,
    maxRssMiB: rss ? Number(rss[1]) / 1024 : undefined,
    outcome: r.status === 0 ? 'ok' : `exit ${r.status}: ${r.stderr.split('\n').find((l) => l.startsWith('error:')) ?? ''}`,
  };
}

async function main(): Promise<void> {
  const max = arg('max', 1_000_000, 1_000_000);
  const limit = arg('limit', 60, 600);
  const dir = mkdtempSync(join(tmpdir(), 'egresshub-scale-'));
  const m = machine();
  const rows: (string | number)[][] = [];
  const row = (what: string, n: number, r: Run) =>
    rows.push([
      what,
      n.toLocaleString('en-US'),
      r.seconds === undefined ? '–' : r.seconds.toFixed(2),
      r.maxRssMiB === undefined ? '–' : Math.round(r.maxRssMiB),
      r.outcome,
    ]);
  try {
    for (const n of SIZES.filter((s) => s <= max)) {
      const log = join(dir, `access-${n}.log`);
      await accessLog(log, n);
      row(
        'allowlist suggest (hosts under one parent)',
        n,
        time(['allowlist', 'suggest', '-c', EXAMPLE, '--tenant', 'project-a', '--log', log], limit),
      );
      rmSync(log);
      const config = join(dir, `config-${n}.yaml`);
      wildcardConfig(config, n);
      row('validate (wildcard allow entries)', n, time(['validate', '-c', config], limit));
      rmSync(config);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const command = `npx tsx bench/scale.ts --max ${max} --limit ${limit}`;
  process.stdout.write(
    [
      ...machineLines(m, command),
      '',
      table(['command', 'entries', 'wall s (with CLI start-up)', 'peak RSS MiB', 'outcome'], rows),
      '',
    ].join('\n'),
  );
}

void main();
