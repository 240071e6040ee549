// How long the CLI takes to answer, per command, from a clone (TypeScript through tsx) and compiled
// (dist/, what an installed package runs). Builds dist/ first. Median and slowest of N runs each.
//   npm run bench:startup [-- --runs=10]
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'bin', 'egresshub.js');
const EXAMPLE = join(ROOT, 'examples', 'egresshub.yaml');
const COMMANDS: Record<string, string[]> = {
  '--version': ['--version'],
  validate: ['validate', '-c', EXAMPLE],
  'squid-conf': ['squid-conf', '-c', EXAMPLE],
};
const TARGET_VERSION_S = 0.3;

function time(argv: string[], dist: boolean): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...argv], {
    env: { ...process.env, EGRESSHUB_DIST: dist ? '1' : '0' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`egresshub ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function main(): void {
  const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 10);
  if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw new Error(`--runs must be 1 to 1000 (got ${runs})`);
  const build = spawnSync('bash', [join(ROOT, 'scripts', 'build.sh')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the build failed');
  const rows: { command: string; mode: string; medianS: number; maxS: number }[] = [];
  for (const [name, argv] of Object.entries(COMMANDS)) {
    for (const dist of [false, true]) {
      time(argv, dist); // warm the page cache once
      const t = Array.from({ length: runs }, () => time(argv, dist)).sort((a, b) => a - b);
      rows.push({
        command: name,
        mode: dist ? 'compiled (dist/)' : 'clone (tsx)',
        medianS: t[Math.floor(t.length / 2)]!,
        maxS: t[t.length - 1]!,
      });
    }
  }
  console.log(`egresshub start-up, ${runs} runs each; Node ${process.version}, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}`);
  console.log('| command | mode | median | slowest |\n| --- | --- | --- | --- |');
  for (const r of rows) console.log(`| \`${r.command}\` | ${r.mode} | ${r.medianS.toFixed(3)} s | ${r.maxS.toFixed(3)} s |`);
  const version = rows.find((r) => r.command === '--version' && r.mode.startsWith('compiled'))!;
  console.log(
    `--version compiled: ${version.medianS.toFixed(3)} s (target < ${TARGET_VERSION_S} s): ${version.medianS < TARGET_VERSION_S ? 'met' : 'MISSED'}`,
  );
}

main();
