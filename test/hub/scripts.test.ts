// Shell as files: every script in src/ and every script the hub renders from them passes shellcheck, the library
// files are embedded exactly (less their header comments), and the constants they share with TypeScript agree.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile } from '../../src/config';
import { PROBE_TIMEOUT_SECONDS, PROXY_HEALTHY } from '../../src/hub/health-probe';
import { renderPolicyApply } from '../../src/hub/policy-rollout';
import { SCRIPTS_DIR, shellLibrary } from '../../src/hub/scripts';
import { APPLY_TENANT_LIMITS, renderHealthPublisher, renderProxyBootstrap } from '../../src/hub/user-data';
import { HEALTH_PROBE, NFT_LINE_PREFIX } from '../../src/policy/squid-conf';

const work = mkdtempSync(join(tmpdir(), 'eh-shellcheck-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function shFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? shFiles(join(dir, e.name)) : e.name.endsWith('.sh') ? [join(dir, e.name)] : [],
  );
}

/** shellcheck's findings of severity warning and above (errors, warnings), one line each. */
function shellcheck(file: string): string[] {
  const r = spawnSync('shellcheck', ['-s', 'bash', '-S', 'warning', '-f', 'gcc', file], { encoding: 'utf8' });
  expect(r.error, 'shellcheck must be installed (apt-get install shellcheck)').toBeUndefined();
  return r.stdout.split('\n').filter(Boolean);
}

const plan = buildPlan(loadConfigFile('examples/egresshub.yaml'));
const RENDERED: Record<string, string> = {
  'boot, fixed proxy with ENI, Elastic IP and health signal': renderProxyBootstrap({
    policyParameter: '/egresshub/test/proxy-policy',
    stackName: 'egresshub-hub',
    signalResource: 'ProxyAGroup',
    region: 'ap-northeast-1',
    networkInterface: { id: 'eni-0123', ip: '10.0.128.10' },
    elasticIpAllocationId: 'eipalloc-0123',
    health: { id: 'ProxyA', ...plan.hub.proxyHealth, publisherObject: 's3://cdk-assets/health.sh' },
  }),
  'health publisher, with the egress check': renderHealthPublisher(plan.hub.proxyHealth.egress),
  'health publisher, without': renderHealthPublisher(),
  'boot, nlb proxy': renderProxyBootstrap({
    policyParameter: '/egresshub/test/proxy-policy',
    stackName: 'egresshub-hub',
    signalResource: 'ProxiesGroup',
    region: 'ap-northeast-1',
  }),
  'apply, no drain': renderPolicyApply({ drain: 'none' }),
  'apply, drain by health': renderPolicyApply({
    drain: 'health',
    drainFile: plan.hub.proxyHealth.drainFile,
    failoverName: { name: 'proxy.egresshub.internal', ttlSeconds: 10 },
  }),
  'apply, drain from the NLB': renderPolicyApply({ drain: 'nlb' }),
};

describe('shell scripts', () => {
  const files = shFiles('src');

  it('finds the scripts kept as files', () => {
    expect(files.map((f) => relative('src', f)).sort()).toEqual(
      expect.arrayContaining(['client/proxy-setup.sh', 'hub/scripts/tenant-limits.sh']),
    );
  });

  it.each(files)('%s passes shellcheck', (file) => {
    expect(shellcheck(file)).toEqual([]);
  });

  it.each(Object.keys(RENDERED))('the rendered script (%s) passes shellcheck', (name) => {
    const file = join(work, `${name.replace(/\W+/g, '-')}.sh`);
    writeFileSync(file, RENDERED[name]!);
    expect(shellcheck(file)).toEqual([]);
  });

  it('embeds each library file whole, less only its leading comment lines', () => {
    for (const f of readdirSync(SCRIPTS_DIR).filter((x) => x.endsWith('.sh'))) {
      const text = readFileSync(join(SCRIPTS_DIR, f), 'utf8');
      const lib = shellLibrary(f.replace(/\.sh$/, ''));
      expect(text.startsWith('# shellcheck shell=bash\n')).toBe(true);
      expect(text.trimEnd().endsWith(lib)).toBe(true);
      expect(lib.startsWith('#')).toBe(false);
      // A function library defines functions and runs nothing at load.
      expect(lib).toMatch(/^[a-z_]+\(\) \{$/m);
    }
  });

  it('the files agree with the constants TypeScript also uses', () => {
    expect(APPLY_TENANT_LIMITS).toContain(`'^${NFT_LINE_PREFIX}'`);
    expect(APPLY_TENANT_LIMITS).toContain(`'s/^${NFT_LINE_PREFIX}//p'`);
    expect(PROXY_HEALTHY).toContain(`--connect-timeout ${PROBE_TIMEOUT_SECONDS} --max-time ${PROBE_TIMEOUT_SECONDS}`);
    expect(PROXY_HEALTHY).toContain(`"http://${HEALTH_PROBE.source}:$port${HEALTH_PROBE.path}"`);
  });
});
