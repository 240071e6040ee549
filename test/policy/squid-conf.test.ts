import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile, type EgressPlan } from '../../src/config';
import { planWith } from '../fixtures/configs';
import { ensurePeekCert } from '../../src/lab/instance-scripts';
import { withoutPeek } from '../../bench/peek';
import { NLB_HEALTH_PORT, RESERVED_PORTS } from '../../src/config';
import {
  BLOCKED_DESTINATIONS,
  LOG_DAEMON_PATH,
  LOG_DAEMON_SOURCE,
  HEALTH_PROBE,
  NLB_HEALTH_LISTENER,
  MAX_CONF_LINE,
  egressPortsOf,
  PEEK_CERT_FILE,
  POLICY_DENIED_HELPER,
  POLICY_DENIED_REALM,
  renderSquidConf,
  TENANT_KEEPALIVE,
  tunnelPortsOf,
  VISIBLE_HOSTNAME,
} from '../../src/policy';

/** The tenant listeners' keepalive option as rendered. */
const KEEPALIVE = `tcpkeepalive=${TENANT_KEEPALIVE.idleSeconds},${TENANT_KEEPALIVE.intervalSeconds},${TENANT_KEEPALIVE.timeoutSeconds}`;

const work = mkdtempSync(join(tmpdir(), 'eh-policy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// Squid reads the ssl-bump ports' certificate while parsing: the instance's own ensure_tls_peek makes one here.
const peekCert = join(work, 'peek.pem');
ensurePeekCert(peekCert);

const example = buildPlan(loadConfigFile('examples/egresshub.yaml'));
const allowlist = buildPlan(loadConfigFile('examples/lab-allowlist.yaml'));
const implicit = planWith();

/** The allowlist lab config (a "*" tenant and an allowlisted one) in mode nlb. */
const nlb = planWith(
  [
    { name: 'open', port: 3201, allow: '*' },
    { name: 'listed', port: 3202, allow: ['*.github.com'], connectPorts: [443, 8443] },
  ],
  { proxy: { mode: 'nlb' } },
);

function manyTenants(n: number): EgressPlan {
  return planWith(
    Array.from({ length: n }, (_, i) => ({
      // Names of the longest allowed length (24): the longest lines a real hub writes.
      name: `t${String(i).padStart(4, '0')}-${'x'.repeat(18)}`,
      port: 5000 + i,
      allow: i % 2 === 0 ? '*' : [`*.t${i}.example.com`, `api${i}.example.org`],
    })),
  );
}

/**
 * Runs Squid's own parser over the text; returns its warnings (Via off is a deliberate one). The parser insists that
 * the log daemon exists: a proxy installs it at LOG_DAEMON_PATH first, here the package's copy stands in.
 */
function squidParse(text: string, name: string): string[] {
  const file = join(work, `${name}.conf`);
  writeFileSync(file, text.replaceAll(PEEK_CERT_FILE, peekCert).replaceAll(LOG_DAEMON_PATH, LOG_DAEMON_SOURCE));
  const r = spawnSync('squid', ['-k', 'parse', '-f', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  expect(r.error, 'squid must be installed (apt-get install squid-openssl)').toBeUndefined();
  expect(r.status, r.stderr).toBe(0);
  // "Processing: <line>" echoes the config.
  return (r.stderr + r.stdout).split('\n').filter((l) => /WARNING|ERROR|FATAL|BUNGLED/i.test(l) && !/\| Processing: /.test(l));
}

const rules = (conf: string) => conf.split('\n').filter((l) => l.startsWith('http_access '));
const bumps = (conf: string) => conf.split('\n').filter((l) => l.startsWith('ssl_bump '));

describe('renderSquidConf', () => {
  it('keeps tenant connections alive under the idle timeouts of their path, and can leave keepalive off', () => {
    const k = TENANT_KEEPALIVE;
    // The first probe comes before the shortest documented neighbour's idle timeout (VPC Lattice services: 60 s by
    // default) and NLB's and endpoints' 350 s; a silent client is let go well before read_timeout's 15 minutes.
    expect(k.idleSeconds).toBeLessThan(60);
    expect(k.idleSeconds + k.timeoutSeconds).toBeLessThan(350);
    expect(k.timeoutSeconds / k.intervalSeconds).toBeGreaterThanOrEqual(3);
    const off = renderSquidConf(example, { tcpKeepalive: false });
    expect(off).not.toContain('tcpkeepalive');
    expect(renderSquidConf(example, { tcpKeepalive: { idleSeconds: 2, intervalSeconds: 1, timeoutSeconds: 4 } })).toContain(
      `http_port ${example.tenants[0]!.port} name=${example.tenants[0]!.name} tcpkeepalive=2,1,4 ssl-bump`,
    );
  });

  it.each([
    ['the example config', example],
    ['the allowlist lab config', allowlist],
    ['the implicit shared tenant', implicit],
    ['an nlb hub (health listener)', nlb],
  ])('passes squid -k parse for %s with no warning but the deliberate Via one', (_name, plan) => {
    const warnings = squidParse(renderSquidConf(plan), plan.name + plan.tenants.length);
    expect(warnings.map((w) => w.replace(/^.*\| /, ''))).toEqual(['WARNING: HTTP requires the use of Via']);
  });

  it('passes squid -k parse without overlap warnings when an allowlist repeats names a wildcard covers', () => {
    const plan = planWith([
      { name: 'dup', port: 3300, allow: ['*.github.com', 'api.github.com', '*.api.github.com', 'GitHub.com.', 'x.example.org'] },
    ]);
    const warnings = squidParse(renderSquidConf(plan), 'overlap');
    expect(warnings.map((w) => w.replace(/^.*\| /, ''))).toEqual(['WARNING: HTTP requires the use of Via']);
    expect(renderSquidConf(plan)).toContain('\nacl allow_dup dstdomain -n x.example.org .github.com\n');
  });

  it('also parses with the lab host overrides, which only touch paths, resolver and shutdown time', () => {
    const hub = renderSquidConf(example).split('\n');
    const lab = renderSquidConf(example, {
      host: {
        logDir: '/run/x',
        pidFile: '/run/x/squid.pid',
        dnsNameservers: ['198.51.100.53'],
        coredumpDir: '/run/x',
        shutdownLifetimeSeconds: 1,
        peekCertFile: PEEK_CERT_FILE,
      },
    }).split('\n');
    squidParse(lab.join('\n'), 'lab');
    const changed = lab.filter((l) => !hub.includes(l));
    expect(changed.map((l) => l.split(' ')[0])).toEqual([
      'shutdown_lifetime',
      'logfile_daemon',
      'access_log',
      'cache_log',
      'pid_filename',
      'coredump_dir',
      'dns_nameservers',
    ]);
  });

  it('gives every tenant its own named listener and tags its transactions', () => {
    const conf = renderSquidConf(example);
    for (const t of example.tenants) {
      expect(conf).toContain(
        `\nhttp_port ${t.port} name=${t.name} ${KEEPALIVE} ssl-bump generate-host-certificates=off tls-cert=${PEEK_CERT_FILE}\n`,
      );
      expect(conf).toContain(`\nacl tenant_${t.name} myportname ${t.name}\n`);
      expect(conf).toContain(`\nnote tenant ${t.name} tenant_${t.name}\n`);
    }
    expect(conf.match(/^http_port /gm)).toHaveLength(example.tenants.length);
  });

  it('adds the NLB health listener in mode nlb only: one fixed port, outside every tenant port, reserved from tenants', () => {
    const conf = renderSquidConf(nlb);
    expect(NLB_HEALTH_LISTENER).toEqual({ name: 'egresshub_health', port: NLB_HEALTH_PORT });
    expect(conf.match(/^http_port .*$/gm)).toEqual([
      `http_port 3201 name=open ${KEEPALIVE} ssl-bump generate-host-certificates=off tls-cert=${PEEK_CERT_FILE}`,
      `http_port 3202 name=listed ${KEEPALIVE} ssl-bump generate-host-certificates=off tls-cert=${PEEK_CERT_FILE}`,
      `http_port ${NLB_HEALTH_PORT} name=egresshub_health`,
    ]);
    expect(RESERVED_PORTS.get(NLB_HEALTH_PORT)).toMatch(/NLB health-check listener/);
    for (const plan of [example, allowlist, implicit]) {
      expect(plan.hub.proxy.mode).not.toBe('nlb');
      expect(renderSquidConf(plan)).not.toContain(NLB_HEALTH_LISTENER.name);
      expect(renderSquidConf(plan)).not.toMatch(new RegExp(`^http_port ${NLB_HEALTH_PORT}\\b`, 'm'));
    }
    // The same line whatever the tenants: a tenant added or removed never moves the health port.
    const more = planWith([{ name: 'other', port: 4000, allow: '*' }], { proxy: { mode: 'nlb' } });
    expect(renderSquidConf(more)).toContain(`\nhttp_port ${NLB_HEALTH_PORT} name=${NLB_HEALTH_LISTENER.name}\n`);
  });

  it('lets no tenant rule match the NLB health listener, so a request on it ends at deny all', () => {
    const conf = renderSquidConf(nlb);
    const lines = conf.split('\n');
    // A tenant name cannot contain "_" (the schema's name rule), so the listener's name is no tenant's.
    expect(() => planWith([{ name: NLB_HEALTH_LISTENER.name, port: 3300, allow: '*' }])).toThrow(
      /lowercase letters, digits and single hyphens/,
    );
    // No myportname ACL names it (tenant_*, any_tenant, the port-group ACLs), nor any other line but its http_port.
    const mentions = lines.filter((l) => l.includes(NLB_HEALTH_LISTENER.name) && !l.startsWith('#'));
    expect(mentions).toEqual([`http_port ${NLB_HEALTH_PORT} name=${NLB_HEALTH_LISTENER.name}`]);
    const anyTenant = lines
      .find((l) => l.startsWith('acl any_tenant myportname '))!
      .split(' ')
      .slice(3);
    expect(anyTenant).toEqual(nlb.tenants.map((t) => t.name));
    // The allows: the loopback probe (from 127.0.0.1 only) and any_tenant; everything else falls to deny all.
    const r = rules(conf);
    expect(r.filter((l) => l.startsWith('http_access allow'))).toEqual([
      `http_access allow ${HEALTH_PROBE.acl}`,
      'http_access allow any_tenant r_tenant_allow',
    ]);
    expect(r[r.length - 1]).toBe('http_access deny all r_default_deny');
    // Rules only for this listener would be the only way to open it: there are none (no localport/myport ACL).
    expect(lines.filter((l) => / (localport|myport) /.test(l))).toEqual([]);
  });

  it('keeps allowlists per tenant: wildcards become Squid suffixes and "*" tenants get none', () => {
    const conf = renderSquidConf(example);
    expect(conf).toContain('\nacl allow_project-a dstdomain -n registry.npmjs.org .github.com\n');
    expect(conf).not.toContain('allow_project-b');
    expect(rules(conf)).toContain('http_access deny !tunnel tenant_project-a !allow_project-a r_not_allowlisted');
    expect(rules(conf)).toContain('http_access deny tunnel tenant_project-a !allow_project-a r_not_allowlisted policy_denied');
    // The same names against the ClientHello's SNI, for this tenant only.
    expect(conf).toContain(
      '\nacl sni_project-a ssl::server_name --client-requested registry.npmjs.org registry.npmjs.org. .github.com .github.com.\n',
    );
    expect(bumps(conf)).toContain('ssl_bump terminate tenant_project-a !sni_project-a r_sni_mismatch');
    expect(conf).not.toContain('sni_project-b');
  });

  it('orders rules so that every deny, SSRF included, comes before any allow (but the loopback health probe)', () => {
    for (const plan of [example, allowlist, implicit, nlb]) {
      const r = rules(renderSquidConf(plan));
      expect(r[0]).toBe(`http_access allow ${HEALTH_PROBE.acl}`);
      const firstAllow = r.findIndex((l) => l.startsWith('http_access allow') && l !== r[0]);
      const lastDeny = r.map((l, i) => (l.includes(' deny ') && !l.includes(' all ') ? i : -1)).reduce((a, b) => Math.max(a, b));
      expect(firstAllow).toBeGreaterThan(lastDeny);
      expect(r[r.length - 1]).toBe('http_access deny all r_default_deny');
      // The cheap name checks run before the address checks, which need DNS.
      expect(r.findIndex((l) => l.includes('blocked_dst'))).toBeGreaterThan(r.findIndex((l) => l.includes('numeric_host')));
      expect(r.findIndex((l) => l.includes('blocked_dst'))).toBeGreaterThan(
        r.findIndex((l) => l.includes('not_allowlisted') || l.includes('r_scheme')),
      );
    }
  });

  it('blocks metadata, private and hub destinations on the resolved address', () => {
    const conf = renderSquidConf(allowlist);
    expect(conf).toContain(`\nacl hub_cidr dst ${allowlist.hub.cidr}\n`);
    // The rendered ACL carries the ranges, and its deny comes before the one allow.
    const acl = /\nacl blocked_dst dst (.*)\n/.exec(conf)?.[1]?.split(' ');
    expect(acl).toEqual([...BLOCKED_DESTINATIONS]);
    for (const cidr of ['169.254.0.0/16', '10.0.0.0/8', '100.64.0.0/10', 'fc00::/7', '::1/128', '64:ff9b::/96'])
      expect(acl).toContain(cidr);
    const lines = conf.split('\n');
    const deny = lines.findIndex((l) => l.startsWith('http_access deny !tunnel blocked_dst '));
    const allow = lines.findIndex((l) => l.startsWith('http_access allow ') && l !== `http_access allow ${HEALTH_PROBE.acl}`);
    expect(deny).toBeGreaterThan(-1);
    expect(deny).toBeLessThan(allow);
  });

  it('groups tenants by destination-port set instead of repeating port rules per tenant', () => {
    const conf = renderSquidConf(allowlist);
    expect(rules(conf)).toContain(
      'http_access deny tunnel connect_ports_443_8443_tenants !connect_ports_443_8443 r_connect_port policy_denied',
    );
    expect(rules(conf)).toContain('http_access deny !tunnel http_ports_80_tenants !http_ports_80 r_http_port');
    expect(rules(renderSquidConf(example)).filter((l) => l.includes('r_connect_port'))).toHaveLength(2);
  });

  it('tunnels only to TLS ports and declared raw ports: plain HTTP goes through the proxy, where the Host is checked', () => {
    expect(tunnelPortsOf(example.tenants[0]!)).toEqual([443]);
    expect(egressPortsOf(example.tenants[0]!)).toEqual([80, 443]);
    expect(tunnelPortsOf(allowlist.tenants[0]!)).toEqual([443, 8443]);
    const raw = planWith([{ name: 'git', port: 3201, allow: ['git.example.com'], connectPorts: [443, { port: 22, tls: false }] }]);
    expect(raw.tenants[0]).toMatchObject({ connectPorts: [443], rawTunnelPorts: [22] });
    expect(tunnelPortsOf(raw.tenants[0]!)).toEqual([22, 443]);
    const conf = renderSquidConf(raw);
    squidParse(conf, 'raw');
    // A raw port is spliced at step 1, before any peek.
    const b = bumps(conf);
    expect(b[0]).toBe('ssl_bump splice tls_step1 raw_ports_22_tenants raw_ports_22 tls_spliced');
    expect(b[1]).toBe('ssl_bump peek tls_step1');
    expect(() => planWith([{ name: 'git', port: 3201, allow: '*', connectPorts: [22, { port: 22, tls: false }] }])).toThrow(
      /port 22 is listed as a TLS port .* and as a raw tunnel/,
    );
  });

  it('answers a refused CONNECT 407 (never a status Squid would bump to show), a refused request 403', () => {
    for (const plan of [example, allowlist, implicit, nlb]) {
      const conf = renderSquidConf(plan);
      const denies = rules(conf).filter((l) => l.startsWith('http_access deny ') && !l.endsWith(' !all'));
      const tunnel = denies.filter((l) => l.startsWith('http_access deny tunnel '));
      // Each CONNECT deny is a pair: the 407, then the same deny should the never-accepting helper fail.
      for (let i = 0; i < tunnel.length; i += 2) {
        expect(tunnel[i]).toMatch(/ policy_denied$/);
        expect(tunnel[i + 1]).toBe(tunnel[i]!.replace(/ policy_denied$/, ''));
      }
      for (const rule of ['r_ip_literal_spelling', 'r_connect_port', 'r_hub_cidr', 'r_blocked_destination'])
        expect(tunnel.some((l) => l.endsWith(`${rule} policy_denied`))).toBe(true);
      // Every other deny but the cache manager's (never a CONNECT) and the last is for plain requests only.
      expect(denies.filter((l) => !l.startsWith('http_access deny tunnel ') && !l.includes(' !tunnel ') && !l.includes('manager'))).toEqual(
        ['http_access deny all r_default_deny'],
      );
      expect(conf).toContain(`\nauth_param basic program ${POLICY_DENIED_HELPER}\n`);
      expect(conf).toContain(`\nauth_param basic realm ${POLICY_DENIED_REALM}\n`);
      const b = bumps(conf);
      expect(b[b.length - 1]).toBe('ssl_bump splice all tls_spliced');
      expect(conf).toContain('\non_unsupported_protocol respond all r_not_tls\n');
    }
    // The helper never accepts anyone (run as Squid runs it: split on spaces, no shell).
    const [cmd, ...args] = POLICY_DENIED_HELPER.split(' ');
    const helper = spawnSync(cmd!, args, { input: 'user pass\nadmin admin\n', encoding: 'utf8' });
    expect(helper.stdout).toBe('ERR\nERR\n');
  });

  it("the bench's plain-CONNECT variant (bench/peek.ts) drops exactly the TLS lines and still parses", () => {
    const conf = renderSquidConf(example);
    const plain = withoutPeek(conf);
    squidParse(plain, 'plain');
    expect(plain).not.toMatch(/ssl-bump|^ssl_bump |^on_unsupported_protocol /m);
    expect(rules(plain)).toEqual(rules(conf));
  });

  it('audits without relaxing address checks: would-deny annotations continue, SSRF and port rules still close', () => {
    const audit = planWith([
      { name: 'seen', port: 3201, allow: ['api.example.com'], mode: 'audit' },
      { name: 'open', port: 3202, allow: '*', mode: 'audit' },
      { name: 'strict', port: 3203, allow: ['api.example.com'] },
    ]);
    expect(audit.tenants.map((t) => t.mode)).toEqual(['audit', 'audit', 'enforce']);
    const conf = renderSquidConf(audit);
    squidParse(conf, 'audit');
    const r = rules(conf);
    expect(r).toContain('http_access deny tenant_seen !allow_seen wd_not_allowlisted !all');
    expect(r).not.toContain('http_access deny !tunnel tenant_seen !allow_seen r_not_allowlisted');
    expect(r).toContain('http_access deny !tunnel tenant_strict !allow_strict r_not_allowlisted');
    // The would-deny allow comes after every address check.
    expect(r.indexOf('http_access allow any_tenant would_deny')).toBeGreaterThan(r.findIndex((l) => l.includes('r_blocked_destination')));
    const b = bumps(conf);
    expect(b).toContain('ssl_bump splice tenant_seen !sni_seen wd_sni_mismatch');
    expect(b).toContain('ssl_bump terminate tenant_strict !sni_strict r_sni_mismatch');
    expect(b).toContain('ssl_bump terminate sni_enforced_tenants !sni_sent r_no_sni');
    expect(b).toContain('ssl_bump splice sni_audited_tenants !sni_sent wd_no_sni');
    expect(conf).toContain('\nacl audit_tenants myportname seen open\n');
    expect(conf).toContain('\nacl sni_enforced_tenants myportname strict\n');
    expect(conf).toContain('\non_unsupported_protocol tunnel audit_tenants wd_not_tls\n');
    // "*" tenants have no name to check against the SNI.
    expect(conf).not.toContain('sni_open');
  });

  it('logs each tunnel once: the peek record of a spliced tunnel stays out of the access log', () => {
    const conf = renderSquidConf(example);
    expect(conf).toMatch(/\naccess_log \S+ logformat=egresshub !health_probe !peek_record\n/);
    expect(conf).toContain('\nacl peek_record note tls spliced\n');
    expect(conf).toMatch(/ sni=%ssl::>sni\n/);
  });

  // The behaviour (probe answered and unlogged, tenants and loopback destinations still denied) is proven with
  // real Squid in test/hub/health-probe.test.ts; here, the exact lines and where they sit.
  it('admits the health probe only as the cache manager page on its own name from 127.0.0.1, and never logs it', () => {
    const conf = renderSquidConf(example);
    expect(conf).toContain(
      [
        `acl ${HEALTH_PROBE.acl}_src src 127.0.0.1/32`,
        `acl ${HEALTH_PROBE.acl}_self dstdomain -n ${VISIBLE_HOSTNAME}`,
        `acl ${HEALTH_PROBE.acl} all-of manager ${HEALTH_PROBE.acl}_src ${HEALTH_PROBE.acl}_self`,
      ].join('\n'),
    );
    const r = rules(conf);
    expect(r.slice(0, 2)).toEqual([`http_access allow ${HEALTH_PROBE.acl}`, 'http_access deny manager r_cache_manager']);
    expect(conf).toContain(`\nvisible_hostname ${VISIBLE_HOSTNAME}\n`);
    expect(conf).toMatch(
      new RegExp(`\\naccess_log daemon:/var/log/squid/access\\.log logformat=egresshub !${HEALTH_PROBE.acl} !peek_record\\n`),
    );
  });

  it('hides versions and internal addresses and caches nothing', () => {
    const conf = renderSquidConf(example).split('\n');
    for (const d of ['cache deny all', 'via off', 'forwarded_for delete', 'httpd_suppress_version_string on']) expect(conf).toContain(d);
  });

  it('stays modest: size grows linearly with tenants and 1,000 tenants still parse', () => {
    const two = renderSquidConf(example);
    const thousand = renderSquidConf(manyTenants(1000));
    squidParse(thousand, 'thousand');
    // Squid splits lines longer than its 8 KiB buffer into two (the second "unrecognized"): none is near it.
    expect(Math.max(...thousand.split('\n').map((l) => l.length))).toBeLessThanOrEqual(MAX_CONF_LINE);
    const perTenant = (thousand.length - two.length) / 998;
    expect(gzipSync(two).length).toBeLessThan(3_000);
    // Per tenant: its listener, ACLs, allowlist, SNI list, a delay pool (4 lines) and its nftables chain (6 lines).
    expect(perTenant).toBeLessThan(1_500);
    // Reported in docs/policy.md.
    process.stderr.write(
      `squid.conf sizes: 2 tenants ${two.length} B (gzip ${gzipSync(two).length} B); 1000 tenants ${thousand.length} B (gzip ${gzipSync(thousand).length} B)\n`,
    );
  });
});
