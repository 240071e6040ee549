// The health publisher's egress decision (publish-health.sh) and egress_ok's refusals, in real bash with the
// outside world faked: proxy_healthy and egress_ok are replaced by switches, `aws` and `getent` by scripts on PATH
// that record their calls and answer what each case needs. What a real egress check does against a real route is
// the lab's part (test/lab/faults/egress-loss.test.ts).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile } from '../../src/config';
import { NLB_HEALTH_PORT } from '../../src/config/schema';
import { EGRESS_OK } from '../../src/hub/health-probe';
import { renderHealthPublisher } from '../../src/hub/user-data';
import { scratchDirs } from '../support/scratch';

const plan = buildPlan(loadConfigFile('examples/egresshub.yaml'));
const egress = plan.hub.proxyHealth.egress;

describe('the health publisher with the egress check (fake AWS CLI, switches for the probes)', () => {
  const scratch = scratchDirs('egresshub-egress-');
  let dir = '';
  beforeEach(() => {
    dir = scratch();
  });

  /**
   * One run of the publisher: `squid` and `egress` say what proxy_healthy and egress_ok return, `peers` what the
   * hub's egress series holds (the Maximum CloudWatch would answer; 'fail' = no answer). Returns the AWS calls.
   */
  function run(o: { squid: boolean; egress: boolean; peers?: string; nlb?: boolean }): { calls: string[]; stderr: string } {
    const d = dir;
    writeFileSync(join(d, 'nft'), `#!/bin/bash\necho "nft $* $(tr '\\n' ' ' )" >> "${d}/calls"\n`, { mode: 0o755 });
    writeFileSync(
      join(d, 'aws'),
      `#!/bin/bash\necho "$*" >> "${d}/calls"\ncase "$2" in get-metric-statistics) [ "$PEERS" = fail ] && exit 255; echo "$PEERS" ;; esac\n`,
      { mode: 0o755 },
    );
    writeFileSync(join(d, 'squid.conf'), 'http_port 3201 name=project-a\n');
    writeFileSync(
      join(d, 'health.env'),
      `REGION=ap-northeast-1\nCONF=${d}/squid.conf\nDRAIN_FILE=${d}/run/drain\nNAMESPACE=egresshub/egresshub\nMETRIC=ProxyHealthy\nDIMENSION=Proxy=ProxyA\n`,
    );
    // The publisher as installed, with the probes swapped for switches after its functions are defined.
    const publisher = renderHealthPublisher(egress, o.nlb ? NLB_HEALTH_PORT : undefined).replace(
      /\npublish_health "\$1"\n$/,
      `\nproxy_healthy() { [ "$SQUID" = yes ]; }\negress_ok() { [ "$EGRESS" = yes ] || { echo "egress: (fake) no way out" >&2; return 1; }; }\n` +
        `curl() { :; }\npublish_health "$1"\n`,
    );
    writeFileSync(join(d, 'health'), publisher, { mode: 0o755 });
    const r = spawnSync(join(d, 'health'), [join(d, 'health.env')], {
      encoding: 'utf8',
      env: {
        PATH: `${d}:${process.env.PATH}`,
        SQUID: o.squid ? 'yes' : 'no',
        EGRESS: o.egress ? 'yes' : 'no',
        PEERS: o.peers ?? 'None',
      },
    });
    expect(r.status, r.stderr).toBe(0);
    let calls: string[] = [];
    try {
      calls = readFileSync(join(d, 'calls'), 'utf8')
        .trim()
        .split('\n')
        .map((c) => c.trim());
    } catch {
      // no calls
    }
    writeFileSync(join(d, 'calls'), '');
    return { calls: calls.filter(Boolean), stderr: r.stderr };
  }

  const healthPut = (v: number) =>
    `cloudwatch put-metric-data --region ap-northeast-1 --cli-connect-timeout 5 --cli-read-timeout 10 --namespace egresshub/egresshub --metric-name ProxyHealthy --dimensions Proxy=ProxyA --value ${v} --unit Count`;
  const egressDatum = (v: number) =>
    `MetricName=EgressOk,Dimensions=[{Name=Hub,Value=egresshub}],Value=${v},Unit=Count,StorageResolution=1`;

  it('egress works: one call publishes both the health (1) and the egress result (1)', () => {
    expect(run({ squid: true, egress: true }).calls).toEqual([
      `cloudwatch put-metric-data --region ap-northeast-1 --cli-connect-timeout 5 --cli-read-timeout 10 --namespace egresshub/egresshub --metric-data MetricName=ProxyHealthy,Dimensions=[{Name=Proxy,Value=ProxyA}],Value=1,Unit=Count ${egressDatum(1)}`,
    ]);
  });

  it('egress broken here but working on another proxy: the first failure keeps it, the second withdraws it (0)', () => {
    const first = run({ squid: true, egress: false, peers: '1.0' });
    expect(first.calls).toHaveLength(2);
    expect(first.calls[0]).toContain(`--metric-data ${egressDatum(0)}`);
    expect(first.calls[1]).toBe(healthPut(1));
    expect(first.stderr).toContain('first failed check');
    const second = run({ squid: true, egress: false, peers: '1.0' });
    expect(second.calls[0]).toContain(`--metric-data ${egressDatum(0)}`);
    expect(second.calls[1]).toMatch(
      new RegExp(
        `^cloudwatch get-metric-statistics .*--namespace egresshub/egresshub --metric-name EgressOk --dimensions Hub=egresshub --statistics Maximum --period 1 --start-time \\S+Z --end-time \\S+Z`,
      ),
    );
    expect(second.calls[2]).toBe(healthPut(0));
    expect(second.stderr).toContain("another proxy's egress works: withdrawing this one");
    // Back: the failure count starts over, and the proxy is healthy at once.
    expect(run({ squid: true, egress: true }).calls[0]).toContain('Value=1,Unit=Count MetricName=EgressOk');
    expect(run({ squid: true, egress: false, peers: '1.0' }).calls.at(-1)).toBe(healthPut(1));
  });

  it.each([
    ['every peer fails too (Maximum 0)', '0.0'],
    ['no peer reported in the window', 'None'],
    ['CloudWatch does not answer', 'fail'],
  ])('egress broken everywhere (%s): fails open, stays healthy (1)', (_name, peers) => {
    run({ squid: true, egress: false, peers });
    const r = run({ squid: true, egress: false, peers });
    expect(r.calls.at(-1)).toBe(healthPut(1));
    expect(r.stderr).toContain('no other proxy reports working egress');
    expect(r.stderr).toContain('failing open, staying in service');
  });

  it('Squid down or draining: 0, and no egress result (a proxy out of service is no way out for its peers)', () => {
    const r = run({ squid: false, egress: true });
    expect(r.calls).toEqual([healthPut(0)]);
  });

  it('behind an NLB: no health metric; a withdrawal refuses the health port, a return or Squid down lets it through', () => {
    const refuse = `nft -f - table inet egresshub_health { chain input { type filter hook input priority -5; policy accept; tcp dport ${NLB_HEALTH_PORT} reject with tcp reset } }`;
    const letThrough = 'nft delete table inet egresshub_health';
    const ok = run({ squid: true, egress: true, nlb: true }).calls;
    expect(ok).toEqual([expect.stringContaining(`--metric-data ${egressDatum(1)}`), letThrough]);
    expect(ok[0]).not.toContain('ProxyHealthy');
    expect(run({ squid: true, egress: false, peers: '1.0', nlb: true }).calls.at(-1)).toBe(letThrough);
    const withdrawn = run({ squid: true, egress: false, peers: '1.0', nlb: true }).calls;
    expect(withdrawn.at(-1)!.replace(/\s+/g, ' ')).toBe(refuse);
    expect(withdrawn.some((c) => c.includes('ProxyHealthy'))).toBe(false);
    // Everywhere broken: fail open, the check goes through.
    expect(run({ squid: true, egress: false, peers: '0.0', nlb: true }).calls.at(-1)).toBe(letThrough);
    // Squid down: the NLB's own check fails; nothing to refuse, no egress result.
    expect(run({ squid: false, egress: true, nlb: true }).calls).toEqual([letThrough]);
  });

  it('without an egress target the publisher behaves as before: one health value, no egress series', () => {
    const publisher = renderHealthPublisher();
    expect(publisher).toContain("\nEGRESS_HOST=''\n");
    expect(renderHealthPublisher(egress)).toContain(
      `\nEGRESS_HOST='sts.ap-northeast-1.amazonaws.com'\nEGRESS_PORT='443'\nEGRESS_METRIC='EgressOk'\nEGRESS_DIMENSION='Hub=egresshub'\nEGRESS_WINDOW='20'\nNLB_HEALTH_PORT=''\n`,
    );
  });
});

describe('egress_ok refusals (a fake getent on PATH)', () => {
  const scratch = scratchDirs('egresshub-egress-ok-');
  let dir = '';
  beforeEach(() => {
    dir = scratch();
  });

  function check(answer: string | undefined): { status: number | null; stderr: string } {
    writeFileSync(join(dir, 'getent'), answer === undefined ? '#!/bin/sh\nexit 2\n' : `#!/bin/sh\necho "${answer} STREAM $2"\n`, {
      mode: 0o755,
    });
    return spawnSync('bash', ['--norc', '-c', `${EGRESS_OK}\negress_ok sts.ap-northeast-1.amazonaws.com 443`], {
      encoding: 'utf8',
      env: { PATH: `${dir}:${process.env.PATH}` },
    });
  }

  it('a name that does not resolve fails, saying so', () => {
    const r = check(undefined);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('egress: sts.ap-northeast-1.amazonaws.com did not resolve within 3 s (resolver unreachable or no answer)');
  });

  it.each(['10.0.1.5', '172.16.0.9', '172.31.255.1', '192.168.3.4', '100.64.0.1', '100.127.0.1', '169.254.169.253', '127.0.0.1'])(
    'an answer in private space (%s, a VPC endpoint) is no way out',
    (ip) => {
      const r = check(ip);
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(
        `egress: sts.ap-northeast-1.amazonaws.com resolves to ${ip}, a private address (a VPC endpoint?), not a way out`,
      );
    },
  );
});

describe('hub.egressCheck in the plan', () => {
  it("defaults to the Region's STS endpoint and takes a target of the config's own, name lowercased", () => {
    expect(egress).toEqual({
      host: 'sts.ap-northeast-1.amazonaws.com',
      port: 443,
      metricName: 'EgressOk',
      dimension: 'Hub',
      dimensionValue: 'egresshub',
      windowSeconds: 20,
    });
    const cfg = loadConfigFile('examples/egresshub.yaml');
    const own = buildPlan({ ...cfg, hub: { ...cfg.hub, egressCheck: { target: 'API.Partner.example:8443' } } });
    expect(own.hub.proxyHealth.egress).toMatchObject({ host: 'api.partner.example', port: 8443 });
  });
});
