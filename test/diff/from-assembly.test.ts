// `egresshub diff --from DIR`: a release upgrade judged as a config change is. The old side is a cloud assembly
// of another egresshub version: the committed fixture from commit 4966613 (fixtures/assembly-4966613/README.md),
// and assemblies this release synthesizes and then edits as an older release would have written them.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { scratchDirs } from '../support/scratch';
import type { CfnTemplate } from '../../src/diff';

const OLD_RELEASE = 'test/diff/fixtures/assembly-4966613';
/** The config that assembly was synthesized from (examples/egresshub.yaml then). */
const CONFIG = join(OLD_RELEASE, 'egresshub.yaml');

const scratch = scratchDirs('egresshub-diff-from-');

interface DiffJson {
  oldKind: string;
  summary: string;
  exitCode: number;
  stacks: { id: string; status: string; resources: { type: string; logicalId: string; impact: string; changed: string[] }[] }[];
  proxies: { logicalId: string; because: string[] }[];
  replacedProtected: { type: string; impact: string }[];
  problems: { kind: string; stack: string; message: string }[];
  proxyWarning?: string;
}

async function diffJson(...argv: string[]): Promise<DiffJson> {
  const r = await runCli('--json', 'diff', ...argv);
  expect(r.stderr).not.toMatch(/^error: (?!.*(would go wrong|would be replaced))/m);
  return JSON.parse(r.stdout) as DiffJson;
}

/** This release's assembly of CONFIG, written by `egresshub synth` into a scratch directory. */
async function synthNow(): Promise<string> {
  const out = join(scratch(), 'cdk.out');
  const r = await runCli('synth', '-c', CONFIG, '-o', out);
  expect(r.code, r.stderr).toBe(0);
  return out;
}

function editTemplate(dir: string, stackId: string, edit: (t: CfnTemplate) => void): void {
  const file = join(dir, `${stackId}.template.json`);
  const t = JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate;
  edit(t);
  writeFileSync(file, JSON.stringify(t));
}

function resourcesOfType(t: CfnTemplate, type: string) {
  return Object.values(t.Resources ?? {}).filter((r) => r.Type === type);
}

describe('egresshub diff --from: an upgrade from the assembly of an earlier release (4966613)', () => {
  it('says the upgrade replaces the proxies one at a time (new user data) and nothing users hold', async () => {
    const r = await runCli('diff', '--from', OLD_RELEASE, CONFIG, '--no-color', '--fail-on-replace');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/read test\/diff\/fixtures\/assembly-4966613 \(old cloud assembly\): 4 stacks/);
    expect(r.stderr).toMatch(/synthesizing .*egresshub\.yaml \(new, this release\): 4 stacks/);
    expect(r.stdout).toMatch(/│ update +│ AWS::EC2::LaunchTemplate +│ HubProxyALaunchTemplate\w+ +│ LaunchTemplateData\.UserData/);
    expect(r.stdout).toMatch(/HubProxyAGroupASG\w+: the group's UpdatePolicy replaces its instances one by one/);
    expect(r.stderr).toMatch(/warning: replaces proxies: multi-az replaces them one at a time with at least one in service/);

    const j = await diffJson('--from', OLD_RELEASE, CONFIG);
    expect(j.oldKind).toBe('assembly');
    // Both multi-az proxies, each for its new boot script; their groups roll them.
    expect(j.proxies.filter((p) => p.because.includes('new UserData')).map((p) => p.logicalId)).toEqual([
      expect.stringMatching(/^HubProxyALaunchTemplate/),
      expect.stringMatching(/^HubProxyCLaunchTemplate/),
    ]);
    // If this fails, a change since 4966613 replaces something users hold on upgrade: say so in CHANGELOG.md
    // (and docs/operations.md) before changing this expectation.
    expect(j.replacedProtected).toEqual([]);
    expect(j.summary).toBe('nothing users hold is replaced');
    expect(j.problems).toEqual([]);
  });

  it('says a release that changes nothing changes nothing: every stack skipped, no proxy replaced', async () => {
    const same = await synthNow();
    const r = await runCli('diff', '--from', same, CONFIG, '--no-color', '--fail-on-replace');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/^egresshub-[\w-]+: skipped \(template and parameters unchanged\)$/gm)).toHaveLength(4);
    expect(r.stdout.trimEnd().split('\n').slice(-2)).toEqual(['0 to add, 0 to update, 0 to replace, 0 to remove', 'no changes']);
    expect(r.stderr).not.toMatch(/replaces proxies/);
  });

  it('judges an assembly edited as an older release would have written it: a different boot script replaces the proxies', async () => {
    const old = await synthNow();
    editTemplate(old, 'Hub', (t) => {
      for (const lt of resourcesOfType(t, 'AWS::EC2::LaunchTemplate')) {
        const data = lt.Properties!.LaunchTemplateData as { UserData: unknown };
        data.UserData = { 'Fn::Base64': '#!/bin/bash\necho the previous boot script\n' };
      }
    });
    const j = await diffJson('--from', old, CONFIG, '--fail-on-replace');
    expect(j.exitCode).toBe(0);
    expect(j.proxies.map((p) => p.because.join())).toEqual([
      'new UserData',
      expect.stringMatching(/UpdatePolicy replaces its instances/),
      'new UserData',
      expect.stringMatching(/UpdatePolicy replaces its instances/),
    ]);
    expect(j.stacks.map((s) => [s.id, s.status])).toEqual([
      ['Hub', 'changed'],
      ['Tenants-3200', 'unchanged'],
      ['Spoke-project-a-vpc-0a1b2c3d4e5f60718', 'unchanged'],
      ['Spoke-project-b-vpc-0b1c2d3e4f5a60719', 'unchanged'],
    ]);
    expect(j.summary).toBe('nothing users hold is replaced');
  });

  it('judges a release that replaces the resource gateway: REPLACE !, and the tenant stacks that would keep the old gateway are stale (exit 4)', async () => {
    const old = await synthNow();
    editTemplate(old, 'Hub', (t) => {
      const [gateway] = resourcesOfType(t, 'AWS::VpcLattice::ResourceGateway');
      gateway!.Properties!.Name = 'egresshub-gateway-previous';
    });
    const r = await runCli('diff', '--from', old, CONFIG, '--no-color', '--fail-on-replace');
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/REPLACE ! │ AWS::VpcLattice::ResourceGateway +│ HubResourceGateway\w+ +│ Name/);
    expect(r.stdout).toMatch(/^REPLACES: ResourceGateway ×1/m);
    expect(r.stdout).toMatch(/^egresshub-tenants-3200: STALE: template unchanged, so cdk deploy skips it/m);
    expect(r.stderr).toMatch(/error: egresshub-tenants-3200 reads a value that changes, but its template does not change/);
  });
});

describe('egresshub diff --from: bad input is refused (exit 2) before anything is synthesized', () => {
  async function refused(argv: string[], message: RegExp): Promise<void> {
    const r = await runCli('diff', ...argv);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/synthesizing/);
    expect(r.stdout).toBe('');
  }

  it('a path that is not there, or a file', async () => {
    await refused(
      ['--from', 'no/such/dir', CONFIG],
      /--from no\/such\/dir: no such directory; give the cdk\.out that the deployed release/,
    );
    await refused(
      ['--from', join(OLD_RELEASE, 'manifest.json'), CONFIG],
      /a file, not a directory; a cloud assembly is a directory with manifest\.json: name its directory, --from .*assembly-4966613$/m,
    );
  });

  it('a directory that is not a cloud assembly, or a broken one', async () => {
    const empty = scratch();
    await refused(['--from', empty, CONFIG], /not a cloud assembly \(no manifest\.json in it\)/);
    const notJson = scratch();
    writeFileSync(join(notJson, 'manifest.json'), '{ half');
    await refused(['--from', notJson, CONFIG], /manifest\.json is not JSON/);
    const noArtifacts = scratch();
    writeFileSync(join(noArtifacts, 'manifest.json'), '{"version":"55.0.0"}');
    await refused(['--from', noArtifacts, CONFIG], /not a cloud assembly \(manifest\.json has no "artifacts" object\)/);
  });

  it('a Stage: the outer assembly names the nested one to give instead', async () => {
    const outer = scratch();
    mkdirSync(join(outer, 'assembly-Prod'));
    writeFileSync(
      join(outer, 'manifest.json'),
      JSON.stringify({
        version: '55.0.0',
        artifacts: { 'assembly-Prod': { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-Prod' } } },
      }),
    );
    await refused(
      ['--from', outer, CONFIG],
      /holds no stack of its own, only nested assemblies \(a CDK Stage\): name the one with the hub, e\.g\. --from .*\/assembly-Prod/,
    );
  });

  it('a stack whose template is missing (a trimmed or half-written cdk.out)', async () => {
    const broken = join(scratch(), 'old');
    cpSync(OLD_RELEASE, broken, { recursive: true });
    writeFileSync(join(broken, 'Tenants-3200.template.json'), '');
    await refused(['--from', broken, CONFIG], /Tenants-3200\.template\.json is not JSON/);
    cpSync(OLD_RELEASE, broken, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(broken, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { properties: { templateFile: string } }>;
    };
    manifest.artifacts['Tenants-3200']!.properties.templateFile = 'Gone.template.json';
    writeFileSync(join(broken, 'manifest.json'), JSON.stringify(manifest));
    await refused(['--from', broken, CONFIG], /stack Tenants-3200 is in manifest\.json but its template Gone\.template\.json is missing/);
  });

  it("another app's assembly, or this hub's for another account", async () => {
    const other = scratch();
    writeFileSync(
      join(other, 'manifest.json'),
      JSON.stringify({
        version: '55.0.0',
        artifacts: {
          Web: {
            type: 'aws:cloudformation:stack',
            environment: 'aws://333333333333/eu-west-1',
            properties: { templateFile: 'Web.template.json', stackName: 'web' },
          },
        },
      }),
    );
    writeFileSync(join(other, 'Web.template.json'), '{"Resources":{}}');
    await refused(
      ['--from', other, CONFIG],
      /not this hub's stacks: it has web \(aws:\/\/333333333333\/eu-west-1\), but .*egresshub\.yaml deploys hub egresshub-hub to aws:\/\/111111111111\/ap-northeast-1/,
    );
    const moved = join(scratch(), 'old');
    cpSync(OLD_RELEASE, moved, { recursive: true });
    const file = join(moved, 'manifest.json');
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('aws://111111111111/', 'aws://999999999999/'));
    await refused(
      ['--from', moved, CONFIG],
      /its hub stack egresshub-hub is in aws:\/\/999999999999\/ap-northeast-1, but .* deploys it to aws:\/\/111111111111\/ap-northeast-1/,
    );
  });

  it('--from with two configs, or with --deployed', async () => {
    await refused(['--from', OLD_RELEASE, CONFIG, CONFIG], /--from .* takes the place of OLD: give only the new config/);
    await refused(['--from', OLD_RELEASE, '--deployed', CONFIG], /--from and --deployed are two sources of the old side: give one/);
  });
});
