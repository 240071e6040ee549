// Overlapping-VPC estates often grow with secondary CIDR blocks (100.64.0.0/10 above all): servers there
// must reach the proxy too, through the CDK spoke and the plain template alike.
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp, spokeStackId } from '../../src/app';
import { clientEnv } from '../../src/client/env';
import { spokeTemplate } from '../../src/spoke';
import { runCli } from '../support/cli';
import { exampleConfig, planOf } from '../support/stack';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

type Spoke = Record<string, unknown>;
function withSpoke(edit: (s: Spoke) => void): Record<string, unknown> {
  const config = exampleConfig() as { spokes: Spoke[] };
  edit(config.spokes[1]!);
  return config;
}

describe('spoke CIDR blocks', () => {
  it('admits every block of the VPC to the endpoint, primary first and unchanged', () => {
    const plan = planOf(
      withSpoke((s) => {
        delete s.vpcCidr;
        s.vpcCidrs = ['10.0.0.0/16', '100.64.0.0/16'];
      }),
    );
    const spoke = plan.spokes[1]!;
    expect(spoke.vpcCidrs).toEqual(['10.0.0.0/16', '100.64.0.0/16']);
    const app = buildApp(plan);
    const t = Template.fromStack(app.node.findChild(spokeStackId(spoke.id)) as Stack);
    const sg = Object.values(t.findResources('AWS::EC2::SecurityGroup'))[0] as {
      Properties: { SecurityGroupIngress: { CidrIp: string }[] };
    };
    expect(sg.Properties.SecurityGroupIngress.map((r) => r.CidrIp)).toEqual(['10.0.0.0/16', '100.64.0.0/16']);
  });

  it('client-env and the client-setup association carry the same NO_PROXY, secondary blocks included', () => {
    const plan = planOf(
      withSpoke((s) => {
        delete s.vpcCidr;
        s.vpcCidrs = ['10.0.0.0/16', '100.64.0.0/16'];
      }),
    );
    const spoke = plan.spokes[1]!;
    const t = Template.fromStack(buildApp(plan).node.findChild(spokeStackId(spoke.id)) as Stack);
    const association = Object.values(t.findResources('AWS::SSM::Association'))[0] as {
      Properties: { Parameters: { NoProxy: string[] } };
    };
    const env = clientEnv(plan, spoke.tenant, { s3: spoke.clientSetup!.s3, noProxy: spoke.clientSetup!.noProxy });
    expect(env.variables.NO_PROXY).toContain(',10.0.0.0/16,100.64.0.0/16');
    expect(association.Properties.Parameters.NoProxy).toEqual([env.variables.NO_PROXY]);
  });

  it('keeps the rule of a spoke written with vpcCidr byte-identical (an upgrade changes nothing)', () => {
    const one = planOf(exampleConfig());
    const list = planOf(
      withSpoke((s) => {
        s.vpcCidrs = [s.vpcCidr];
        delete s.vpcCidr;
      }),
    );
    const sgOf = (p: typeof one) =>
      Template.fromStack(buildApp(p).node.findChild(spokeStackId(p.spokes[1]!.id)) as Stack).findResources('AWS::EC2::SecurityGroup');
    expect(sgOf(list)).toEqual(sgOf(one));
  });

  it('the plain template takes up to four secondary blocks as optional parameters', () => {
    const t = spokeTemplate(planOf(exampleConfig()), 'project-a') as {
      Parameters: Record<string, { Default?: string; AllowedPattern: string }>;
      Conditions: Record<string, unknown>;
    };
    expect(Object.keys(t.Parameters).filter((p) => p.startsWith('SecondaryVpcCidr'))).toEqual([
      'SecondaryVpcCidr1',
      'SecondaryVpcCidr2',
      'SecondaryVpcCidr3',
      'SecondaryVpcCidr4',
    ]);
    expect(t.Parameters.SecondaryVpcCidr1!.Default).toBe('');
    const pattern = new RegExp(t.Parameters.SecondaryVpcCidr1!.AllowedPattern);
    expect(['', '100.64.0.0/16'].every((v) => pattern.test(v))).toBe(true);
    expect(['0.0.0.0/0', '10.0.0.0/8', 'x'].some((v) => pattern.test(v))).toBe(false);
    expect(Object.keys(t.Conditions)).toHaveLength(4);
  });

  const bad: [string, (s: Spoke) => void, string, RegExp][] = [
    [
      'neither vpcCidr nor vpcCidrs',
      (s) => delete s.vpcCidr,
      'spokes[1].vpcCidr',
      /this field is required; add the VPC's CIDR block \(or vpcCidrs/,
    ],
    ['both vpcCidr and vpcCidrs', (s) => (s.vpcCidrs = ['10.0.0.0/16']), 'spokes[1].vpcCidrs', /either vpcCidr \(one block\) or vpcCidrs/],
    [
      'overlapping blocks',
      (s) => {
        delete s.vpcCidr;
        s.vpcCidrs = ['10.0.0.0/16', '10.0.128.0/20'];
      },
      'spokes[1].vpcCidrs[1]',
      /10\.0\.128\.0\/20 overlaps vpcCidrs\[0\] \(10\.0\.0\.0\/16\)/,
    ],
    [
      'more blocks than a VPC has',
      (s) => {
        delete s.vpcCidr;
        s.vpcCidrs = ['10.0.0.0/16', '10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16', '10.4.0.0/16', '10.5.0.0/16'];
      },
      'spokes[1].vpcCidrs',
      /at most 5 IPv4 CIDR blocks by default/,
    ],
  ];
  it.each(bad)('fails when a spoke has %s', async (_name, edit, field, says) => {
    const file = join(mkdtempSync(join(tmpdir(), 'egresshub-cidrs-')), 'egresshub.yaml');
    writeFileSync(file, stringify(withSpoke(edit)));
    const r = await runCli('validate', '--config', file);
    expect(r.code).toBe(2);
    const line = r.stderr.split('\n').find((l) => l.includes(` ${field}: `));
    expect(line, r.stderr).toMatch(says);
  });
});
