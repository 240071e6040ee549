// `egresshub stacks --account`: the documented way to deploy one account's stacks selects exactly those,
// checked against the environments of the synthesized app.
import { Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app';
import { runCli } from '../support/cli';
import { EXAMPLE_CONFIG, exampleConfig, planOf } from '../support/stack';

describe('egresshub stacks', () => {
  const plan = planOf(exampleConfig());
  const app = buildApp(plan);
  const envOf = new Map(app.node.children.filter((c): c is Stack => c instanceof Stack).map((s) => [s.node.id, s.account]));

  it('lists, per account, exactly the stacks that deploy into it, and every stack once', async () => {
    const accounts = [...new Set(envOf.values())];
    expect(accounts.sort()).toEqual(['111111111111', '222222222222']);
    const seen: string[] = [];
    for (const account of accounts) {
      const r = await runCli('--json', 'stacks', '--account', account, '-c', EXAMPLE_CONFIG);
      expect(r.code, r.stderr).toBe(0);
      const ids = (JSON.parse(r.stdout) as { stacks: string[] }).stacks;
      for (const id of ids) expect(envOf.get(id), id).toBe(account);
      seen.push(...ids);
    }
    expect(seen.sort()).toEqual([...envOf.keys()].sort());
  });

  it('narrows to kinds: the hub account spokes only', async () => {
    const r = await runCli('stacks', '--account', '111111111111', '--kind', 'spokes', '-c', EXAMPLE_CONFIG);
    expect(r.stdout.trim().split('\n')).toEqual(['Spoke-project-b-vpc-0b1c2d3e4f5a60719']);
  });

  it.each([
    [
      ['--account', '333333333333'],
      /no hub\/tenants\/spokes stacks deploy into account 333333333333; the config's accounts are 111111111111, 222222222222/,
    ],
    [['--account', '12'], /--account: expected a 12-digit AWS account ID \(got 12\)/],
    [['--account', '111111111111', '--kind', 'spoke'], /--kind: unknown kind spoke; use hub, tenants, spokes/],
  ])('fails when given %j', async (args, says) => {
    const r = await runCli('stacks', ...args, '-c', EXAMPLE_CONFIG);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(says);
  });
});
