// End to end: builds the lab with real Squid, dnsmasq and namespaces, runs the whole matrix for both
// example configs, and always tears down. Needs root and the packages .ci/run installs.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../support/cli';
import { buildPlan, loadConfigFile } from '../../src/config';
import { labDown, labUp } from '../../src/lab/lab';
import { labNamespaces, labPaths } from '../../src/lab/state';
import {
  accessLogLength,
  accessLogMarks,
  accessLogSince,
  checkAccessLog,
  checkRules,
  parseLogLine,
  runMatrix,
  type MatrixRow,
} from '../../src/lab/matrix';
import { run } from '../../src/lab/sh';
import { LAB_STATE_DIR } from '../../src/lab/topology';
import { renderSquidConf } from '../../src/policy';
import { clientEnv, toShell } from '../../src/client/env';
import { inNs } from '../../src/lab/sh';
import { holdLabForThisFile } from '../support/lab-lock';
import { LAB_LOCK_DIR } from '../../src/lab/lock';

const quiet = () => {};
const example = buildPlan(loadConfigFile('examples/egresshub.yaml'));
const allowlist = buildPlan(loadConfigFile('examples/lab-allowlist.yaml'));

holdLabForThisFile();

function outcome(rows: readonly MatrixRow[], tenant: string, id: string) {
  const row = rows.find((r) => r.tenant === tenant && r.case.id === id);
  expect(row, `${tenant}/${id}`).toBeDefined();
  return row!;
}

function failures(rows: readonly MatrixRow[]) {
  return rows
    .filter((r) => !r.pass)
    .map((r) => ({ tenant: r.tenant, case: r.case.id, expected: r.case.expected, got: r.got, details: r.details }));
}

describe('lab (root, real Squid)', () => {
  it('runs the example config: identical spoke CIDRs, different policies, every case as expected', async () => {
    try {
      const { topo } = await labUp(example, 'examples/egresshub.yaml', quiet);
      // Squid runs the hub's squid.conf: only host settings may differ.
      const hub = renderSquidConf(example).split('\n');
      const lab = readFileSync(labPaths().squidConf, 'utf8').split('\n');
      expect(lab.filter((l) => !hub.includes(l)).map((l) => l.split(' ')[0])).toEqual([
        // The listeners differ only in the peek certificate's path.
        ...example.tenants.map(() => 'http_port'),
        'shutdown_lifetime',
        // The package's own copy of the log daemon, which the proxies install at LOG_DAEMON_PATH.
        'logfile_daemon',
        'access_log',
        'cache_log',
        'pid_filename',
        'coredump_dir',
        'dns_nameservers',
      ]);
      const from = accessLogLength(topo);
      const rows = runMatrix(topo);
      expect(failures(rows)).toEqual([]);
      expect(rows.length).toBeGreaterThan(40);
      // Same CIDR, same client address, different answers: the port decides.
      expect(outcome(rows, 'project-a', 'not-listed').got).toEqual({ curl: 'denied' });
      expect(outcome(rows, 'project-b', 'not-listed').got).toEqual({ curl: 'allowed' });
      expect(outcome(rows, 'project-a', 'not-listed-tls').got).toEqual({ curl: 'denied', fetch: 'denied' });
      // Inside the tunnel: the allowlist tenant's SNI is checked, the "*" tenant's is not; both refuse non-TLS bytes.
      expect(outcome(rows, 'project-a', 'sni-not-listed').got).toEqual({ curl: 'denied' });
      expect(outcome(rows, 'project-b', 'sni-not-listed').got).toEqual({ curl: 'allowed' });
      expect(outcome(rows, 'project-a', 'no-sni').got).toEqual({ curl: 'denied' });
      for (const t of ['project-a', 'project-b']) {
        expect(outcome(rows, t, 'ssh-in-tunnel').got).toEqual({ raw: 'denied' });
        expect(outcome(rows, t, 'http-in-tunnel').got).toEqual({ curl: 'denied' });
        expect(outcome(rows, t, 'http2').got).toEqual({ curl: 'allowed' });
        expect(outcome(rows, t, 'connect-80').got).toEqual({ curl: 'denied' });
      }
      expect(outcome(rows, 'project-a', 'wildcard').got).toEqual({ curl: 'allowed', fetch: 'allowed' });
      for (const t of ['project-a', 'project-b']) {
        for (const id of [
          'imds',
          'rebind',
          'rebind-tls',
          'ip-hex',
          'ip-decimal',
          'ip-ipv4-mapped',
          'ip-ipv4-mapped-hex',
          'ip-zero',
          'hub-proxy',
        ])
          expect(Object.values(outcome(rows, t, id).got)).not.toContain('allowed');
        expect(outcome(rows, t, 'proxy-direct').got.curl).toBe('no-connect');
      }
      // Plain HTTP is forwarded by Squid itself (curl): the origin must see no Via and no X-Forwarded-For.
      const forwarded = rows.filter((r) => r.got.curl === 'allowed' && r.case.request.startsWith('GET http://'));
      expect(forwarded.length).toBeGreaterThan(2);
      for (const r of forwarded) expect(r.details.curl).toContain('via=- xff=-');
      const logs = checkAccessLog(topo, rows, from);
      expect(logs.map((l) => [l.tenant, l.pass, l.mislabelled])).toEqual([
        ['project-a', true, 0],
        ['project-b', true, 0],
      ]);
      expect(logs[0]!.sample[0]).toMatch(/tenant=project-a client=10\.0\.0\.100:\d+ listener=3201 /);
      // Every rule a case says decides it shows in that tenant's log.
      expect(checkRules(topo, rows, from).filter((c) => !c.pass)).toEqual([]);
      // The log names the rule that decided, so an operator can tell an allowlist miss from an SSRF block.
      const entries = accessLogSince(topo, from).map(parseLogLine);
      const rulesFor = (tenant: string, match: (e: Record<string, string>) => boolean) =>
        [...new Set(entries.filter((e) => e.tenant === tenant && match(e)).map((e) => `${e.decision}/${e.rule}`))].sort();
      // Node's fetch tunnels http:// (CONNECT :80), refused by the port rule before any address check.
      expect(rulesFor('project-b', (e) => e.host === '169.254.169.254')).toEqual(['denied/blocked-destination', 'denied/connect-port']);
      expect(rulesFor('project-a', (e) => e.host === '169.254.169.254')).toEqual(['denied/not-allowlisted']);
      expect(rulesFor('project-b', (e) => e.host === '10.0.0.10' && e.port === '3202')).toEqual(['denied/http-port']);
      expect(rulesFor('project-b', (e) => e.host === '10.0.0.10' && e.port !== '3202')).toEqual(['denied/hub-cidr']);
      expect(rulesFor('project-b', (e) => e.host === 'rebind.example.net')).toEqual(['denied/blocked-destination', 'denied/connect-port']);
      expect(rulesFor('project-a', (e) => e.host === 'rebind.github.com')).toEqual(['denied/blocked-destination', 'denied/connect-port']);
      expect(rulesFor('project-a', (e) => e.sni === 'www.example.info')).toEqual(['denied/sni-mismatch']);
      expect(entries.some((e) => e.tenant === 'project-a' && e.rule === 'no-sni' && e.decision === 'denied' && e.sni === '-')).toBe(true);
      expect(rulesFor('project-b', (e) => e.method === 'CONNECT' && e.port === '22')).toEqual(['denied/connect-port']);
      expect(rulesFor('project-b', (e) => e.host === 'www.example.info')).toEqual(['allowed/tenant-allow']);
      expect(rulesFor('project-b', (e) => e.host === '127.0.0.1')).toEqual(['denied/blocked-destination']);
      // "0" is no dotted quad: the spelling rule itself denies it, before any address check.
      expect(rulesFor('project-b', (e) => e.host === '0')).toEqual(['denied/ip-literal-spelling']);
    } catch (e) {
      await labDown(quiet);
      throw e;
    }
  });

  it('matches the SNI as dstdomain matches a host: wildcards, any case, one trailing dot', async () => {
    const { topo } = await labUp(example, 'examples/egresshub.yaml', quiet);
    const lt = topo.tenants[0]!; // project-a: registry.npmjs.org and *.github.com
    // openssl sends the SNI exactly as written (curl and Node normalise it).
    const handshake = (sni: string) =>
      /Cipher is TLS_/.test(
        inNs(
          lt.spokeNs,
          [
            'openssl',
            's_client',
            '-proxy',
            `${lt.endpointIp}:${lt.tenant.port}`,
            '-connect',
            'registry.npmjs.org:443',
            '-servername',
            sni,
            '-CAfile',
            labPaths().caCert,
          ],
          { allowFail: true, timeoutMs: 10_000, input: '' },
        ).stdout,
      );
    for (const sni of ['registry.npmjs.org', 'REGISTRY.NPMJS.ORG', 'registry.npmjs.org.', 'github.com', 'API.GitHub.com.'])
      expect(handshake(sni), sni).toBe(true);
    for (const sni of ['evilgithub.com', 'npmjs.org', 'registry.npmjs.org..', 'github.com.evil.example'])
      expect(handshake(sni), sni).toBe(false);
  });

  it('is idempotent: a second up for the same config reuses the running lab', async () => {
    const { reused } = await labUp(example, 'examples/egresshub.yaml', quiet);
    expect(reused).toBe(true);
  });

  it("serves each tenant's proxy name in its spoke, and clients set up only by client-env reach the internet", async () => {
    const { topo } = await labUp(example, 'examples/egresshub.yaml', quiet);
    const start = accessLogMarks(topo);
    // Whether a request reached a proxy is read from its log lines, not their count: Squid writes a tunnel's line when
    // it closes, which may be after curl has exited, so the previous request's line can land at any moment.
    const imdsLines = () => accessLogSince(topo, start).filter((l) => l.includes('169.254.169.254'));
    for (const t of topo.tenants) {
      // The spoke's resolver answers the tenant's own name with its endpoint, and nothing else.
      const own = inNs(t.spokeNs, ['getent', 'hosts', `${t.tenant.name}.egress.internal`], { allowFail: true });
      expect(own.stdout, `${t.spokeNs}: getent of its proxy name (exit ${own.status}) ${own.stderr}`).toMatch(
        new RegExp(`^${t.endpointIp}\\s`),
      );
      const other = inNs(t.spokeNs, ['getent', 'hosts', 'www.example.net'], { allowFail: true });
      expect(other.status, `${t.spokeNs}: the spoke's resolver answered an internet name: ${other.stdout}`).not.toBe(0);
      const env = toShell(clientEnv(example, t.tenant.name));
      const curl = (url: string) =>
        inNs(
          t.spokeNs,
          ['sh', '-c', `${env}\ncurl -sS -o /dev/null --max-time 8 --cacert ${labPaths().caCert} -w '%{http_code}' '${url}'`],
          {
            allowFail: true,
            timeoutMs: 15_000,
          },
        );
      const allowedUrl = t.tenant.allow.any ? 'https://www.example.net/' : 'https://api.github.com/';
      const ok = curl(allowedUrl);
      expect(`${ok.status} ${ok.stdout}`, `${t.spokeNs}: ${allowedUrl} through the proxy: ${ok.stderr}`).toBe('0 200');
      // NO_PROXY keeps the metadata address off the proxy: curl goes direct, and a spoke has no route there.
      const imds = curl('http://169.254.169.254/latest/meta-data/');
      expect(imds.status, `${t.spokeNs}: the metadata address must go direct and fail to connect: ${imds.stderr}`).toBe(7);
      expect(imdsLines(), `${t.spokeNs}: a proxy logged the metadata address`).toEqual([]);
    }
    // Again once every other tenant's requests have had time to be logged: no line for the metadata address came late.
    expect(imdsLines()).toEqual([]);
  });

  it('runs the allowlist-only config with custom ports, replacing the previous lab', async () => {
    try {
      const { topo, reused } = await labUp(allowlist, 'examples/lab-allowlist.yaml', quiet);
      expect(reused).toBe(false);
      const from = accessLogLength(topo);
      const rows = runMatrix(topo);
      expect(failures(rows)).toEqual([]);
      expect(outcome(rows, 'build', 'connect-8443').got).toEqual({ curl: 'allowed', fetch: 'allowed' });
      expect(outcome(rows, 'analytics', 'connect-8443').got).toEqual({ curl: 'denied', fetch: 'denied' });
      expect(outcome(rows, 'build', 'http-8080').got).toEqual({ curl: 'allowed' });
      expect(outcome(rows, 'build', 'case-dot').got).toEqual({ curl: 'allowed', raw: 'allowed' });
      expect(outcome(rows, 'analytics', 'port-of-build').got).toEqual({ curl: 'no-connect', raw: 'no-connect' });
      expect(checkAccessLog(topo, rows, from).every((l) => l.pass)).toBe(true);
      expect(checkRules(topo, rows, from).filter((c) => !c.pass)).toEqual([]);
    } finally {
      await labDown(quiet);
    }
  });

  it('tears down what it built when up fails part-way', async () => {
    const failAt = (s: string) => {
      if (s.startsWith('starting dnsmasq')) throw new Error('injected failure after the namespaces were wired');
    };
    await expect(labUp(example, 'examples/egresshub.yaml', failAt)).rejects.toThrow('injected failure');
    expect(labNamespaces()).toEqual([]);
    expect(existsSync(LAB_STATE_DIR)).toBe(false);
  });

  it('tears down a half-built lab and leaves nothing behind', async () => {
    run(['ip', 'netns', 'add', 'eh-hub']);
    mkdirSync(`${LAB_STATE_DIR}/squid`, { recursive: true });
    mkdirSync('/etc/netns/eh-hub', { recursive: true });
    const r = await labDown(quiet);
    expect(r.namespaces).toBe(1);
    expect(labNamespaces()).toEqual([]);
    expect(existsSync(LAB_STATE_DIR)).toBe(false);
    expect(existsSync('/etc/netns/eh-hub')).toBe(false);
    expect(await labDown(quiet)).toEqual({ namespaces: 0, processes: 0 });
  });

  it('fails when another run holds the lab, with exit code 2 and its pid, leaving that lab alone', async () => {
    // This file holds the lock; hand it to a live stand-in process for the length of the call.
    const other = spawn('sleep', ['30']);
    const pidFile = join(LAB_LOCK_DIR, 'pid');
    writeFileSync(pidFile, String(other.pid));
    try {
      let err = '';
      const sink = (f: (s: string) => void) => new Writable({ write: (c: Buffer, _e, cb) => (f(c.toString()), cb()) });
      const code = await main(['lab', 'down'], { out: sink(() => {}), err: sink((s) => (err += s)) });
      expect(err).toContain(`the lab is in use by another egresshub run (pid ${other.pid!})`);
      expect(code).toBe(2);
    } finally {
      writeFileSync(pidFile, String(process.pid));
      other.kill();
    }
  });

  it('fails when not root, with exit code 2 and a message that says so', async () => {
    // In-process with a faked uid: a real unprivileged run would also need the checkout readable by that user.
    const uid = vi.spyOn(process, 'getuid').mockReturnValue(1000);
    try {
      let err = '';
      const sink = (f: (s: string) => void) => new Writable({ write: (c: Buffer, _e, cb) => (f(c.toString()), cb()) });
      const code = await main(['lab', 'up'], { out: sink(() => {}), err: sink((s) => (err += s)) });
      expect(err).toContain('the lab needs root to create network namespaces (running as uid 1000)');
      expect(code).toBe(2);
      expect(labNamespaces()).toEqual([]);
    } finally {
      uid.mockRestore();
    }
  });
});
