// The CLI frame: exit codes (0 ok, 1 failure, 2 bad input), --json, --help on every command.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { COMMAND_TABLE } from '../../src/cli/commands';
import { STATIC_COMMAND_TABLE } from '../support/commands';
import { runCli } from '../support/cli';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

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

  it.each(STATIC_COMMAND_TABLE.map((c) => c.name))('shows --help for %s', async (name) => {
    const r = await runCli(name, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Usage: egresshub ${name}`));
  });
});

describe('start-up', () => {
  /** Runs the CLI in a fresh Node process and lists which heavy modules it loaded. */
  function loaded(...argv: string[]): { code: number | null; modules: string[] } {
    const script = `require('./src/cli/main.ts').main(${JSON.stringify(argv)}, { out: { write() {} }, err: { write() {} } }).then((code) => {
      const heavy = ['aws-cdk-lib', '@aws-sdk/client-', 'vega', 'cdk-nag', 'undici'];
      process.stdout.write(JSON.stringify({ code, modules: heavy.filter((h) => Object.keys(require.cache).some((k) => k.includes('/node_modules/' + h))) }));
    });`;
    const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], { encoding: 'utf8' });
    return JSON.parse(r.stdout) as { code: number | null; modules: string[] };
  }

  it.each([
    [['--version'], []],
    [['validate', '-c', 'examples/egresshub.yaml'], []],
    [['squid-conf', '-c', 'examples/egresshub.yaml'], []],
  ])('egresshub %j loads no heavy module (aws-cdk-lib, SDK clients, charts)', (argv, heavy) => {
    const r = loaded(...argv);
    expect(r.code).toBe(0);
    expect(r.modules).toEqual(heavy);
  });

  it('the lazy command table lists the commands the tests run, in the same order', () => {
    expect(COMMAND_TABLE.map((c) => c.name)).toEqual(STATIC_COMMAND_TABLE.map((c) => c.name));
  });

  it('--help loads every command lazily and lists them all', () => {
    const r = spawnSync(process.execPath, ['bin/egresshub.js', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const c of STATIC_COMMAND_TABLE) expect(r.stdout).toMatch(new RegExp(`^  ${c.name} `, 'm'));
  });

  it('synth loads aws-cdk-lib only because it needs it (the check above can fail)', () => {
    expect(loaded('synth', '-c', 'examples/egresshub.yaml', '--out', mkdtempSync(join(tmpdir(), 'egresshub-startup-'))).modules).toContain(
      'aws-cdk-lib',
    );
  });
});

describe('--json on commands that print scripts', () => {
  it.each([
    ['completion bash', ['completion', 'bash'], 'script', /^#?.*complete -o default -F _egresshub egresshub/s],
    [
      'client-env --user-data',
      ['client-env', '-c', 'test/fixtures/one-spoke.yaml', '--tenant', 'project-a', '--user-data'],
      'userData',
      /^#!\/bin\/sh/,
    ],
  ])('%s prints JSON holding the script, not the bare script', async (_name, argv, key, script) => {
    const r = await runCli('--json', ...argv);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, string>;
    expect(out[key]).toMatch(script);
    expect((await runCli(...argv)).stdout.trim()).toBe(out[key]!.trim());
  });
});

describe('egresshub completion', () => {
  it('completes commands, sub-commands and options in a real bash', async () => {
    const r = await runCli('completion', 'bash');
    expect(r.code).toBe(0);
    const complete = (line: string) => {
      const words = line.split(' ');
      const script = `${r.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _egresshub; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return spawnSync('bash', ['-c', script], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    };
    expect(complete('egresshub sq')).toEqual(['squid-conf']);
    expect(complete('egresshub lab f')).toEqual(['failover', 'fault']);
    expect(complete('egresshub lab failover --con')).toEqual(['--config']);
    expect(complete('egresshub doctor --no-')).toEqual(['--no-proxy']);
    expect(complete('egresshub --json cidr allocate --po')).toEqual(['--pool']);
  });

  it('fails when the shell is unknown', async () => {
    const r = await runCli('completion', 'fish');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('completion: unknown shell "fish"; use bash or zsh');
  });

  it.runIf(existsSync('/dev/full')).each([
    ['validate', ['validate', '-c', 'examples/egresshub.yaml']],
    ['squid-conf', ['squid-conf', '-c', 'examples/egresshub.yaml']],
  ])('fails when stdout is a full device (%s): one line, exit 1, no stack trace', (_name, argv) => {
    const full = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, ['bin/egresshub.js', ...argv], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
      expect(r.status).toBe(1);
      // validate's warnings about the example (natGateways: one under multi-az) go to stderr as usual.
      expect(r.stderr.replace(/^warning: .*\n/gm, '')).toBe('error: cannot write the output to stdout: no space left on the device\n');
    } finally {
      closeSync(full);
    }
  });

  it.each([
    ['ENOSPC', 'write', '/out/Hub.template.json', 'cannot write /out/Hub.template.json: no space left on the device'],
    ['EACCES', 'open', '/out/x', 'cannot write /out/x: permission denied'],
    ['ENOENT', 'stat', '/in/x', 'cannot read /in/x: no such file or directory'],
  ])('fails with one line in words when the filesystem fails (%s during %s)', async (code, syscall, path, says) => {
    const err = new Capture();
    const failing = {
      name: 'fail',
      load: () => ({
        name: 'fail',
        summary: 'fails',
        run: () => {
          throw Object.assign(new Error(`${code}: raw, ${syscall} '${path}'`), { code, syscall, path });
        },
      }),
    };
    const exit = await main(['fail'], { out: new Capture(), err }, [failing]);
    expect(exit).toBe(1);
    expect(err.text.split('\n')[0]).toBe(`error: ${says}`);
    expect(err.text).not.toContain(`${code}:`);
  });
});
