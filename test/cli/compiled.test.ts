// The CLI as an installed package runs it: compiled JavaScript in dist/, no src/ and no tsx. Built into
// a scratch package directory (package.json, cdk.json, bin/, dist/, node_modules linked), then run.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const EXAMPLE = join(ROOT, 'examples', 'egresshub.yaml');
const pkg = mkdtempSync(join(tmpdir(), 'egresshub-pkg-'));
afterAll(() => rmSync(pkg, { recursive: true, force: true }));

beforeAll(() => {
  execFileSync('bash', [join(ROOT, 'scripts', 'build.sh')], { env: { ...process.env, OUT_DIR: join(pkg, 'dist') }, stdio: 'pipe' });
  for (const f of ['package.json', 'cdk.json']) copyFileSync(join(ROOT, f), join(pkg, f));
  mkdirSync(join(pkg, 'bin'));
  copyFileSync(join(ROOT, 'bin', 'egresshub.js'), join(pkg, 'bin', 'egresshub.js'));
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
}, 300_000);

function run(cwd: string, ...argv: string[]) {
  return spawnSync(process.execPath, [join(cwd, 'bin', 'egresshub.js'), ...argv], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, EGRESSHUB_DIST: '' },
  });
}

describe('the compiled CLI', () => {
  it('ships the files the code reads at run time beside the JavaScript', () => {
    expect(existsSync(join(pkg, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'cli', 'main.d.ts'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'client', 'proxy-setup.sh'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'cost', 'prices.json'))).toBe(true);
  });

  it.each([
    ['--version'],
    ['validate', '-c', EXAMPLE],
    ['squid-conf', '-c', EXAMPLE],
    ['spoke-template', '-c', EXAMPLE, '-t', 'project-a'],
  ])('answers `egresshub %s` exactly as the clone does, without tsx', (...argv) => {
    const compiled = run(pkg, ...argv);
    const clone = run(ROOT, ...argv);
    expect(compiled.stderr).toBe(clone.stderr);
    expect(compiled.status).toBe(0);
    expect(compiled.stdout).toBe(clone.stdout);
  });

  it('synthesizes the example from dist (aws-cdk-lib, cdk.json feature flags)', () => {
    const out = join(pkg, 'cdk.out');
    const r = run(pkg, '--json', 'synth', '-c', EXAMPLE, '--out', out);
    expect(r.status, r.stderr).toBe(0);
    const stacks = (JSON.parse(r.stdout) as { stacks: { stackName: string }[] }).stacks.map((s) => s.stackName);
    expect(stacks.length).toBeGreaterThan(2);
  });

  it('never loads tsx', () => {
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(join(pkg, 'dist', 'cli', 'main.js'))}).main(['validate','-c',${JSON.stringify(EXAMPLE)}], {out:{write(){}},err:{write(){}}}).then(c=>process.stdout.write(JSON.stringify({c, tsx: Object.keys(require.cache).some(k=>k.includes('/tsx/'))})))`,
      ],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(r.stdout)).toEqual({ c: 0, tsx: false });
  });
});
