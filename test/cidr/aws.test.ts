// --from-aws: DescribeVpcs over profiles × regions with the real SDK client and paginator, whose `send`
// is replaced by recorded response pages (test/cidr/fixtures/describe-vpcs); no network.
import { readFileSync } from 'node:fs';
import { DescribeVpcsCommand, EC2Client, type DescribeVpcsCommandOutput } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsError } from '../../src/aws/errors';
import { awsTargets, fetchInventory } from '../../src/cidr';
import { UsageError } from '../../src/config/errors';

const page = (name: string) =>
  JSON.parse(readFileSync(`test/cidr/fixtures/describe-vpcs/${name}.json`, 'utf8')) as DescribeVpcsCommandOutput;

const ec2 = mockClient(EC2Client);
afterEach(() => ec2.reset());

/** Answers like EC2 would: pages by the client's region, the second page only for the first page's NextToken. */
function replay(calls: { region: string; token?: string; profile?: string }[]) {
  ec2.on(DescribeVpcsCommand).callsFake(async (input: { NextToken?: string }, getClient) => {
    const client = getClient() as EC2Client;
    const region = await client.config.region();
    calls.push({ region, token: input.NextToken, profile: client.config.profile });
    if (region === 'ap-northeast-1') {
      return input.NextToken === undefined ? page('ap-northeast-1.page1') : page('ap-northeast-1.page2');
    }
    if (region === 'us-east-1') return page('us-east-1.page1');
    return { Vpcs: [] };
  });
}

describe('inventory from AWS', () => {
  it('reads every page of every region and keeps only associated blocks', async () => {
    const calls: { region: string; token?: string }[] = [];
    replay(calls);
    const vpcs = await fetchInventory({ targets: awsTargets([], ['ap-northeast-1', 'us-east-1']) });
    expect(calls.map((c) => [c.region, c.token])).toEqual([
      ['ap-northeast-1', undefined],
      ['ap-northeast-1', 'eyJ2IjoiMiIsImMiOiJwYWdlMiJ9'], // the paginator followed NextToken
      ['us-east-1', undefined],
    ]);
    expect(vpcs.map((v) => [v.account, v.region, v.vpcId, v.name, v.blocks.map((b) => b.cidr)])).toEqual([
      ['111111111111', 'ap-northeast-1', 'vpc-0a00000000000000a', 'project-a', ['10.0.0.0/16', '100.64.0.0/20']], // 10.9.0.0/16 disassociated
      ['222222222222', 'ap-northeast-1', 'vpc-0b00000000000000b', 'project-b', ['10.0.0.0/16', '2406:da14:abc:8800::/56']],
      ['555555555555', 'us-east-1', 'vpc-0e00000000000000e', undefined, ['10.64.0.0/16']],
    ]);
  });

  it('queries every profile × region and merges a VPC seen from two profiles', async () => {
    const calls: { region: string; profile?: string }[] = [];
    replay(calls);
    const vpcs = await fetchInventory({ targets: awsTargets(['prod', 'dev'], ['us-east-1']) });
    expect(calls.map((c) => [c.profile, c.region])).toEqual([
      ['prod', 'us-east-1'],
      ['dev', 'us-east-1'],
    ]);
    expect(vpcs).toHaveLength(1);
  });

  it('fails when AWS refuses, naming the profile, the region and the permission (bad input: exit 2)', async () => {
    ec2.on(DescribeVpcsCommand).rejects(new Error('UnauthorizedOperation: You are not authorized to perform this operation.'));
    const err = await fetchInventory({ targets: [{ profile: 'audit', region: 'eu-west-1' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      '--from-aws DescribeVpcs (profile audit, region eu-west-1): access denied; the caller needs ec2:DescribeVpcs (UnauthorizedOperation: You are not authorized to perform this operation.)',
    );
  });

  it('fails without credentials with exit 2, the same answer as usage --from-cloudwatch gives', async () => {
    ec2
      .on(DescribeVpcsCommand)
      .rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const err = await fetchInventory({ targets: [{ region: 'eu-west-1' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^--from-aws DescribeVpcs \(region eu-west-1\): no AWS credentials found; set AWS_PROFILE/);
  });

  it('passes other AWS failures through as failures (exit 1)', async () => {
    ec2.on(DescribeVpcsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const err = await fetchInventory({ targets: [{ region: 'eu-west-1' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsError);
    expect((err as Error).message).toBe('--from-aws DescribeVpcs (region eu-west-1): Rate exceeded');
  });

  it('fails when no region is given', () => {
    expect(() => awsTargets(['prod'], [])).toThrow(/--from-aws needs at least one region: pass --regions/);
  });
});
