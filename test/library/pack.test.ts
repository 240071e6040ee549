// The library as a platform team gets it: `npm pack` (which builds dist/), the tarball installed into a
// scratch CDK app beside aws-cdk-lib and constructs, README's example compiled there against the package's
// types and synthesized with no feature flags (an app need not carry egresshub's cdk.json), then checked by
// cdk-nag 2 (the version an app that has not moved to cdk-nag 3 runs). And the CLI as its users get it: the
// egresshub-cli tarball installed (with the library's, which it depends on) into a directory of its own.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeApp, ROOT, runCdkApp, synthMessages } from './readme-app';

const work = mkdtempSync(join(tmpdir(), 'egresshub-pack-'));
const app = join(work, 'app');
const cliApp = join(work, 'cli');
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Manifest {
  name: string;
  version: string;
  bin?: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
const CLI_DIR = join(ROOT, 'packages', 'cli');
let files: string[] = [];
let cliFiles: string[] = [];
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
  // The library's pack built dist/ and filled packages/cli from it: pack the CLI as it is.
  const [cliPacked] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], CLI_DIR)) as {
    filename: string;
    files: { path: string }[];
  }[];
  cliFiles = cliPacked!.files.map((f) => f.path);
  mkdirSync(cliApp);
  writeFileSync(join(cliApp, 'package.json'), JSON.stringify({ name: 'scratch-cli', private: true }));
  // Both local tarballs: the CLI's dependency on egresshub is met by the library's, not by the registry.
  npm(
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      join(work, packed!.filename),
      join(work, cliPacked!.filename),
    ],
    cliApp,
  );
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

  it("installs none of the CLI's dependencies and no egresshub command with the library", () => {
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['ip-address', 'yaml', 'zod']);
    expect(pkg.bin).toBeUndefined();
    const top = readdirSync(join(app, 'node_modules')).flatMap((d) =>
      d.startsWith('@') ? readdirSync(join(app, 'node_modules', d)).map((s) => `${d}/${s}`) : [d],
    );
    expect(top).toContain('egresshub');
    const cliOnly = [
      '@aws-sdk/',
      'vega',
      'undici',
      '@aws-cdk/cloudformation-diff',
      'commander',
      'cli-table3',
      'csv-parse',
      'egresshub-cli',
    ];
    expect(top.filter((d) => cliOnly.some((c) => d.startsWith(c)))).toEqual([]);
    expect(existsSync(join(app, 'node_modules', '.bin', 'egresshub'))).toBe(false);
  });

  it('ships only modules whose every require is a file it ships, a dependency, a peer or part of Node', () => {
    // The custom resource's inline Lambda code (domain-verification.ts) loads the SDK of the Lambda runtime.
    expect(unmet(join(app, 'node_modules', 'egresshub'), files, pkg, ['@aws-sdk/client-vpc-lattice'])).toEqual([]);
    // The library's closure: every module the entry reaches is shipped (the CLI package relies on that).
    expect(files.filter((f) => f.startsWith('dist/cli/') || f.startsWith('dist/lab/') || f === 'dist/cost/chart.js')).toEqual([]);
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

/**
 * What the shipped JavaScript of a package requires that the package neither ships nor declares: a literal
 * require, require.resolve or import() of a relative file not in `shipped`, or of a package outside its
 * dependencies, peers and Node's builtins.
 */
function unmet(installed: string, shipped: string[], manifest: Manifest, also: string[] = []): string[] {
  const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies ?? {}), ...also]);
  const have = new Set(shipped);
  const problems: string[] = [];
  for (const f of shipped.filter((p) => p.endsWith('.js'))) {
    const code = readFileSync(join(installed, f), 'utf8');
    for (const [, request] of code.matchAll(/(?:require|import)(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      if (request!.startsWith('.')) {
        const base = relative(installed, resolve(dirname(join(installed, f)), request!));
        if (![base, `${base}.js`, `${base}/index.js`].some((c) => have.has(c))) problems.push(`${f}: ${request}`);
        continue;
      }
      const name = request!.startsWith('@') ? request!.split('/').slice(0, 2).join('/') : request!.split('/')[0]!;
      if (request!.startsWith('node:') || builtinModules.includes(name) || declared.has(name)) continue;
      problems.push(`${f}: ${request}`);
    }
  }
  return problems;
}

describe('the packed CLI (egresshub-cli)', () => {
  const cliPkg = JSON.parse(readFileSync(join(CLI_DIR, 'package.json'), 'utf8')) as Manifest;
  const egresshub = (...argv: string[]) =>
    spawnSync(process.execPath, [join(cliApp, 'node_modules', '.bin', 'egresshub'), ...argv], {
      cwd: cliApp,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });

  it('is the same release as the library and depends on exactly that library', () => {
    expect(cliPkg.name).toBe('egresshub-cli');
    expect(cliPkg.version).toBe(pkg.version);
    expect(cliPkg.dependencies.egresshub).toBe(pkg.version);
    expect(cliPkg.bin).toEqual({ egresshub: 'bin/egresshub.js' });
    // Where both name a package, the same version: the CLI's modules and the library's share one copy.
    for (const [name, version] of Object.entries(pkg.dependencies)) expect(cliPkg.dependencies[name], name).toBe(version);
    for (const name of Object.keys(pkg.peerDependencies)) expect(cliPkg.dependencies[name], name).toBe(pkg.devDependencies[name]);
  });

  it("ships its own modules, with maps and sources, and not the library's", () => {
    expect(cliFiles).toContain('dist/cli/main.js');
    expect(cliFiles).toContain('dist/cli/main.js.map');
    expect(cliFiles).toContain('src/cli/main.ts');
    expect(cliFiles).toContain('dist/lab/nft/gateway.nft');
    expect(cliFiles).toContain('examples/egresshub.yaml');
    expect(cliFiles.filter((f) => f.endsWith('.d.ts') || f.startsWith('dist/hub/scripts/') || /^test\/|^tsconfig/.test(f))).toEqual([]);
    // A library module is a one-line hand-over to the egresshub package: no second copy of the constructs.
    const stub = readFileSync(join(cliApp, 'node_modules', 'egresshub-cli', 'dist', 'hub', 'egress-hub.js'), 'utf8');
    expect(stub.split('\n').filter((l) => l && !l.startsWith('//') && !l.startsWith('"use strict"'))).toHaveLength(1);
    expect(stub).toContain('require.resolve("egresshub/package.json")');
    // tsx only where a clone runs the TypeScript (the launcher and the lab's child processes check for it first).
    expect(unmet(join(cliApp, 'node_modules', 'egresshub-cli'), cliFiles, cliPkg, ['tsx'])).toEqual([]);
  });

  it("installs the CLI's dependencies beside the library", () => {
    for (const d of ['egresshub', '@aws-sdk/client-ec2', 'vega', 'undici', '@aws-cdk/cloudformation-diff', 'aws-cdk-lib']) {
      expect(existsSync(join(cliApp, 'node_modules', d, 'package.json')), d).toBe(true);
    }
  });

  it('runs `egresshub --version` and `egresshub synth` from the install, compiled', () => {
    const version = egresshub('--version');
    expect(version.stderr).toBe('');
    expect(version.stdout.trim()).toBe(pkg.version);
    writeFileSync(join(cliApp, 'egresshub.yaml'), readFileSync(join(ROOT, 'test', 'fixtures', 'two-tenants.yaml')));
    const synth = egresshub('synth', '--out', 'cdk.out');
    expect(synth.status, synth.stderr).toBe(0);
    const hub = JSON.parse(readFileSync(join(cliApp, 'cdk.out', 'Hub.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    expect(Object.values(hub.Resources).map((r) => r.Type)).toContain('AWS::VpcLattice::ResourceGateway');
    // The constructs it synthesized are the library's: the synth command's modules that are the library's are
    // one-line hand-overs, and no module runs twice, once from each package (two ConfigError classes, two plans).
    const loaded = spawnSync(
      process.execPath,
      ['-e', "require('egresshub-cli/dist/cli/commands/synth'); console.log(Object.keys(require.cache).join('\\n'))"],
      { cwd: cliApp, encoding: 'utf8' },
    );
    const keys = loaded.stdout.trim().split('\n');
    const under = (dir: string) => keys.filter((k) => k.startsWith(`${dir}/dist/`)).map((k) => relative(dir, k));
    const cliRoot = join(cliApp, 'node_modules', 'egresshub-cli');
    const fromLibrary = under(join(cliApp, 'node_modules', 'egresshub'));
    expect(fromLibrary).toContain('dist/hub/egress-hub.js');
    const handOvers = under(cliRoot).filter((f) =>
      readFileSync(join(cliRoot, f), 'utf8').includes('require.resolve("egresshub/package.json")'),
    );
    expect(handOvers).toContain('dist/app/index.js');
    const ownCode = under(cliRoot).filter((f) => !handOvers.includes(f));
    expect(ownCode).toContain('dist/cli/commands/synth.js');
    expect(ownCode.filter((f) => fromLibrary.includes(f))).toEqual([]);
  });

  it('tells bad input from a bug across the two packages (one ConfigError class): exit 2, the field, no stack', () => {
    writeFileSync(
      join(cliApp, 'bad.yaml'),
      'name: x\nregion: ap-northeast-1\naccount: "111111111111"\nhub: { cidr: 10.0.0.0/16 }\ntenants:\n  - { name: a, port: 80, allow: "*" }\n',
    );
    const r = egresshub('validate', '-c', 'bad.yaml');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/tenants\[0\]\.port/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });
});
