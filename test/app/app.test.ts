import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Stack } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, proxyImageOf, synthesize } from '../../src/app';
import { buildPlan, loadConfigFile } from '../../src/config';
import { main } from '../support/cli';
import { validateTemplate } from '../support/cfn-registry';
import { EXAMPLE_CONFIG, exampleConfig, planOf } from '../support/stack';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'egresshub-app-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: '', err: '' };
  out.on('data', (c: Buffer) => (chunks.out += c.toString()));
  err.on('data', (c: Buffer) => (chunks.err += c.toString()));
  const code = await main(argv, { out, err });
  return { code, ...chunks };
}

describe('buildApp', () => {
  const plan = planOf(exampleConfig());
  const app = buildApp(plan);
  const stacks = app.node.children as Stack[];

  it('builds the hub in the hub account and one stack per spoke in the spoke account', () => {
    expect(stacks.map((s) => [s.node.id, s.stackName, s.account, s.region])).toEqual([
      ['Hub', 'egresshub-hub', '111111111111', 'ap-northeast-1'],
      ['Tenants-3200', 'egresshub-tenants-3200', '111111111111', 'ap-northeast-1'],
      ['Spoke-project-a-vpc-0a1b2c3d4e5f60718', 'egresshub-spoke-project-a-vpc-0a1b2c3d4e5f60718', '222222222222', 'ap-northeast-1'],
      ['Spoke-project-b-vpc-0b1c2d3e4f5a60719', 'egresshub-spoke-project-b-vpc-0b1c2d3e4f5a60719', '111111111111', 'ap-northeast-1'],
    ]);
  });

  it('needs no context lookups (synth works without AWS credentials)', () => {
    expect(app.synth().manifest.missing ?? []).toEqual([]);
  });
});

describe('synthesize', () => {
  const plan = planOf(exampleConfig());
  const out = tmp();
  const result = synthesize(plan, out);

  it('writes one *.template.json per stack and reports resources and sizes that match the files', () => {
    expect(result.stacks.map((s) => s.stackName)).toEqual([
      plan.hub.stackName,
      'egresshub-tenants-3200',
      ...plan.spokes.map((s) => s.stackName),
    ]);
    for (const s of result.stacks) {
      expect(s.file).toMatch(/\.template\.json$/);
      const template = JSON.parse(readFileSync(s.file, 'utf8')) as { Resources: object };
      expect(s.resources).toBe(Object.keys(template.Resources).length);
      expect(s.bytes).toBe(statSync(s.file).size);
      expect(validateTemplate(template)).toEqual([]);
    }
  });

  it('runs with no AWS credentials or network configuration in the environment', () => {
    const dir = tmp();
    const script = `require('tsx/cjs');const {synthesize}=require('./src/app');const {buildPlan,loadConfigFile}=require('./src/config');
      console.log(JSON.stringify(synthesize(buildPlan(loadConfigFile('${EXAMPLE_CONFIG}')), '${dir}').stacks.length));`;
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    expect(execFileSync(process.execPath, ['-e', script], { env, cwd: process.cwd() }).toString().trim()).toBe('4');
  });
});

describe('npx cdk synth (cdk.json + bin/app.ts)', () => {
  it('synthesizes the config named by -c config=FILE, offline once the proxy image is recorded, like any CDK app', () => {
    const out = tmp();
    // A project directory whose cdk.context.json holds the image a first `cdk synth` with credentials recorded.
    const project = tmp();
    const key = proxyImageOf(buildPlan(loadConfigFile(EXAMPLE_CONFIG))).lookup!.key;
    writeFileSync(join(project, 'cdk.context.json'), JSON.stringify({ [key]: 'ami-0123456789abcdef0' }));
    const env = {
      PATH: process.env.PATH,
      HOME: out,
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
    };
    const root = process.cwd();
    const app = `${process.execPath} -r ${require.resolve('tsx/cjs')} ${join(root, 'bin', 'app.ts')}`;
    const config = join(root, EXAMPLE_CONFIG);
    execFileSync(
      join(root, 'node_modules', '.bin', 'cdk'),
      ['synth', '--app', app, '-c', `config=${config}`, '--no-notices', '--quiet', '-o', out],
      {
        env,
        cwd: project,
        stdio: 'pipe',
      },
    );
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      missing?: unknown[];
      artifacts: Record<string, { type: string }>;
    };
    expect(manifest.missing).toBeUndefined();
    expect(
      Object.entries(manifest.artifacts)
        .filter(([, a]) => a.type === 'aws:cloudformation:stack')
        .map(([id]) => id),
    ).toEqual(['Hub', 'Tenants-3200', 'Spoke-project-a-vpc-0a1b2c3d4e5f60718', 'Spoke-project-b-vpc-0b1c2d3e4f5a60719']);
    const hub = readFileSync(join(out, 'Hub.template.json'), 'utf8');
    expect(hub).toContain('"ImageId": "ami-0123456789abcdef0"');
  });
});

describe('egresshub synth', () => {
  it('writes the templates and prints a table of stacks with resource counts and sizes', async () => {
    const out = tmp();
    const r = await cli(['synth', '--config', EXAMPLE_CONFIG, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`synthesizing hub egresshub-hub, 1 tenant stack and 2 spoke stacks into ${out}`);
    expect(r.out).toMatch(/egresshub-hub\s*│\s*\d+\s*│\s*[\d.]+ KiB/);
    expect(readFileSync(join(out, 'Hub.template.json'), 'utf8')).toContain('AWS::VpcLattice::ResourceGateway');
  });

  it('prints the stacks as JSON with --json', async () => {
    const out = tmp();
    const r = await cli(['--json', 'synth', '--config', EXAMPLE_CONFIG, '--out', out]);
    expect(r.code).toBe(0);
    const data = JSON.parse(r.out) as { outDir: string; stacks: { stackName: string; resources: number }[] };
    expect(data.outDir).toBe(out);
    expect(data.stacks.map((s) => s.stackName)).toHaveLength(4);
  });

  it('fails when the config is missing, with exit code 2', async () => {
    const r = await cli(['synth', '--config', '/nonexistent/egresshub.yaml', '--out', tmp()]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('cannot read config /nonexistent/egresshub.yaml: no such file');
  });
});

describe('egresshub spoke-template', () => {
  it('prints the tenant template as JSON on stdout', async () => {
    const r = await cli(['spoke-template', '--config', EXAMPLE_CONFIG, '--tenant', 'project-b']);
    expect(r.code).toBe(0);
    const t = JSON.parse(r.out) as {
      Parameters: object;
      Resources: Record<string, { Type: string; Properties: { SecurityGroupIngress?: { FromPort: number }[] } }>;
    };
    expect(Object.keys(t.Parameters)).toEqual([
      'VpcId',
      'SubnetIds',
      'VpcCidr',
      'ResourceConfigurationArn',
      'SecondaryVpcCidr1',
      'SecondaryVpcCidr2',
      'SecondaryVpcCidr3',
      'SecondaryVpcCidr4',
    ]);
    const sg = Object.values(t.Resources).find((x) => x.Type === 'AWS::EC2::SecurityGroup')!;
    expect(sg.Properties.SecurityGroupIngress?.[0]?.FromPort).toBe(3202);
  });

  it('writes the template to --out', async () => {
    const file = join(tmp(), 'spoke.json');
    const r = await cli(['spoke-template', '--config', EXAMPLE_CONFIG, '--tenant', 'project-a', '--out', file]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty('Resources');
  });

  it('fails when the tenant is unknown, listing the tenants, with exit code 2', async () => {
    const r = await cli(['spoke-template', '--config', EXAMPLE_CONFIG, '--tenant', 'nobody']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown tenant "nobody"; tenants in this config: project-a, project-b');
  });

  it('fails when --tenant is missing, with exit code 2', async () => {
    const r = await cli(['spoke-template', '--config', EXAMPLE_CONFIG]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("required option '-t, --tenant <name>' not specified");
  });
});
