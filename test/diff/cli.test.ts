// `egresshub diff OLD NEW` end to end: the table, --json, --fail-on-replace (exit 3), bad input (exit 2).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../support/cli';
import { EXAMPLE_CONFIG, exampleConfig } from '../support/stack';
import type { Config } from './cases';

const dir = mkdtempSync(join(tmpdir(), 'egresshub-diff-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, edit: (c: Config) => void): string {
  const c = exampleConfig() as unknown as Config;
  edit(c);
  const file = join(dir, name);
  writeFileSync(file, stringify(c));
  return file;
}

const allowlist = configFile('allow.yaml', (c) => (c.tenants[0]!.allow as string[]).push('pypi.org'));
const domain = configFile('domain.yaml', (c) => (c.dns.domain = 'proxy.internal'));

describe('egresshub diff', () => {
  it('shows per stack what changes, and says when nothing users hold is replaced', async () => {
    const r = await runCli('diff', EXAMPLE_CONFIG, allowlist, '--no-color', '--fail-on-replace');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^egresshub-hub: /m);
    expect(r.stdout).toMatch(/^egresshub-tenants-3200: skipped \(template and parameters unchanged\)$/m);
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('nothing users hold is replaced');
    // Progress for the two synths on stderr, never on stdout.
    expect(r.stderr).toMatch(/synthesizing examples\/egresshub\.yaml \(old\)[\s\S]*synthesizing .*allow\.yaml \(new\)/);
  });

  it('exits 3 with --fail-on-replace when a resource users hold would be replaced, and marks it', async () => {
    const r = await runCli('diff', EXAMPLE_CONFIG, domain, '--no-color', '--fail-on-replace');
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/REPLACE ! │ AWS::VpcLattice::ResourceConfiguration │ Tenantsproject\w+ │ CustomDomainName/);
    expect(r.stdout).toMatch(/^REPLACES: ResourceConfiguration ×2, VPCEndpoint ×2$/m);
    expect(r.stderr).toMatch(/error: 4 resources users hold would be replaced \(--fail-on-replace\)/);
  });

  it('prints the whole diff as JSON with --json, exit code included', async () => {
    const r = await runCli('--json', 'diff', EXAMPLE_CONFIG, domain);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      summary: string;
      exitCode: number;
      stacks: { id: string; status: string }[];
      replacedProtected: unknown[];
    };
    expect(out.summary).toBe('REPLACES: ResourceConfiguration ×2, VPCEndpoint ×2');
    expect(out.exitCode).toBe(0);
    expect(out.stacks.map((s) => [s.id, s.status])[0]).toEqual(['Hub', 'unchanged']);
    expect(out.replacedProtected[0]).toMatchObject({
      stack: 'egresshub-tenants-3200',
      type: 'AWS::VpcLattice::ResourceConfiguration',
      impact: 'replace',
      replacedBy: ['CustomDomainName'],
      path: expect.stringMatching(/^\/Tenants-3200\/Tenants\/project-a\/ResourceConfiguration/),
    });
  });

  it('fails when a config is invalid, with exit code 2 and every problem of both files, before synthesizing', async () => {
    const bad = configFile('bad.yaml', (c) => (c.tenants[0]!.port = 80));
    const r = await runCli('diff', bad, 'does/not/exist.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /invalid config .*bad\.yaml\n\s+.*bad\.yaml:\d+:\d+: tenants\[0\]\.port: ports must be between 1024 and 65535 \(got 80\)/,
    );
    expect(r.stderr).toMatch(/cannot read config does\/not\/exist\.yaml: no such file/);
    expect(r.stderr).not.toMatch(/synthesizing/);
  });

  it('fails when a file argument is missing, with exit code 2', async () => {
    const r = await runCli('diff', EXAMPLE_CONFIG);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required argument 'new'/);
  });
});
