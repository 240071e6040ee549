// The proxies' image changes only when the operator asks: pinned in the config, or looked up once by the
// CDK CLI and recorded in cdk.context.json; never an SSM "latest" parameter resolved at every deploy.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp, PLACEHOLDER_IMAGE, proxyImageOf } from '../../src/app';
import { runCli } from '../support/cli';
import { scratchDirs } from '../support/scratch';
import { exampleConfig, planOf } from '../support/stack';

const cwd = process.cwd();
const EXAMPLE = join(cwd, 'examples', 'egresshub.yaml');
const scratch = scratchDirs('egresshub-image-');

/** Runs `f` in a scratch directory holding `context` as its cdk.context.json (or none). */
function inDir<T>(context: Record<string, unknown> | undefined, f: (dir: string) => T): T {
  const dir = scratch();
  if (context) writeFileSync(join(dir, 'cdk.context.json'), JSON.stringify(context));
  process.chdir(dir);
  return f(dir);
}

const EXAMPLE_PLAN = planOf(exampleConfig());

function hubTemplate(plan = EXAMPLE_PLAN, live = false): Template {
  const app = buildApp(plan, { liveLookups: live });
  return Template.fromStack(app.node.findChild('Hub') as Stack);
}

function imageIds(t: Template): unknown[] {
  return Object.values(t.findResources('AWS::EC2::LaunchTemplate')).map(
    (r) => (r as { Properties: { LaunchTemplateData: { ImageId: unknown } } }).Properties.LaunchTemplateData.ImageId,
  );
}

describe('proxy image', () => {
  it('is never an SSM parameter resolved at deploy time', () => {
    const t = inDir(undefined, () => hubTemplate());
    const params = (t.toJSON() as { Parameters?: Record<string, { Type: string }> }).Parameters ?? {};
    expect(Object.values(params).filter((p) => p.Type.includes('AWS::EC2::Image::Id'))).toEqual([]);
  });

  it('offline without a record: every proxy carries the placeholder (valid shape, never launchable)', () => {
    const ids = inDir(undefined, () => imageIds(hubTemplate()));
    expect(ids.length).toBe(2);
    expect(new Set(ids)).toEqual(new Set([PLACEHOLDER_IMAGE]));
  });

  it('uses the image recorded in cdk.context.json, and the same record gives byte-identical launch templates', () => {
    const plan = planOf(exampleConfig());
    const key = proxyImageOf(plan).lookup!.key;
    const [a, b] = inDir({ [key]: 'ami-0123456789abcdef0' }, () => [hubTemplate(plan), hubTemplate(plan)]);
    expect(new Set(imageIds(a))).toEqual(new Set(['ami-0123456789abcdef0']));
    expect(a.findResources('AWS::EC2::LaunchTemplate')).toEqual(b.findResources('AWS::EC2::LaunchTemplate'));
  });

  it('uses hub.proxy.image when the config pins one, whatever is recorded', () => {
    const config = exampleConfig() as { hub: { proxy: Record<string, unknown> } };
    config.hub.proxy.image = 'ami-0fedcba9876543210';
    const plan = planOf(config);
    expect(proxyImageOf(plan)).toEqual({ pinned: 'ami-0fedcba9876543210' });
    const ids = inDir({ [proxyImageOf(EXAMPLE_PLAN).lookup!.key]: 'ami-0123456789abcdef0' }, () => imageIds(hubTemplate(plan)));
    expect(new Set(ids)).toEqual(new Set(['ami-0fedcba9876543210']));
  });

  it('under the CDK CLI asks for the lookup under the key egresshub reads, and synthesis does not fail meanwhile', () => {
    const plan = planOf(exampleConfig());
    const assembly = inDir(undefined, (dir) => buildApp(plan, { liveLookups: true, outdir: join(dir, 'out') }).synth());
    expect(assembly.manifest.missing?.map((m) => m.key)).toEqual([proxyImageOf(plan).lookup!.key]);
    expect(proxyImageOf(plan).lookup!.key).toBe(
      'ssm:account=111111111111:parameterName=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64:region=ap-northeast-1',
    );
  });

  it('follows the instance type: x86_64 types read the x86_64 parameter', () => {
    const config = exampleConfig() as { hub: { proxy: Record<string, unknown> } };
    config.hub.proxy.instanceType = 't3.small';
    expect(proxyImageOf(planOf(config)).lookup!.parameterName).toBe(
      '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    );
  });
});

describe('egresshub image', () => {
  const key = () => proxyImageOf(EXAMPLE_PLAN).lookup!.key;

  it('show says when nothing is recorded yet, and what is recorded', async () => {
    const none = await inDir(undefined, () => runCli('image', 'show', '-c', EXAMPLE));
    expect(none.stdout).toMatch(/^not recorded yet: the first `npx cdk synth` or `npx cdk deploy` with AWS credentials looks up/);
    const rec = await inDir({ [key()]: 'ami-0123456789abcdef0' }, () => runCli('--json', 'image', 'show', '-c', EXAMPLE));
    expect(JSON.parse(rec.stdout)).toMatchObject({ source: 'context', imageId: 'ami-0123456789abcdef0', contextKey: key() });
  });

  it('refresh forgets the recorded image and keeps every other record', async () => {
    const r = await inDir({ [key()]: 'ami-0123456789abcdef0', 'availability-zones:x': ['a'] }, () =>
      runCli('image', 'refresh', '-c', EXAMPLE),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('removed ami-0123456789abcdef0 from cdk.context.json');
    expect(JSON.parse(readFileSync('cdk.context.json', 'utf8'))).toEqual({ 'availability-zones:x': ['a'] });
  });

  it('fails when the config pins the image: refresh would change nothing', async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'egresshub-pinned-')), 'pinned-image.yaml');
    writeFileSync(
      config,
      readFileSync(EXAMPLE, 'utf8').replace('instanceType: t4g.small', 'instanceType: t4g.small\n    image: ami-0fedcba9876543210'),
    );
    try {
      const r = await runCli('image', 'refresh', '-c', config);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        'the config pins the image (hub.proxy.image: ami-0fedcba9876543210): change that value to move the proxies',
      );
    } finally {
      rmSync(join(config, '..'), { recursive: true, force: true });
    }
  });
});
