// The launch-template user data, run for real with sh against a throwaway root: it must do exactly what
// the setup script does, and its removal twin must undo it.
import { afterEach, describe, expect, it } from 'vitest';
import { clientEnv } from '../../src/client/env';
import { SETUP_SCRIPT, userDataCommands, userDataScript } from '../../src/client/setup-script';
import { buildPlan, loadConfigFile } from '../../src/config';
import { runCli } from '../support/cli';
import { makeRoot, read, removeRoot, runShell, snapshot } from './roots';

const CONFIG = 'examples/egresshub.yaml';
const plan = buildPlan(loadConfigFile('test/fixtures/one-spoke.yaml'));
const env = clientEnv(plan, 'project-a');
const roots: string[] = [];
afterEach(() => roots.splice(0).forEach(removeRoot));

describe('user data', () => {
  it('configures the host at boot and its remove twin restores it', () => {
    const root = makeRoot('ubuntu', { docker: true });
    roots.push(root);
    const original = snapshot(root);
    const script = userDataScript(env, 'apply', 'project-a');
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);

    const run = runShell([], { EGRESSHUB_ROOT: root }, script);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(read(root, 'etc/profile.d/egresshub-proxy.sh')).toContain("export HTTPS_PROXY='http://project-a.egress.internal:3201'\n");
    expect(read(root, 'etc/profile.d/egresshub-proxy.sh')).toContain(`export NO_PROXY='${env.noProxy.join(',')}'\n`);
    expect(read(root, 'etc/apt/apt.conf.d/95egresshub-proxy')).toContain('Acquire::https::Proxy "http://project-a.egress.internal:3201";');

    const again = runShell([], { EGRESSHUB_ROOT: root }, script);
    expect(again.stdout).not.toMatch(/wrote|edited/);

    expect(runShell([], { EGRESSHUB_ROOT: root }, userDataScript(env, 'remove')).code).toBe(0);
    expect(snapshot(root)).toEqual(original);
  });

  it('carries the setup script verbatim between its heredoc lines', () => {
    const lines = userDataCommands(env);
    expect(`${lines.slice(1, -1).join('\n')}\n`).toBe(SETUP_SCRIPT);
  });

  it('is printed by client-env --user-data', async () => {
    const r = await runCli(
      'client-env',
      '--config',
      CONFIG,
      '--tenant',
      'project-a',
      '--proxy-host',
      'project-a.egress.internal',
      '--user-data',
    );
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('#!/bin/sh\n')).toBe(true);
    expect(r.stdout).toMatch(
      /^EGRESSHUB_PROXY_URL='http:\/\/[^']+:3201' EGRESSHUB_NO_PROXY='[^']*169\.254\.169\.254[^']*' sh -s apply <<'EGRESSHUB_PROXY_SETUP'$/m,
    );
    const remove = await runCli(
      'client-env',
      '--config',
      CONFIG,
      '--tenant',
      'project-a',
      '--proxy-host',
      'project-a.egress.internal',
      '--user-data',
      '--remove',
    );
    expect(remove.stdout).toMatch(/ sh -s remove <</);
  });

  it('fails when --remove comes without --user-data, with exit 2', async () => {
    const r = await runCli(
      'client-env',
      '--config',
      CONFIG,
      '--tenant',
      'project-a',
      '--proxy-host',
      'project-a.egress.internal',
      '--remove',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--remove only applies to --user-data/);
  });

  it('fails when an extra NO_PROXY entry would break the shell line', () => {
    expect(() => userDataCommands({ proxyUrl: env.proxyUrl, noProxy: ["x'; reboot; '"] })).toThrow(
      /user data: NO_PROXY may hold only names, addresses and CIDRs separated by commas, without spaces or quotes \(got "x'; reboot; '"\)/,
    );
  });
});
