// The doctor against real loopback servers: a healthy path, then one fault at a time, each named by the
// step that catches it, with its fix. Nothing leaves 127.0.0.1 (the NO_PROXY check reads the setting only).
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnose, type DoctorOptions, type DoctorReport, type StepId } from '../../src/doctor';
import { runCli } from '../support/cli';
import {
  freePort,
  makeCert,
  startDns,
  startHttpOrigin,
  startOrigin,
  startProxy,
  startProxyDown,
  startSilent,
  type Cert,
  type Running,
} from './servers';

const NO_PROXY = '169.254.169.254,fd00:ec2::254,169.254.170.2,localhost,127.0.0.1,.internal,10.0.0.0/16';
let cert: Cert;
let dns: Running & { server: string };
let origin: Running;
let httpOrigin: Running;
let proxy: Running & { requests: string[] };
let allowAll: Running;
let proxyDown: Running;
let silent: Running;
let closedPort: number;

beforeAll(async () => {
  cert = makeCert('origin.test');
  origin = await startOrigin(cert);
  httpOrigin = await startHttpOrigin();
  proxy = await startProxy({
    upstream: { 'origin.test': origin.port, 'plain.test': httpOrigin.port },
    deny: ['denied.test', '169.254.169.254'],
  });
  // Broken: lets the "denied" hosts through (tunnelled to the loopback origin, never to their real address).
  allowAll = await startProxy({
    upstream: { 'origin.test': origin.port, 'denied.test': origin.port, '169.254.169.254': origin.port },
    deny: [],
  });
  proxyDown = await startProxyDown();
  silent = await startSilent();
  closedPort = await freePort();
  // two-az: one address per AZ, as a resource endpoint has; nothing listens on 127.0.0.2 (still loopback).
  dns = await startDns({
    'proxy.egress.test': '127.0.0.1',
    'public.egress.test': '127.0.0.1',
    'two-az.egress.test': '127.0.0.1,127.0.0.2',
    'v6.egress.test': '::1',
  });
});

afterAll(async () => {
  await Promise.all([origin, httpOrigin, proxy, allowAll, proxyDown, silent, dns].map((s) => s?.close()));
});

function healthy(port = proxy.port): DoctorOptions {
  return {
    proxy: `http://proxy.egress.test:${port}`,
    noProxy: NO_PROXY,
    testUrl: `https://origin.test:${origin.port}/`,
    deniedUrl: 'https://denied.test/',
    vpcCidr: '127.0.0.0/8',
    dnsServer: dns.server,
    ca: [cert.cert],
    timeoutMs: 3000,
  };
}

function step(report: DoctorReport, id: StepId) {
  const s = report.steps.find((x) => x.id === id);
  expect(s, `step ${id}`).toBeDefined();
  return s!;
}

function verdicts(report: DoctorReport): Record<string, string> {
  return Object.fromEntries(report.steps.map((s) => [s.id, s.verdict]));
}

describe('doctor', () => {
  it('passes every step on a healthy path, with a real TLS handshake through the tunnel', async () => {
    const report = await diagnose(healthy());
    expect(verdicts(report)).toEqual({
      'proxy-setting': 'pass',
      resolve: 'pass',
      tcp: 'pass',
      tunnel: 'pass',
      denied: 'pass',
      'no-proxy': 'pass',
    });
    expect(report.healthy).toBe(true);
    expect(step(report, 'resolve').detail).toBe("proxy.egress.test → 127.0.0.1 (inside the VPC's 127.0.0.0/8)");
    expect(step(report, 'tunnel').detail).toMatch(/^CONNECT origin\.test:\d+ → 200; TLSv1\.3 with origin\.test; HEAD \/ → 200$/);
    expect(step(report, 'denied').detail).toBe('the proxy refused denied.test: 403 Forbidden (ERR_ACCESS_DENIED 0)');
    expect(proxy.requests).toContain(`CONNECT origin.test:${origin.port}`);
  });

  it('reads the proxy and NO_PROXY from the environment, and refuses the default denied URL (metadata) through the proxy only', async () => {
    const report = await diagnose({
      ...healthy(),
      proxy: undefined,
      noProxy: undefined,
      deniedUrl: undefined,
      env: { https_proxy: `http://proxy.egress.test:${proxy.port}`, NO_PROXY },
    });
    expect(report.healthy).toBe(true);
    expect(step(report, 'proxy-setting').detail).toBe(`http://proxy.egress.test:${proxy.port}/ from https_proxy`);
    expect(step(report, 'denied').detail).toBe('the proxy refused 169.254.169.254: 403 Forbidden (ERR_ACCESS_DENIED 0)');
    expect(step(report, 'no-proxy').detail).toBe('NO_PROXY lists 169.254.169.254');
  });

  it('checks plain-HTTP test and denied URLs with absolute-form requests', async () => {
    const report = await diagnose({
      ...healthy(),
      testUrl: `http://plain.test:${httpOrigin.port}/status`,
      deniedUrl: 'http://denied.test/',
    });
    expect(step(report, 'tunnel')).toMatchObject({
      verdict: 'pass',
      detail: `GET http://plain.test:${httpOrigin.port}/status through the proxy → 200`,
    });
    expect(step(report, 'denied')).toMatchObject({
      verdict: 'pass',
      detail: 'the proxy refused denied.test: 403 Forbidden (ERR_ACCESS_DENIED 0)',
    });
    expect(proxy.requests).toContain(`GET http://plain.test:${httpOrigin.port}/status`);
  });

  it('fails when the proxy name does not resolve, and skips what needs it', async () => {
    const report = await diagnose({ ...healthy(), proxy: `http://wrong.egress.test:${proxy.port}` });
    expect(report.healthy).toBe(false);
    expect(step(report, 'resolve')).toMatchObject({
      verdict: 'fail',
      detail: `wrong.egress.test does not resolve (ENOTFOUND) (asked ${dns.server})`,
    });
    expect(step(report, 'resolve').fix).toMatch(/private DNS .*SPECIFIED_DOMAINS_ONLY/);
    expect(verdicts(report)).toMatchObject({ tcp: 'skip', tunnel: 'skip', denied: 'skip', 'no-proxy': 'pass' });
  });

  it('fails when the proxy name resolves outside the VPC', async () => {
    const report = await diagnose({ ...healthy(), proxy: `http://public.egress.test:${proxy.port}`, vpcCidr: '10.0.0.0/16' });
    expect(step(report, 'resolve')).toMatchObject({
      verdict: 'fail',
      detail: "public.egress.test resolves to 127.0.0.1; 127.0.0.1 outside the VPC's 10.0.0.0/16",
    });
  });

  it('fails when nothing listens on the port (wrong port)', async () => {
    const report = await diagnose(healthy(closedPort));
    expect(step(report, 'tcp')).toMatchObject({
      verdict: 'fail',
      detail: `127.0.0.1:${closedPort} refused the connection: nothing listens on port ${closedPort}`,
    });
    expect(step(report, 'tcp').fix).toMatch(/client-env/);
    expect(verdicts(report)).toMatchObject({ tunnel: 'skip', denied: 'skip' });
  });

  it('fails when one of the endpoint addresses (one AZ) does not connect, naming it', async () => {
    const report = await diagnose({ ...healthy(), proxy: `http://two-az.egress.test:${proxy.port}` });
    expect(step(report, 'resolve').detail).toBe("two-az.egress.test → 127.0.0.1, 127.0.0.2 (inside the VPC's 127.0.0.0/8)");
    expect(step(report, 'tcp')).toMatchObject({
      verdict: 'fail',
      detail: `127.0.0.2:${proxy.port} refused the connection: nothing listens on port ${proxy.port} (127.0.0.1:${proxy.port} connected)`,
    });
  });

  it('does not judge IPv6 answers against the IPv4 VPC CIDR, but still connects to them', async () => {
    const report = await diagnose({ ...healthy(), proxy: `http://v6.egress.test:${proxy.port}` });
    expect(step(report, 'resolve')).toMatchObject({
      verdict: 'pass',
      detail: "v6.egress.test → ::1 (IPv6 only: not judged against the VPC's 127.0.0.0/8)",
    });
    // The loopback proxy listens on 127.0.0.1 only.
    expect(step(report, 'tcp')).toMatchObject({
      verdict: 'fail',
      detail: `[::1]:${proxy.port} refused the connection: nothing listens on port ${proxy.port}`,
    });
  });

  it('fails when the endpoint accepts but the proxy behind it is down', async () => {
    const report = await diagnose(healthy(proxyDown.port));
    expect(step(report, 'tcp').verdict).toBe('pass');
    expect(step(report, 'tunnel')).toMatchObject({
      verdict: 'fail',
      detail: `the endpoint accepted the connection on port ${proxyDown.port}, then closed it without an HTTP answer`,
    });
    expect(step(report, 'tunnel').fix).toMatch(/proxy behind the endpoint is down/);
    expect(step(report, 'denied').detail).toMatch(/a network failure is not a refusal$/);
    expect(step(report, 'denied').verdict).toBe('fail');
  });

  it('fails when the denied URL is actually allowed', async () => {
    const report = await diagnose(healthy(allowAll.port));
    expect(step(report, 'tunnel').verdict).toBe('pass');
    expect(step(report, 'denied')).toMatchObject({
      verdict: 'fail',
      detail: 'the proxy let denied.test through (200 Connection established): it does not enforce the policy',
    });
  });

  it('fails when NO_PROXY misses the metadata address', async () => {
    const report = await diagnose({ ...healthy(), noProxy: 'localhost,.internal,10.0.0.0/16' });
    expect(verdicts(report)).toMatchObject({ tunnel: 'pass', 'no-proxy': 'fail' });
    expect(step(report, 'no-proxy').detail).toBe(
      "--no-proxy does not cover 169.254.169.254: instance metadata (and the SDKs' credentials) would go to the proxy, which refuses it",
    );
  });

  it('fails when the test URL is not on the allowlist, naming the proxy refusal', async () => {
    const report = await diagnose({ ...healthy(), testUrl: 'https://denied.test/' });
    expect(step(report, 'tunnel')).toMatchObject({
      verdict: 'fail',
      detail: 'the proxy refused denied.test: 403 Forbidden (ERR_ACCESS_DENIED 0)',
    });
  });

  it("fails when the origin's certificate is not trusted", async () => {
    const report = await diagnose({ ...healthy(), ca: undefined });
    expect(step(report, 'tunnel').verdict).toBe('fail');
    expect(step(report, 'tunnel').detail).toMatch(
      /^CONNECT origin\.test:\d+ → 200, but TLS through the tunnel failed: DEPTH_ZERO_SELF_SIGNED_CERT/,
    );
    expect(step(report, 'tunnel').fix).toMatch(/--ca-file/);
  });

  it('fails when no proxy is configured at all', async () => {
    const report = await diagnose({ env: {}, dnsServer: dns.server });
    expect(step(report, 'proxy-setting')).toMatchObject({
      verdict: 'fail',
      detail: 'no proxy configured: HTTPS_PROXY and https_proxy are unset',
    });
    expect(verdicts(report)).toMatchObject({ resolve: 'skip', tcp: 'skip', tunnel: 'skip', denied: 'skip', 'no-proxy': 'fail' });
  });

  it('fails when https_proxy and HTTPS_PROXY disagree', async () => {
    const report = await diagnose({ env: { https_proxy: 'http://a.test:1', HTTPS_PROXY: 'http://b.test:1', NO_PROXY } });
    expect(step(report, 'proxy-setting').detail).toBe(
      'https_proxy=http://a.test:1 but HTTPS_PROXY=http://b.test:1: tools disagree on which they read',
    );
  });

  it('fails when https_proxy and HTTPS_PROXY disagree, without printing their passwords', async () => {
    const report = await diagnose({ env: { https_proxy: 'http://a:pw1@a.test:1', HTTPS_PROXY: 'http://b:pw2@b.test:1', NO_PROXY } });
    expect(step(report, 'proxy-setting').detail).toBe(
      'https_proxy=http://a:***@a.test:1 but HTTPS_PROXY=http://b:***@b.test:1: tools disagree on which they read',
    );
    expect(JSON.stringify(report)).not.toMatch(/pw1|pw2/);
  });

  it('escapes and clips what a hostile proxy answers (its reason and X-Squid-Error)', async () => {
    const reason = `\u001b]0;pwned\u0007${'x'.repeat(5_000)}`;
    const server = createServer((socket) => {
      socket.once('data', () => socket.end(`HTTP/1.1 403 ${reason}\r\nX-Squid-Error: \u001b[2J\r\n\r\n`));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const report = await diagnose(healthy((server.address() as AddressInfo).port));
      const detail = step(report, 'tunnel').detail;
      expect(detail).toBe(
        `the proxy refused origin.test:${origin.port}: 403 \\e]0;pwned\\x07${'x'.repeat(66)}… (5,010 characters) (\\e[2J)`,
      );
    } finally {
      server.close();
    }
  });

  it('bounds every step by its timeout (a proxy that never answers)', async () => {
    const started = Date.now();
    const report = await diagnose({ ...healthy(silent.port), timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(2500);
    expect(step(report, 'tunnel')).toMatchObject({ verdict: 'fail', detail: 'the proxy sent no HTTP answer within 300 ms' });
  });
});

describe('egresshub doctor (CLI)', () => {
  const flags = (port = proxy.port) => [
    '--proxy',
    `http://proxy.egress.test:${port}`,
    '--no-proxy',
    NO_PROXY,
    '--test-url',
    `https://origin.test:${origin.port}/`,
    '--denied-url',
    'https://denied.test/',
    '--vpc-cidr',
    '127.0.0.0/8',
    '--dns-server',
    dns.server,
    '--ca-file',
    cert.certFile,
    '--timeout',
    '3000',
  ];

  it('prints a table and exits 0 when healthy', async () => {
    const r = await runCli('doctor', '--no-color', ...flags());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/CONNECT \+ TLS to the test URL\s*│\s*pass/);
    expect(r.stdout).toMatch(/^healthy$/m);
    expect(r.stdout).not.toMatch(/^fix /m);
  });

  it('prints the fix under the table for each failed check', async () => {
    const r = await runCli('doctor', '--no-color', ...flags().map((f) => (f === NO_PROXY ? 'localhost' : f)));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^fix NO_PROXY covers the metadata service: add 169\.254\.169\.254 to NO_PROXY; load the settings egresshub client-env prints/m,
    );
    expect(r.stdout).toMatch(/^unhealthy: 1 of 6 checks failed$/m);
  });

  it('still takes the old spelling --noproxy, with a warning naming the new one', async () => {
    const r = await runCli(
      'doctor',
      '--no-color',
      ...flags().filter((f, i, a) => f !== '--no-proxy' && a[i - 1] !== '--no-proxy'),
      '--noproxy',
      'localhost',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--noproxy is now spelled --no-proxy, as in client-env');
    expect(r.stdout).toMatch(/^unhealthy: 1 of 6 checks failed$/m);
  });

  it('prints JSON with --json and exits 1 when unhealthy', async () => {
    const r = await runCli('--json', 'doctor', ...flags(allowAll.port));
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.healthy).toBe(false);
    expect(report.steps.filter((s) => s.verdict === 'fail').map((s) => s.id)).toEqual(['denied']);
  });

  it.each([
    ['the table', [] as string[]],
    ['JSON', ['--json']],
  ])('never prints a proxy URL password, in %s', async (_title, global) => {
    const withPassword = flags().map((f) => f.replace('http://proxy.egress.test', 'http://alice:s3cr%40t@proxy.egress.test'));
    const r = await runCli(...global, 'doctor', '--no-color', ...withPassword);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/s3cr/);
    expect(r.stdout).toContain('http://alice:***@proxy.egress.test');
  });

  it.each([
    ['not a URL', 'http://alice:s3cret@bad host:1', /^error: --proxy: not a URL \(got "http:\/\/alice:\*\*\*@bad host:1"\)/],
    ['not http', 'https://alice:s3cret@proxy.test:1', /^error: --proxy: expected http: URL \(got "https:\/\/alice:\*\*\*@proxy\.test:1"\)/],
  ])('fails when --proxy is %s, without printing its password', async (_title, proxyUrl, says) => {
    const r = await runCli('doctor', '--proxy', proxyUrl);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(says);
    expect(r.stderr).not.toMatch(/s3cret/);
  });

  it('fails when --proxy is not a URL, with exit 2', async () => {
    const r = await runCli('doctor', '--proxy', 'proxy.egress.test:3201x');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--proxy: (not a URL|expected http: URL) \(got "proxy\.egress\.test:3201x"\)/);
  });

  it('fails when --timeout is out of bounds, with exit 2', async () => {
    const r = await runCli('doctor', '--timeout', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --timeout expects a whole number from 100 to 60,000 \(got "0"\); e\.g\. --timeout 5000$/m);
  });

  it('fails when --dns-server is not an address, with exit 2', async () => {
    const r = await runCli('doctor', '--dns-server', 'ns.example');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--dns-server: expected an IP address with an optional port/);
  });
});
