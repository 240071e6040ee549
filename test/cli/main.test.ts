// The CLI frame: exit codes (0 ok, 1 failure, 2 bad input), --json, --help on every command.
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands';
import { runCli } from '../support/cli';

describe('egresshub CLI', () => {
  it('validates the example config and prints a tenant table', async () => {
    const r = await runCli('validate', '--config', 'examples/egresshub.yaml', '--no-color');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/examples\/egresshub\.yaml is valid/);
    expect(r.stdout).toMatch(/project-a\s*│\s*3201/);
    expect(r.stdout).toMatch(/project-b\s*│\s*3202/);
  });

  it('prints the plan as JSON with --json and nothing else on stdout', async () => {
    const r = await runCli('--json', 'validate', '--config', 'examples/egresshub.yaml');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { valid: boolean; plan: { tenants: { name: string; port: number }[] } };
    expect(out.valid).toBe(true);
    expect(out.plan.tenants.map((t) => [t.name, t.port])).toEqual([
      ['project-a', 3201],
      ['project-b', 3202],
    ]);
  });

  it('fails when the config file does not exist, with exit code 2 and a fix', async () => {
    const r = await runCli('validate', '--config', 'does/not/exist.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read config does\/not\/exist\.yaml: no such file; pass --config FILE/);
  });

  it('fails when the command is unknown, with exit code 2', async () => {
    const r = await runCli('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it('fails when an option is unknown, with exit code 2', async () => {
    const r = await runCli('validate', '--confg', 'x.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--confg'/);
  });

  it.each(COMMANDS.map((c) => c.name))('shows --help for %s', async (name) => {
    const r = await runCli(name, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Usage: egresshub ${name}`));
  });
});
