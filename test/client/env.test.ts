import { describe, expect, it } from 'vitest';
import { clientEnv, toShell } from '../../src/client/env';
import { planEgress, type EgressHubConfig } from '../../src';
import { SPOKE_VPC } from '../fixtures/configs';
import { runCli } from '../support/cli';

const base = {
  region: 'ap-northeast-1',
  account: '111111111111',
  hub: { availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c'] },
  tenants: [
    { name: 'project-a', port: 3201, allow: '*', accounts: ['222222222222'] },
    { name: 'project-b', port: 3202, allow: '*' },
  ],
  spokes: [{ ...SPOKE_VPC, tenant: 'project-a', account: '222222222222' }],
} satisfies EgressHubConfig;
const withDns = planEgress({ ...base, dns: { domain: 'Egress.Internal.' } });

describe('client-env', () => {
  it("derives the tenant's stable proxy URL from the dns section", () => {
    const env = clientEnv(withDns, 'project-a');
    expect(env.proxyUrl).toBe('http://project-a.egress.internal:3201');
    expect(env.variables).toMatchObject({
      HTTP_PROXY: env.proxyUrl,
      http_proxy: env.proxyUrl,
      HTTPS_PROXY: env.proxyUrl,
      https_proxy: env.proxyUrl,
    });
  });

  it('keeps metadata services, localhost, .internal and the VPC off the proxy', () => {
    const env = clientEnv(withDns, 'project-a');
    for (const entry of [
      '169.254.169.254',
      'fd00:ec2::254',
      '169.254.170.2',
      '169.254.170.23',
      'localhost',
      '127.0.0.1',
      '.internal',
      '10.0.0.0/16',
    ]) {
      expect(env.noProxy).toContain(entry);
    }
    expect(env.variables.NO_PROXY).toBe(env.variables.no_proxy);
    expect(env.noProxy.join(',')).not.toMatch(/amazonaws/);
  });

  it('adds the regional S3 names with --s3 and the user entries', () => {
    const env = clientEnv(withDns, 'project-a', { s3: true, noProxy: ['corp.example', '10.0.0.0/16'] });
    expect(env.noProxy).toEqual(
      expect.arrayContaining(['s3.ap-northeast-1.amazonaws.com', '.s3.ap-northeast-1.amazonaws.com', 'corp.example']),
    );
    expect(env.noProxy.filter((e) => e === '10.0.0.0/16')).toHaveLength(1);
  });

  it('prints single-quoted shell exports', () => {
    const shell = toShell(clientEnv(withDns, 'project-a'));
    expect(shell.split('\n')).toHaveLength(6);
    expect(shell).toMatch(/^export HTTP_PROXY='http:\/\/project-a\.egress\.internal:3201'$/m);
  });

  it('fails when there is no dns section and no --proxy-host, saying how to find the endpoint name', () => {
    expect(() => clientEnv(planEgress(base), 'project-a')).toThrow(/no dns section.*--proxy-host.*describe-vpc-endpoint-associations/);
    expect(clientEnv(planEgress(base), 'project-a', { proxyHost: 'vpce-1.example' }).proxyUrl).toBe('http://vpce-1.example:3201');
  });

  it('fails when the VPC CIDR cannot be known', () => {
    expect(() => clientEnv(withDns, 'project-b')).toThrow(
      /cannot tell the VPC CIDR of tenant "project-b" \(the config lists no spoke for it\); pass --vpc-cidr/,
    );
    expect(() => clientEnv(withDns, 'project-b', { vpcCidr: '10.0.0.0/33' })).toThrow(/--vpc-cidr: expected an IPv4 CIDR/);
  });

  it('fails when the tenant is unknown, through the CLI with exit code 2', async () => {
    const r = await runCli('client-env', '--config', 'examples/egresshub.yaml', '--tenant', 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown tenant "nope"; tenants in this config: project-a, project-b/);
  });
});

describe('client-env input checks', () => {
  const plan = planEgress({ ...base, dns: { domain: 'egress.internal' } });

  it('fails when --proxy-host would inject shell code', () => {
    expect(() => clientEnv(plan, 'project-a', { proxyHost: "x';touch /tmp/pwn;'" })).toThrow(/--proxy-host: proxy URL must look like/);
  });

  it('fails when --proxy-host carries credentials, without printing the password', () => {
    expect(() => clientEnv(plan, 'project-a', { proxyHost: 'alice:s3cret@proxy.corp' })).toThrow(
      '--proxy-host: proxy URL must look like http://project-a.egress.internal:3201 (got "http://alice:***@proxy.corp:3201")',
    );
  });

  it('fails when a NO_PROXY entry carries quotes or spaces', () => {
    expect(() => clientEnv(plan, 'project-a', { noProxy: ["a' b"] })).toThrow(/--no-proxy: NO_PROXY may hold only names/);
  });

  it('quotes values so that even a quote would stay inside the string', () => {
    const env = { tenant: 't', proxyUrl: '', noProxy: [], variables: { X: "it's" } };
    expect(toShell(env)).toBe(`export X='it'\\''s'`);
  });
});
