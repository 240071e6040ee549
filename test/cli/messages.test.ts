// What the CLI says in the cases a new user meets first: the file it read by default, counts with their
// nouns, and tables that stay readable when a config is huge.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { scratchDirs } from '../support/scratch';

const cwd = process.cwd();
const EXAMPLE = readFileSync(join(cwd, 'examples', 'egresshub.yaml'), 'utf8');
const scratch = scratchDirs('egresshub-messages-');

function inDir(config: string): void {
  const dir = scratch();
  writeFileSync(join(dir, 'egresshub.yaml'), config);
  process.chdir(dir);
}

describe('CLI messages', () => {
  it('validate without -c names the file it read (./egresshub.yaml), not "undefined"', async () => {
    inDir(EXAMPLE);
    const r = await runCli('validate', '--no-color');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^✓ egresshub\.yaml is valid: hub 10\.0\.0\.0\/16/);
  });

  it('validate shows 20 allow entries of a huge allowlist and says how many more; --json has them all', async () => {
    const entries = Array.from({ length: 50_000 }, (_, i) => `'*.s${i}.example.com'`).join(', ');
    inDir(EXAMPLE.replace("['*.github.com', 'registry.npmjs.org']", `[${entries}]`));
    const r = await runCli('validate', '--no-color');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBeLessThan(10_000);
    expect(r.stdout).toContain('… and 49,980 more entries (--json lists all)');
    const json = await runCli('--json', 'validate');
    const plan = (JSON.parse(json.stdout) as { plan: { tenants: { allow: { suffixes: string[] } }[] } }).plan;
    expect(plan.tenants[0]!.allow.suffixes).toHaveLength(50_000);
  });

  it.each([
    [1, '1 request outside the period was left out'],
    [2, '2 requests outside the period were left out'],
  ])('counts with their nouns: %i', async (n, says) => {
    const dir = scratch();
    const line = (ts: string) =>
      `ts=${ts} tenant=project-a method=CONNECT host=a.example.org port=443 bytes_in=1 bytes_out=1 decision=allowed rule=tenant-allow`;
    const log = join(dir, 'access.log');
    writeFileSync(log, [line('1795626900.000'), ...Array.from({ length: n }, () => line('1795626800.000'))].join('\n'));
    const r = await runCli('usage', '--log', log, '--from', '1795626850');
    expect(r.stderr).toContain(says);
    expect(r.stdout).toContain(': 1 request, 2 B');
  });

  it.each([
    ['cost', ['cost', '--region', 'us-east-1', '--vpcs', '3', '--gb-per-vpc', '5']],
    ['cidr allocate', ['cidr', 'allocate', '--pool', '10.64.0.0/12', '--size', '20', '--hub', '10.0.0.0/16']],
  ])('fails when ./egresshub.yaml is broken and %s read it unasked, saying it was read', async (_name, argv) => {
    inDir('region: [\n');
    const r = await runCli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('egresshub.yaml:2:1: (top level): YAML syntax');
    expect(r.stderr).toContain(
      '(./egresshub.yaml was read because it is in the current directory and -c was not given: fix it, pass -c FILE, or run from another directory)',
    );
  });
});
