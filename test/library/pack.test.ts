// The library as a platform team gets it: `npm pack` (which builds dist/), the tarball installed into a
// scratch CDK app beside aws-cdk-lib and constructs, README's example compiled there against the package's
// types and synthesized with no feature flags (an app need not carry egresshub's cdk.json).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeApp, ROOT, runCdkApp } from './readme-app';

const work = mkdtempSync(join(tmpdir(), 'egresshub-pack-'));
const app = join(work, 'app');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
let files: string[] = [];

beforeAll(() => {
  const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], ROOT)) as {
    filename: string;
    files: { path: string }[];
  }[];
  files = packed!.files.map((f) => f.path);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-cdk-app', private: true }));
  // From the npm cache that `npm ci` filled; the registry only for what it lacks.
  const peers = ['aws-cdk-lib', 'constructs'].map((p) => `${p}@${pkg.devDependencies[p]}`);
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(work, packed!.filename), ...peers], app);
  writeFileSync(join(app, 'app.ts'), readmeApp());
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, skipLibCheck: true, types: [] },
      files: ['app.ts'],
    }),
  );
}, 300_000);

describe('the packed library', () => {
  it('carries the compiled code and its types, not the tests', () => {
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/hub/scripts/claim-eni.sh');
    expect(files.filter((f) => /^test\/|fixtures|\.test\.|^src\//.test(f))).toEqual([]);
  });

  it('declares aws-cdk-lib and constructs as peer dependencies, as CDK libraries do', () => {
    const installed = JSON.parse(readFileSync(join(app, 'node_modules', 'egresshub', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    expect(Object.keys(installed.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    expect(installed.dependencies).not.toHaveProperty('aws-cdk-lib');
    expect(installed.dependencies).not.toHaveProperty('constructs');
  });

  it("compiles README's example against the installed types and synthesizes it", () => {
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    const templates = runCdkApp([process.execPath, 'app.js'], app, join(app, 'cdk.out'), {});
    expect([...templates.keys()].sort()).toEqual(['Hub', 'Spoke-project-a-vpc-0a0a0a0a0a0a0a0a0', 'Tenants-8000']);
    const types = (name: string) =>
      Object.values((templates.get(name) as { Resources: Record<string, { Type: string }> }).Resources).map((r) => r.Type);
    expect(types('Hub')).toContain('AWS::VpcLattice::ResourceGateway');
    expect(types('Tenants-8000').filter((t) => t === 'AWS::VpcLattice::ResourceConfiguration')).toHaveLength(2);
    expect(types('Spoke-project-a-vpc-0a0a0a0a0a0a0a0a0')).toContain('AWS::EC2::VPCEndpoint');
  });
});
