// The library as a platform team gets it: `npm pack` (which builds dist/), the tarball installed into a
// scratch CDK app beside aws-cdk-lib and constructs, README's example compiled there against the package's
// types and synthesized with no feature flags (an app need not carry egresshub's cdk.json), then checked by
// cdk-nag 2 (the version an app that has not moved to cdk-nag 3 runs).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeApp, ROOT, runCdkApp, synthMessages } from './readme-app';

const work = mkdtempSync(join(tmpdir(), 'egresshub-pack-'));
const app = join(work, 'app');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
let files: string[] = [];
/** tsc's output for the scratch app (both entry points), compiled once before the tests: each test runs alone. */
let compiled = '';
/** The last cdk-nag 2 release: its packs read acknowledgements from `cdk_nag` resource metadata. */
const CDK_NAG_2 = '2.37.55';

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
  npm(
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      join(work, packed!.filename),
      ...peers,
      `cdk-nag@${CDK_NAG_2}`,
    ],
    app,
  );
  writeFileSync(join(app, 'app.ts'), readmeApp());
  // The same app checked by cdk-nag 2's AwsSolutions pack, applied as an Aspect as cdk-nag 2 documents.
  writeFileSync(
    join(app, 'nag2.ts'),
    readmeApp()
      .replace(
        "import { App, Stack } from 'aws-cdk-lib';",
        "import { App, Aspects, Stack } from 'aws-cdk-lib';\nimport { AwsSolutionsChecks } from 'cdk-nag';",
      )
      .replace('app.synth();', 'Aspects.of(app).add(new AwsSolutionsChecks());\napp.synth();'),
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, skipLibCheck: true, types: [] },
      files: ['app.ts', 'nag2.ts'],
    }),
  );
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { encoding: 'utf8' });
  compiled = tsc.stdout + tsc.stderr;
}, 300_000);

describe('the packed library', () => {
  it('carries the compiled code, its types and maps, the sources and docs they point at, not the tests', () => {
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/hub/egress-hub.js.map');
    expect(files).toContain('dist/hub/egress-hub.d.ts.map');
    expect(files).toContain('src/hub/egress-hub.ts');
    expect(files).toContain('docs/config.md');
    expect(files).toContain('dist/hub/scripts/claim-eni.sh');
    expect(files.filter((f) => /^test\/|fixtures|\.test\.|^tsconfig/.test(f))).toEqual([]);
    // Every docs/*.md a doc comment of the library (the entry's folders) names is in the package.
    const installed = join(app, 'node_modules', 'egresshub');
    const named = new Set(
      files
        .filter((f) => /^dist\/(index|(hub|spoke|config|app|client|policy|cost)\/.*)\.d\.ts$/.test(f))
        .flatMap((f) => [...readFileSync(join(installed, f), 'utf8').matchAll(/\bdocs\/[a-z-]+\.md\b/g)].map((m) => m[0])),
    );
    expect(named.size).toBeGreaterThan(3);
    expect([...named].filter((d) => !files.includes(d))).toEqual([]);
  });

  it('points a stack trace (source maps on) at the TypeScript it ships', () => {
    const r = spawnSync(
      process.execPath,
      ['--enable-source-maps', '-e', "const { planEgress } = require('egresshub'); planEgress({ name: 'x' });"],
      { cwd: app, encoding: 'utf8' },
    );
    const frame = /\((\/[^():]+\/node_modules\/egresshub\/src\/[^():]+\.ts):(\d+):\d+\)/.exec(r.stderr);
    expect(frame, r.stderr).not.toBeNull();
    const line = readFileSync(frame![1]!, 'utf8').split('\n')[Number(frame![2]) - 1];
    expect(line).toMatch(/throw|ConfigError/);
  });

  it("loads none of the CLI's dependencies (AWS SDK, vega, cloudformation-diff, undici, cdk-nag) from the library entry", () => {
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        // The app's own node_modules, first level: what the app installs (aws-cdk-lib's bundled packages are its own).
        "require('egresshub'); const top = process.cwd() + '/node_modules/'; const p = new Set(Object.keys(require.cache).filter((k) => k.startsWith(top)).map((k) => /^((?:@[^/]+\\/)?[^/]+)\\//.exec(k.slice(top.length))?.[1])); console.log([...p].sort().join(' '));",
      ],
      { cwd: app, encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split(' ')).toEqual(['aws-cdk-lib', 'constructs', 'egresshub', 'ip-address', 'yaml', 'zod']);
  });

  it('declares aws-cdk-lib and constructs as peer dependencies, as CDK libraries do', () => {
    const installed = JSON.parse(readFileSync(join(app, 'node_modules', 'egresshub', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    expect(Object.keys(installed.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    expect(installed.dependencies).not.toHaveProperty('aws-cdk-lib');
    expect(installed.dependencies).not.toHaveProperty('constructs');
    // The constructs never load cdk-nag: an app brings the version it runs.
    expect(installed.dependencies).not.toHaveProperty('cdk-nag');
  });

  it("compiles README's example (and its cdk-nag 2 variant) against the installed types and synthesizes it", () => {
    expect(compiled).toBe('');
    const templates = runCdkApp([process.execPath, 'app.js'], app, join(app, 'cdk.out'), {});
    expect([...templates.keys()].sort()).toEqual(['Hub', 'Spoke-project-a-vpc-0a0a0a0a0a0a0a0a0', 'Tenants-8000']);
    const types = (name: string) =>
      Object.values((templates.get(name) as { Resources: Record<string, { Type: string }> }).Resources).map((r) => r.Type);
    expect(types('Hub')).toContain('AWS::VpcLattice::ResourceGateway');
    expect(types('Tenants-8000').filter((t) => t === 'AWS::VpcLattice::ResourceConfiguration')).toHaveLength(2);
    expect(types('Spoke-project-a-vpc-0a0a0a0a0a0a0a0a0')).toContain('AWS::EC2::VPCEndpoint');
    // No feature flags, yet the stacks read each other weakly: no export, no import, no warning about it.
    expect([...templates.values()].filter((t) => JSON.stringify(t).includes('Fn::ImportValue'))).toEqual([]);
    expect(synthMessages(join(app, 'cdk.out'))).toEqual([]);
  });

  it('passes cdk-nag 2 (AwsSolutions as an Aspect) with the acknowledgements the constructs make', () => {
    expect(readFileSync(join(app, 'nag2.ts'), 'utf8')).toContain('Aspects.of(app).add(new AwsSolutionsChecks());');
    const out = join(app, 'cdk.out.nag2');
    runCdkApp([process.execPath, 'nag2.js'], app, out, {});
    // cdk-nag 2 reports findings as error annotations; without the metadata it reports 12 here.
    expect(synthMessages(out)).toEqual([]);
  });
});
