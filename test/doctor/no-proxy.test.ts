// Reading a NO_PROXY list the way curl, Go and Python do, without contacting anything.
import { describe, expect, it } from 'vitest';
import { clientEnv } from '../../src/client/env';
import { buildPlan, loadConfigFile } from '../../src/config';
import { covers, diagnose, isPrivate, parseNoProxy } from '../../src/doctor';

describe('NO_PROXY coverage', () => {
  it('finds the metadata address listed exactly, bracketed, or through a CIDR (flagged)', () => {
    expect(covers(parseNoProxy('localhost, 169.254.169.254'), '169.254.169.254')).toEqual({
      covered: true,
      by: '169.254.169.254',
      onlyByCidr: false,
    });
    expect(covers(parseNoProxy('[169.254.169.254]'), '169.254.169.254').covered).toBe(true);
    expect(covers(parseNoProxy('10.0.0.0/16,169.254.0.0/16'), '169.254.169.254')).toEqual({
      covered: true,
      by: '169.254.0.0/16',
      onlyByCidr: true,
    });
    expect(covers(parseNoProxy('169.254.169.25,.internal,169.254.170.0/24'), '169.254.169.254').covered).toBe(false);
  });

  it("passes client-env's own NO_PROXY (the two halves agree)", async () => {
    const plan = buildPlan(loadConfigFile('test/fixtures/one-spoke.yaml'));
    const env = clientEnv(plan, 'project-a', { proxyHost: 'project-a.egress.internal' });
    // Without a proxy in this env no network step runs; only the pure NO_PROXY reading is exercised.
    const report = await diagnose({ env: { NO_PROXY: env.variables.NO_PROXY, no_proxy: env.variables.no_proxy }, timeoutMs: 500 });
    expect(report.steps.filter((s) => s.verdict !== 'skip').map((s) => s.id)).toEqual(['proxy-setting', 'no-proxy']);
    expect(report.steps.find((s) => s.id === 'no-proxy')).toMatchObject({ verdict: 'pass', detail: 'no_proxy lists 169.254.169.254' });
  });

  it('fails when NO_PROXY is *, which turns the proxy off', async () => {
    const report = await diagnose({ env: { NO_PROXY: '*' }, timeoutMs: 500 });
    expect(report.steps.find((s) => s.id === 'no-proxy')).toMatchObject({
      verdict: 'fail',
      detail: 'NO_PROXY=* sends nothing through the proxy',
    });
  });

  it('treats RFC 1918, shared-address and ULA ranges as inside a VPC, loopback and public not', () => {
    for (const a of ['10.1.2.3', '172.31.0.9', '192.168.0.1', '100.64.1.1', 'fd00:ec2::23']) expect(isPrivate(a)).toBe(true);
    for (const a of ['127.0.0.1', '52.95.110.1', '169.254.169.254']) expect(isPrivate(a)).toBe(false);
  });
});
