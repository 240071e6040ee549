// Every command that reads or writes a path, given each kind of wrong path a new user types: exit code 2,
// one line that names the path and what is wrong (no raw errno such as "ENOENT:", no stack trace), and
// nothing left behind.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';

const EXAMPLE = 'examples/egresshub.yaml';
const dir = mkdtempSync(join(tmpdir(), 'egresshub-paths-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const paths = {
  missing: join(dir, 'no-such-file'),
  empty: join(dir, 'empty'),
  binary: join(dir, 'binary'),
  directory: join(dir, 'a-directory'),
} as const;
writeFileSync(paths.empty, '');
writeFileSync(paths.binary, readFileSync(process.execPath).subarray(0, 4096));
mkdirSync(paths.directory);

/** Where each command takes an input path: argv with P for the path. */
const inputs: Record<string, readonly string[]> = {
  'validate --config': ['validate', '--config', 'P'],
  'synth --config': ['synth', '--config', 'P', '--out', join(dir, 'out')],
  'squid-conf --config': ['squid-conf', '--config', 'P'],
  'spoke-template --config': ['spoke-template', '--config', 'P', '--tenant', 'project-a'],
  'client-env --config': ['client-env', '--config', 'P', '--tenant', 'project-a'],
  'diff OLD': ['diff', 'P', EXAMPLE],
  'diff NEW': ['diff', EXAMPLE, 'P'],
  'usage --log': ['usage', '--log', 'P'],
  'cidr report --input': ['cidr', 'report', '--input', 'P'],
  'cidr allocate --config': ['cidr', 'allocate', '--pool', '10.64.0.0/12', '--size', '20', '--config', 'P'],
  'cost --config': ['cost', '--config', 'P'],
  'doctor --ca-file': ['doctor', '--proxy', 'http://127.0.0.1:9', '--ca-file', 'P'],
};

const kinds = Object.keys(paths) as (keyof typeof paths)[];
const rows = Object.entries(inputs).flatMap(([name, argv]) => kinds.map((kind) => [name, kind, argv] as const));

describe('bad paths', () => {
  it.each(rows)('%s fails when the path is %s', async (_name, kind, argv) => {
    // An empty inventory or log is valid input (no VPCs, no requests): those commands say so and exit 0.
    if (kind === 'empty' && (argv[0] === 'usage' || argv[0] === 'cidr')) return;
    const before = readdirSync(dir).sort();
    const r = await runCli(...argv.map((a) => (a === 'P' ? paths[kind] : a)));
    expect(r.code, r.stderr).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
    expect(errors, r.stderr).toHaveLength(1);
    expect(r.stderr).toContain(paths[kind].replace(`${dir}/`, ''));
    expect(r.stderr).not.toMatch(/\bE[A-Z]{3,}\b:|\n\s+at |Maximum call stack|\(run again with --debug/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});

/** Numbers out of range, or not numbers: argv per flag, with values to try. */
const numbers: Record<string, { argv: (v: string) => string[]; values: readonly string[] }> = {
  'cidr allocate --count': {
    argv: (v) => ['cidr', 'allocate', '--pool', '10.64.0.0/12', '--size', '20', '--count', v],
    values: ['0', '-1', '1e12', 'abc'],
  },
  'cidr allocate --size': { argv: (v) => ['cidr', 'allocate', '--pool', '10.64.0.0/12', '--size', v], values: ['33', '0', 'x'] },
  'usage --top': { argv: (v) => ['usage', '--log', EXAMPLE, '--top', v], values: ['-1', 'abc', '1e9', 'Infinity'] },
  'doctor --timeout': {
    argv: (v) => ['doctor', '--proxy', 'http://127.0.0.1:9', '--timeout', v],
    values: ['abc', '-5', '99999999999999999999', '0x10'],
  },
  'allowlist suggest --min-hosts': {
    argv: (v) => ['allowlist', 'suggest', '-c', EXAMPLE, '--tenant', 'project-a', '--log', EXAMPLE, '--min-hosts', v],
    values: ['1', '1e308', 'NaN'],
  },
  'cost --gb-per-vpc': {
    argv: (v) => ['cost', '--region', 'us-east-1', '--vpcs', '3', '--gb-per-vpc', v],
    values: ['1e308', '-1', '400' + '0'.repeat(400)],
  },
  // The lab's numbers are checked by test/lab (those commands take the machine-wide lab lock first).
};

describe('bad numbers', () => {
  const rows2 = Object.entries(numbers).flatMap(([name, n]) => n.values.map((v) => [name, v, n.argv(v)] as const));
  it.each(rows2)('%s fails when given %s', async (_name, value, argv) => {
    const r = await runCli(...argv);
    expect(r.code, r.stderr).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
    expect(errors, r.stderr).toHaveLength(1);
    expect(errors[0]).toContain(value);
    expect(r.stderr).not.toMatch(/\n\s+at |\(run again with --debug/);
  });
});
