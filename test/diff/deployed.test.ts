// `egresshub diff --deployed`: the old side read from CloudFormation (DescribeStacks, GetTemplate) with the real
// SDK client, whose `send` answers from the 4966613 assembly as if that release were deployed; no network, and
// never run against AWS (no account here). It must give the judgement `--from` gives for the same templates.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';

const OLD_RELEASE = 'test/diff/fixtures/assembly-4966613';
const CONFIG = join(OLD_RELEASE, 'egresshub.yaml');

const cfn = mockClient(CloudFormationClient);
afterEach(() => cfn.reset());

interface Artifact {
  environment: string;
  properties: { templateFile: string; stackName: string };
}

/** The fixture's stacks by name: where they were synthesized for and their template text. */
function fixtureStacks(): Map<string, { account: string; region: string; body: string }> {
  const manifest = JSON.parse(readFileSync(join(OLD_RELEASE, 'manifest.json'), 'utf8')) as { artifacts: Record<string, Artifact> };
  return new Map(
    Object.values(manifest.artifacts).map((a) => {
      const [account, region] = a.environment.replace('aws://', '').split('/') as [string, string];
      return [a.properties.stackName, { account, region, body: readFileSync(join(OLD_RELEASE, a.properties.templateFile), 'utf8') }];
    }),
  );
}

const notFound = (name: string) => Object.assign(new Error(`Stack with id ${name} does not exist`), { name: 'ValidationError' });

/**
 * Answers like CloudFormation in account `account`: the stacks of `deployed` that were synthesized for that
 * account and the client's region exist there, everything else does not. Records each call.
 */
function deploy(deployed: Map<string, { account: string; region: string; body: string }>, account = '111111111111', idAccount = account) {
  const calls: string[] = [];
  const find = async (name: string, client: CloudFormationClient) => {
    const region = await client.config.region();
    const s = deployed.get(name);
    return s && s.account === account && s.region === region ? { ...s, region } : undefined;
  };
  cfn.on(DescribeStacksCommand).callsFake(async (input: { StackName: string }, getClient) => {
    calls.push(`DescribeStacks ${input.StackName}`);
    const s = await find(input.StackName, getClient());
    if (!s) throw notFound(input.StackName);
    const StackId = `arn:aws:cloudformation:${s.region}:${idAccount}:stack/${input.StackName}/0f1e2d3c-0000-0000-0000-000000000000`;
    return { Stacks: [{ StackName: input.StackName, StackId, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0) }] };
  });
  cfn.on(GetTemplateCommand).callsFake(async (input: { StackName: string; TemplateStage?: string }, getClient) => {
    calls.push(`GetTemplate ${input.StackName} ${input.TemplateStage}`);
    const s = await find(input.StackName, getClient());
    if (!s) throw notFound(input.StackName);
    return { TemplateBody: s.body };
  });
  return calls;
}

describe('egresshub diff --deployed (stubbed CloudFormation; untested against AWS)', () => {
  it('reads the stacks of the hub account, and judges them as --from judges the same templates', async () => {
    const calls = deploy(fixtureStacks());
    const r = await runCli('--json', 'diff', '--deployed', CONFIG);
    expect(r.code, r.stderr).toBe(0);
    // The cross-account spoke (account 222222222222) is not read with the hub account's credentials.
    expect(calls).toEqual([
      'DescribeStacks egresshub-hub',
      'GetTemplate egresshub-hub Original',
      'DescribeStacks egresshub-tenants-3200',
      'GetTemplate egresshub-tenants-3200 Original',
      'DescribeStacks egresshub-spoke-project-b-vpc-0b1c2d3e4f5a60719',
      'GetTemplate egresshub-spoke-project-b-vpc-0b1c2d3e4f5a60719 Original',
    ]);
    expect(r.stderr).toMatch(
      /warning: egresshub-spoke-project-a-vpc-0a1b2c3d4e5f60718 \(aws:\/\/222222222222\/ap-northeast-1\) is in another account: its deployed template was not read/,
    );
    const deployed = JSON.parse(r.stdout) as Record<string, unknown>;
    const fromAssembly = JSON.parse((await runCli('--json', 'diff', '--from', OLD_RELEASE, CONFIG)).stdout) as Record<string, unknown>;
    expect(deployed.oldKind).toBe('deployed');
    for (const key of ['stacks', 'summary', 'proxies', 'replacedProtected', 'problems', 'counts', 'exitCode'])
      expect(deployed[key], key).toEqual(fromAssembly[key]);
    expect((deployed.proxies as unknown[]).length).toBeGreaterThan(0);
  });

  it('shows a stack of the app that is not deployed yet as a new stack', async () => {
    const stacks = fixtureStacks();
    stacks.delete('egresshub-tenants-3200');
    deploy(stacks);
    const r = await runCli('diff', '--deployed', CONFIG, '--no-color');
    expect(r.stderr).toMatch(/egresshub-tenants-3200 is not deployed: shown as a new stack/);
    expect(r.stdout).toMatch(/^egresshub-tenants-3200: new stack \(3 add\)$/m);
  });

  it('refuses (exit 2) when the hub is not deployed where the config says, or the credentials are for another account', async () => {
    deploy(fixtureStacks(), '999999999999');
    const r = await runCli('diff', '--deployed', CONFIG);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--deployed: stack egresshub-hub in ap-northeast-1: the hub is not deployed there \(with these credentials, account 111111111111 expected\); nothing to compare with/,
    );
    expect(r.stdout).toBe('');
  });

  it('refuses (exit 2) a stack that CloudFormation says is in another account than the config', async () => {
    deploy(fixtureStacks(), '111111111111', '444444444444');
    const r = await runCli('diff', '--deployed', CONFIG);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--deployed: stack egresshub-hub in ap-northeast-1: found in account 444444444444, but the config deploys it to account 111111111111; use credentials of account 111111111111/,
    );
  });

  it('names the permissions when access is denied (exit 2)', async () => {
    cfn.on(DescribeStacksCommand).rejects(
      Object.assign(new Error('User: arn:aws:iam::111111111111:user/x is not authorized to perform: cloudformation:DescribeStacks'), {
        name: 'AccessDenied',
      }),
    );
    const r = await runCli('diff', '--deployed', CONFIG);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--deployed: stack egresshub-hub in ap-northeast-1: access denied; the caller needs cloudformation:DescribeStacks and cloudformation:GetTemplate/,
    );
  });
});
