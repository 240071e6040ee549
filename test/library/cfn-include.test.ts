// README "From Python, Java, Go or .NET": the route for CDK apps in other languages, run here in TypeScript step
// for step as the README's Python does it: `egresshub synth`, then each template included with CfnInclude in a
// fresh `new App()` (no cdk.json of ours). The app's templates must be what egresshub synth wrote, the squid.conf
// asset must land where the hub template reads it, and the stacks must deploy in egresshub's order.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, DefaultStackSynthesizer, Stack } from 'aws-cdk-lib';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { scratchDirs } from '../support/scratch';
import { EXAMPLE_CONFIG } from '../support/stack';

const scratch = scratchDirs('egresshub-cfn-include-');

interface Artifact {
  type: string;
  environment?: string;
  dependencies?: string[];
  properties?: { templateFile?: string; stackName?: string };
}

interface AssetManifest {
  files: Record<string, { source: { path: string }; destinations: Record<string, { bucketName: string; objectKey: string }> }>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** README's include_egresshub, line for line in TypeScript. */
function includeEgresshub(app: App, out: string): Map<string, Stack> {
  const { artifacts } = readJson<{ artifacts: Record<string, Artifact> }>(join(out, 'manifest.json'));
  const stacks = new Map<string, Stack>();
  for (const [sid, art] of Object.entries(artifacts)) {
    if (art.type !== 'aws:cloudformation:stack') continue;
    const [account, region] = art.environment!.replace(/^aws:\/\//, '').split('/');
    const stack = new Stack(app, sid, {
      stackName: art.properties!.stackName,
      env: { account, region },
      synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
    });
    const template = join(out, art.properties!.templateFile!);
    const resources = readJson<{ Resources: Record<string, unknown> }>(template).Resources;
    const raw = Object.keys(resources).filter((lid) => JSON.stringify(resources[lid]).includes('"Fn::GetStackOutput"'));
    const included = new CfnInclude(stack, 'Template', { templateFile: template, dehydratedResources: raw });
    for (const lid of raw) included.getResource(lid).overrideLogicalId(lid);
    for (const [key, f] of Object.entries(readJson<AssetManifest>(join(out, `${sid}.assets.json`)).files)) {
      if (!f.source.path.endsWith('.template.json')) new Asset(stack, `Asset${key.slice(0, 8)}`, { path: join(out, f.source.path) });
    }
    stacks.set(sid, stack);
  }
  for (const [sid, stack] of stacks) {
    for (const dep of artifacts[sid]!.dependencies ?? []) {
      const other = stacks.get(dep);
      if (other) stack.addStackDependency(other);
    }
  }
  return stacks;
}

/** The synthesized templates of a cloud assembly, by stack ID. */
function templatesOf(dir: string): Map<string, Record<string, unknown>> {
  const { artifacts } = readJson<{ artifacts: Record<string, Artifact> }>(join(dir, 'manifest.json'));
  return new Map(
    Object.entries(artifacts)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([id, a]) => [id, readJson<Record<string, unknown>>(join(dir, a.properties!.templateFile!))]),
  );
}

describe('egresshub from a CDK app in another language: egresshub synth + CfnInclude', () => {
  it('synthesizes, in a fresh App, the very templates egresshub synth wrote, with its file assets where the hub reads them', async () => {
    const out = join(scratch(), 'egresshub.out');
    const synth = await runCli('synth', '-c', EXAMPLE_CONFIG, '-o', out);
    expect(synth.code, synth.stderr).toBe(0);

    const appOut = join(scratch(), 'cdk.out');
    const app = new App({ outdir: appOut });
    const stacks = includeEgresshub(app, out);
    // The platform team's own stack beside egresshub's.
    new Stack(app, 'Web', { env: { account: '111111111111', region: 'ap-northeast-1' } });
    app.synth();

    const expected = templatesOf(out);
    const got = templatesOf(appOut);
    expect([...stacks.keys()]).toEqual([...expected.keys()]);
    expect(expected.size).toBe(4);
    for (const [id, template] of expected) expect(got.get(id), id).toEqual(template);

    // The file assets (the policy's squid.conf, the health publisher) go to the bucket and key the hub template names.
    const assets = readJson<AssetManifest>(join(appOut, 'Hub.assets.json'));
    const files = Object.values(assets.files).filter((f) => !f.source.path.endsWith('.template.json'));
    const keys = files.map((f) => Object.values(f.destinations)[0]!);
    expect(keys.filter((d) => /^[0-9a-f]{64}\.conf$/.test(d.objectKey))).toHaveLength(1);
    const hub = JSON.stringify(expected.get('Hub'));
    for (const d of keys) expect(hub, d.objectKey).toContain(d.objectKey);

    // Deploy order as egresshub's: the tenants after the hub, the same-account spoke after the tenants.
    const manifest = readJson<{ artifacts: Record<string, Artifact> }>(join(appOut, 'manifest.json')).artifacts;
    expect(manifest['Tenants-3200']!.dependencies).toContain('Hub');
    expect(manifest['Spoke-project-b-vpc-0b1c2d3e4f5a60719']!.dependencies).toContain('Tenants-3200');

    // The app's own assembly serves as the old side of egresshub diff: its stack Web is left out, nothing changes.
    const diff = await runCli('diff', '--from', appOut, EXAMPLE_CONFIG, '--no-color');
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stderr).toMatch(/left out, not this hub's stacks: Web/);
    expect(diff.stdout.trimEnd().split('\n').pop()).toBe('no changes');
  });

  const python = spawnSync('python3', ['--version']).status === 0;
  it.skipIf(!python)("README's Python block parses (syntax only: aws-cdk-lib for Python is not installed here)", () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.split('## From Python, Java, Go or .NET')[1]?.split('\n## ')[0] ?? '';
    const code = /```python\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toContain('dehydrated_resources=raw');
    const r = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: code, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
