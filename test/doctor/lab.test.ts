// `egresshub doctor` inside the lab's spoke namespaces, against real Squid running the generated policy
// through the emulated endpoint/gateway, with the proxy name answered by the spoke's own resolver (the lab's
// stand-in for the managed private hosted zone). Root only; the lab lock serialises lab-building test files.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sleep } from '../../src/lab/sh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientEnv } from '../../src/client/env';
import { buildPlan, loadConfigFile } from '../../src/config';
import type { DoctorReport, StepId } from '../../src/doctor';
import { labDown, labUp } from '../../src/lab/lab';
import { labPaths } from '../../src/lab/state';
import type { LabTopology } from '../../src/lab/topology';
import { acquireLabLock } from '../support/lab-lock';

// Root only (network namespaces); CI runs as root. The lab lock keeps other lab-building test files out.
const RUN = process.getuid?.() === 0;
const CONFIG = 'examples/egresshub.yaml';
const plan = buildPlan(loadConfigFile(CONFIG));
const quiet = () => {};
const PROXY_NAME = 'project-a.egress.internal';

let topo: LabTopology;
let startedLab = false;
let release: (() => void) | undefined;

function doctorIn(ns: string, args: readonly string[]): { code: number; report: DoctorReport } {
  const r = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      '-r',
      require.resolve('tsx/cjs'),
      'src/cli/main.ts',
      '--json',
      'doctor',
      '--timeout',
      '3000',
      ...args,
    ],
    { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH } },
  );
  expect(r.stderr).toBe('');
  return { code: r.status ?? -1, report: JSON.parse(r.stdout) as DoctorReport };
}

const verdict = (report: DoctorReport, id: StepId) => report.steps.find((s) => s.id === id);

describe.runIf(RUN)('doctor in the lab (root, real Squid)', () => {
  beforeAll(async () => {
    release = await acquireLabLock();
    const up = await labUp(plan, CONFIG, quiet);
    topo = up.topo;
    startedLab = !up.reused;
    // The lab's spoke resolver answers the tenant's proxy name, as the managed private hosted zone does.
  });

  afterAll(async () => {
    try {
      if (startedLab) await labDown(quiet);
    } finally {
      release?.();
    }
  });

  const base = () => {
    const a = topo.tenants[0]!;
    const env = clientEnv(plan, 'project-a');
    return [
      '--proxy',
      env.proxyUrl,
      '--no-proxy',
      env.noProxy.join(','),
      '--vpc-cidr',
      a.vpcCidr,
      '--ca-file',
      labPaths().caCert,
      '--test-url',
      'https://api.github.com/',
    ];
  };

  it('is healthy in project-a’s spoke, configured only with client-env’s values', () => {
    const { code, report } = doctorIn(topo.tenants[0]!.spokeNs, base());
    expect(report.steps.filter((s) => s.verdict !== 'pass')).toEqual([]);
    expect(code).toBe(0);
    expect(verdict(report, 'resolve')?.detail).toBe(`${PROXY_NAME} → ${topo.tenants[0]!.endpointIp} (inside the VPC's 10.0.0.0/16)`);
    // A CONNECT refused by policy is answered 407 (an ssl-bump port would bump a 403; docs/policy.md "Tunnels").
    expect(verdict(report, 'denied')?.detail).toBe(
      'the proxy refused 169.254.169.254: 407 Proxy Authentication Required (ERR_CACHE_ACCESS_DENIED 0)',
    );
  });

  it('names each fault in a broken spoke', () => {
    const ns = topo.tenants[0]!.spokeNs;
    const args = base();
    const withArg = (flag: string, value: string) => args.map((v, i) => (args[i - 1] === flag ? value : v));
    const wrongName = doctorIn(ns, withArg('--proxy', 'http://project-x.egress.internal:3201'));
    expect(verdict(wrongName.report, 'resolve')?.detail).toMatch(/^project-x\.egress\.internal does not resolve \(ENOTFOUND\)/);
    // project-b's port on project-a's endpoint: the endpoint carries only its tenant's port and resets the rest.
    const wrongPort = doctorIn(ns, withArg('--proxy', `http://${PROXY_NAME}:3202`));
    expect(verdict(wrongPort.report, 'tcp')?.detail).toMatch(/refused the connection: nothing listens on port 3202/);
    const notAllowed = doctorIn(ns, withArg('--test-url', 'https://example.net/'));
    expect(verdict(notAllowed.report, 'tunnel')?.detail).toBe(
      'the proxy refused example.net: 407 Proxy Authentication Required (ERR_CACHE_ACCESS_DENIED 0)',
    );
    const noMetadata = doctorIn(ns, withArg('--no-proxy', 'localhost,.internal'));
    expect(verdict(noMetadata.report, 'no-proxy')?.verdict).toBe('fail');
    for (const r of [wrongName, wrongPort, notAllowed, noMetadata]) expect(r.code).toBe(1);
  });

  it('fails the denied check in project-b\'s spoke (allow "*") when the denied URL is a public site', () => {
    const b = topo.tenants[1]!;
    const r = doctorIn(b.spokeNs, [
      '--proxy',
      `http://${b.endpointIp}:${b.tenant.port}`,
      '--no-proxy',
      '169.254.169.254',
      '--vpc-cidr',
      b.vpcCidr,
      '--ca-file',
      labPaths().caCert,
      '--test-url',
      'https://example.net/',
      '--denied-url',
      'https://example.info/',
    ]);
    expect(verdict(r.report, 'tunnel')?.verdict).toBe('pass');
    expect(verdict(r.report, 'denied')?.detail).toBe(
      'the proxy let example.info through (200 Connection established): it does not enforce the policy',
    );
    expect(r.code).toBe(1);
  });

  // Last: stops the Squid this test's labUp started (never one it reused), then afterAll tears the lab down.
  it.runIf(RUN)('names a proxy that is down behind a working endpoint', async () => {
    if (!startedLab) return;
    process.kill(Number(readFileSync(labPaths().squidPid, 'utf8').trim()), 'SIGINT');
    await sleep(1500);
    const r = doctorIn(topo.tenants[0]!.spokeNs, base());
    // The lab's endpoint and gateway forward the connection as NAT does, so the hub's refusal reaches the client.
    expect(verdict(r.report, 'tcp')).toMatchObject({
      verdict: 'fail',
      detail: `${topo.tenants[0]!.endpointIp}:3201 refused the connection: nothing listens on port 3201`,
    });
    expect(verdict(r.report, 'tcp')?.fix).toMatch(/the proxy behind the endpoint may be down/);
    expect(r.code).toBe(1);
  });
});
