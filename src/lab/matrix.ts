// The lab's test matrix: for every tenant, what its config promises about names, addresses, ports and tunnels,
// run with real clients (curl, Node's fetch through HTTP(S)_PROXY, a raw socket) from the tenant's spoke
// namespace through its endpoint, plus a check that Squid's access log names the tenant of every request.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TenantPlan } from '../config';
import { tunnelPortsOf } from '../policy';
import type { ClientJob, ClientResult, Outcome } from './client';

export type { Outcome } from './client';
import { labPaths } from './state';
import { curlIn, proxyRefusal } from './curl';
import { nodeEntry } from './sh';
import { ORIGIN_MARKER } from './servers';
import { INTERNET, REBIND_TARGET, type LabTenant, type LabTopology } from './topology';
import { isPeekVerdict, parseLogLine } from '../usage/access-log';

export type Client = 'curl' | 'fetch' | 'raw';

export interface MatrixCase {
  readonly id: string;
  readonly title: string;
  readonly expected: Outcome;
  /** What is asked, for the table. */
  readonly request: string;
  readonly curl?: {
    readonly url: string;
    readonly proxy: 'endpoint' | 'none' | { readonly port: number };
    readonly connectTimeout?: number;
    /** More curl options (`--connect-to` to choose the SNI apart from the CONNECT host, `-p`, `--http2`). */
    readonly args?: readonly string[];
    /** 'allowed' only when the origin answered over HTTP/2 (ALPN survived the peek). */
    readonly http2?: boolean;
  };
  readonly fetch?: string;
  readonly raw?: { readonly line: string; readonly port?: number; readonly payload?: string };
}

export interface MatrixRow {
  readonly tenant: string;
  readonly case: MatrixCase;
  readonly got: Partial<Record<Client, Outcome>>;
  readonly details: Partial<Record<Client, string>>;
  readonly pass: boolean;
}

export interface LogCheck {
  readonly tenant: string;
  /** Requests that reached Squid (anything but no-connect). */
  readonly requests: number;
  /** Access-log lines written for this tenant during the run. */
  readonly lines: number;
  /** Lines whose tenant= disagrees with the listener port they arrived on (must be 0). */
  readonly mislabelled: number;
  readonly pass: boolean;
  readonly sample: readonly string[];
}

/** `*.github.com` admits github.com and any subdomain; "*" admits every name (the policy's documented semantics). */
export function allowedByConfig(t: TenantPlan, host: string): boolean {
  if (t.allow.any) return true;
  const h = host.toLowerCase().replace(/\.$/, '');
  return t.allow.exact.includes(h) || t.allow.suffixes.some((s) => h === s || h.endsWith(`.${s}`));
}

const IP_SPELLINGS: readonly [string, string][] = [
  ['decimal', '2130706433'],
  ['hex', '0x7f.1'],
  ['octal', '0177.0.0.1'],
  ['short', '127.1'],
  ['ipv6-loopback', '[::1]'],
  ['ipv4-mapped', '[::ffff:127.0.0.1]'],
  ['ipv4-mapped-hex', '[::ffff:7f00:1]'],
  ['zero', '0'],
];

export function casesFor(topo: LabTopology, lt: LabTenant): MatrixCase[] {
  const t = lt.tenant;
  const suffix = t.allow.any ? 'example.net' : t.allow.suffixes[0];
  const allowedHost = t.allow.any ? 'www.example.net' : (t.allow.exact[0] ?? `www.${suffix!}`);
  const expect = (host: string, ok = true): Outcome => (ok && allowedByConfig(t, host) ? 'allowed' : 'denied');
  const cases: MatrixCase[] = [];
  const add = (c: MatrixCase) => cases.push(c);
  const both = (url: string) => ({ curl: { url, proxy: 'endpoint' as const }, fetch: url });

  add({
    id: 'http',
    title: 'allowed name, plain HTTP',
    request: `GET http://${allowedHost}/`,
    expected: expect(allowedHost, t.httpPorts.includes(80)),
    curl: { url: `http://${allowedHost}/`, proxy: 'endpoint' },
  });
  // Node's fetch (undici's EnvHttpProxyAgent) sends http:// through a CONNECT tunnel, and a raw tunnel to port 80
  // would carry any Host unseen: refused unless the tenant declares { port: 80, tls: false }.
  add({
    id: 'http-fetch',
    title: 'Node fetch tunnels http:// (CONNECT :80)',
    request: `CONNECT ${allowedHost}:80`,
    expected: expect(allowedHost, t.rawTunnelPorts.includes(80)),
    fetch: `http://${allowedHost}/`,
  });
  add({
    id: 'connect-80',
    title: 'CONNECT to port 80 (a raw tunnel to a plain-HTTP port)',
    request: `CONNECT ${allowedHost}:80`,
    expected: expect(allowedHost, t.rawTunnelPorts.includes(80)),
    curl: { url: `http://${allowedHost}/`, proxy: 'endpoint', args: ['-p'] },
  });
  add({
    id: 'https',
    title: 'allowed name, HTTPS via CONNECT',
    request: `CONNECT ${allowedHost}:443`,
    expected: expect(allowedHost, t.connectPorts.includes(443)),
    ...both(`https://${allowedHost}/`),
  });
  if (suffix) {
    const deep = `api.${suffix}`;
    add({
      id: 'wildcard',
      title: `wildcard *.${suffix}`,
      request: `CONNECT ${deep}:443`,
      expected: expect(deep),
      ...both(`https://${deep}/`),
    });
    add({
      id: 'wildcard-apex',
      title: `*.${suffix} also admits ${suffix}`,
      request: `GET http://${suffix}/`,
      expected: expect(suffix),
      curl: { url: `http://${suffix}/`, proxy: 'endpoint' },
    });
  }
  const shouted = `${allowedHost.toUpperCase()}.`;
  add({
    id: 'case-dot',
    title: 'upper case + trailing dot',
    request: `GET http://${shouted}/`,
    expected: expect(allowedHost),
    curl: { url: `http://${shouted}/`, proxy: 'endpoint' },
    raw: { line: `GET http://${shouted}/` },
  });
  // Inside the tunnel: the ClientHello must name an allowlisted host (SNI), and must be TLS at all.
  const audit = t.mode === 'audit';
  const sniChecked = !t.allow.any && !audit;
  const otherAllowed = suffix ? `sni.${suffix}` : undefined;
  if (otherAllowed && otherAllowed !== allowedHost) {
    add({
      id: 'sni-other-allowed',
      title: `SNI of another allowlisted name (${otherAllowed})`,
      request: `CONNECT ${allowedHost}:443, SNI ${otherAllowed}`,
      expected: expect(allowedHost),
      curl: { url: `https://${otherAllowed}/`, proxy: 'endpoint', args: ['-k', '--connect-to', `${otherAllowed}:443:${allowedHost}:443`] },
    });
  }
  add({
    id: 'sni-not-listed',
    title: 'SNI of a name not on the allowlist (domain fronting)',
    request: `CONNECT ${allowedHost}:443, SNI www.example.info`,
    expected: sniChecked ? 'denied' : expect(allowedHost),
    curl: { url: 'https://www.example.info/', proxy: 'endpoint', args: ['-k', '--connect-to', `www.example.info:443:${allowedHost}:443`] },
  });
  add({
    id: 'no-sni',
    title: 'no SNI (curl sends none for an IP-literal URL)',
    request: `CONNECT ${allowedHost}:443, no SNI`,
    expected: sniChecked ? 'denied' : expect(allowedHost),
    curl: {
      url: `https://${INTERNET.webIp}/`,
      proxy: 'endpoint',
      args: ['-k', '--connect-to', `${INTERNET.webIp}:443:${allowedHost}:443`],
    },
  });
  if (!audit) {
    // In audit these bytes reach the TLS origin, which rejects them: no outcome to compare (the log says would-deny).
    add({
      id: 'http-in-tunnel',
      title: 'plain HTTP inside a tunnel to 443',
      request: `CONNECT ${allowedHost}:443 + GET`,
      expected: expect(allowedHost, false),
      curl: { url: `http://${allowedHost}:443/`, proxy: 'endpoint', args: ['-p'] },
    });
    add({
      id: 'ssh-in-tunnel',
      title: 'SSH inside a tunnel to 443',
      request: `CONNECT ${allowedHost}:443 + SSH-2.0`,
      expected: expect(allowedHost, false),
      raw: { line: `CONNECT ${allowedHost}:443`, payload: 'SSH-2.0-OpenSSH_9.2p1\r\n' },
    });
  }
  add({
    id: 'http2',
    title: 'HTTP/2 by ALPN through the tunnel',
    request: `CONNECT ${allowedHost}:443, ALPN h2`,
    expected: expect(allowedHost, t.connectPorts.includes(443)),
    curl: { url: `https://${allowedHost}/`, proxy: 'endpoint', args: ['--http2'], http2: true },
  });
  const other = 'www.example.info';
  add({
    id: 'not-listed',
    title: 'name not on the allowlist',
    request: `GET http://${other}/`,
    expected: audit ? 'allowed' : expect(other),
    curl: { url: `http://${other}/`, proxy: 'endpoint' },
  });
  add({
    id: 'not-listed-tls',
    title: 'name not on the allowlist, HTTPS',
    request: `CONNECT ${other}:443`,
    expected: audit ? 'allowed' : expect(other),
    ...both(`https://${other}/`),
  });
  add({
    id: 'imds',
    title: 'instance metadata (IMDS)',
    request: 'GET http://169.254.169.254/latest/meta-data/',
    expected: 'denied',
    ...both('http://169.254.169.254/latest/meta-data/'),
  });
  add({
    id: 'ecs-metadata',
    title: 'container credentials address',
    request: 'GET http://169.254.170.2/v2/credentials',
    expected: 'denied',
    curl: { url: 'http://169.254.170.2/v2/credentials', proxy: 'endpoint' },
  });
  add({
    id: 'hub-proxy',
    title: "the hub proxy's own address",
    request: `GET http://${topo.squidIp}:${t.port}/`,
    expected: 'denied',
    curl: { url: `http://${topo.squidIp}:${t.port}/`, proxy: 'endpoint' },
  });
  add({
    id: 'hub-address',
    title: 'a hub address on a web port',
    request: `GET http://${topo.squidIp}/ + CONNECT :443`,
    expected: 'denied',
    curl: { url: `http://${topo.squidIp}/`, proxy: 'endpoint' },
    raw: { line: `CONNECT ${topo.squidIp}:443` },
  });
  add({
    id: 'private-ip',
    title: 'RFC 1918 literal',
    request: 'GET http://192.168.0.10/',
    expected: 'denied',
    ...both('http://192.168.0.10/'),
  });
  add({
    id: 'cgnat-ip',
    title: 'CGNAT literal (100.64/10)',
    request: 'GET http://100.64.0.1/',
    expected: 'denied',
    curl: { url: 'http://100.64.0.1/', proxy: 'endpoint' },
  });
  for (const [name, spelled] of IP_SPELLINGS) {
    add({
      id: `ip-${name}`,
      title: `loopback spelled ${name}`,
      request: `GET http://${spelled}/`,
      expected: 'denied',
      curl: { url: `http://${spelled}/`, proxy: 'endpoint' },
      raw: { line: `GET http://${spelled}/` },
    });
  }
  add({
    id: 'ip-connect-hex',
    title: 'CONNECT to loopback spelled hex',
    request: 'CONNECT 0x7f.1:443',
    expected: 'denied',
    raw: { line: 'CONNECT 0x7f.1:443' },
  });
  const rebind = `rebind.${suffix ?? (t.allow.any ? 'example.net' : t.allow.exact[0]!)}`;
  add({
    id: 'rebind',
    title: `public name resolving to ${REBIND_TARGET}`,
    request: `GET http://${rebind}/ + CONNECT`,
    expected: 'denied',
    ...both(`http://${rebind}/`),
  });
  add({
    id: 'rebind-tls',
    title: 'the same name over CONNECT',
    request: `CONNECT ${rebind}:443`,
    expected: 'denied',
    ...both(`https://${rebind}/`),
  });
  add({
    id: 'connect-22',
    title: 'CONNECT to port 22',
    request: `CONNECT ${allowedHost}:22`,
    expected: tunnelPortsOf(t).includes(22) ? 'allowed' : 'denied',
    curl: { url: `https://${allowedHost}:22/`, proxy: 'endpoint' },
    raw: { line: `CONNECT ${allowedHost}:22` },
  });
  for (const p of [...new Set(topo.tenants.flatMap((x) => x.tenant.connectPorts))].filter((p) => p !== 443)) {
    add({
      id: `connect-${p}`,
      title: `CONNECT to port ${p}`,
      request: `CONNECT ${allowedHost}:${p}`,
      expected: expect(allowedHost, tunnelPortsOf(t).includes(p)),
      ...both(`https://${allowedHost}:${p}/`),
    });
  }
  for (const p of [...new Set(topo.tenants.flatMap((x) => x.tenant.httpPorts))].filter((p) => p !== 80)) {
    add({
      id: `http-${p}`,
      title: `plain HTTP to port ${p}`,
      request: `GET http://${allowedHost}:${p}/`,
      expected: expect(allowedHost, t.httpPorts.includes(p)),
      curl: { url: `http://${allowedHost}:${p}/`, proxy: 'endpoint' },
    });
  }
  for (const o of topo.tenants.filter((x) => x !== lt)) {
    add({
      id: `port-of-${o.tenant.name}`,
      title: `${o.tenant.name}'s port through this endpoint`,
      request: `TCP ${lt.endpointIp}:${o.tenant.port}`,
      expected: 'no-connect',
      curl: { url: `http://${allowedHost}/`, proxy: { port: o.tenant.port } },
      raw: { line: `GET http://${allowedHost}/`, port: o.tenant.port },
    });
  }
  add({
    id: 'endpoint-22',
    title: 'endpoint on another port (22)',
    request: `TCP ${lt.endpointIp}:22`,
    expected: 'no-connect',
    raw: { line: 'GET http://x/', port: 22 },
  });
  add({
    id: 'endpoint-3128',
    title: 'endpoint on Squid default port',
    request: `TCP ${lt.endpointIp}:3128`,
    expected: 'no-connect',
    curl: { url: `http://${allowedHost}/`, proxy: { port: 3128 } },
  });
  add({
    id: 'proxy-direct',
    title: 'the proxy itself, bypassing the endpoint',
    request: `TCP ${topo.squidIp}:${t.port} (no route)`,
    expected: 'no-connect',
    curl: { url: `http://${topo.squidIp}:${t.port}/`, proxy: 'none', connectTimeout: 1 },
  });
  return cases;
}

function curlOnce(topo: LabTopology, lt: LabTenant, c: NonNullable<MatrixCase['curl']>): { got: Outcome; detail: string } {
  const r = curlIn(lt.spokeNs, c.url, {
    proxy: c.proxy === 'none' ? undefined : `http://${lt.proxyHost}:${c.proxy === 'endpoint' ? lt.tenant.port : c.proxy.port}`,
    caCert: labPaths(topo.stateDir).caCert,
    args: c.args,
    connectTimeoutSeconds: c.connectTimeout,
    body: true,
  });
  const detail = `curl exit ${r.exit} http ${r.code} connect ${r.connect} version ${r.version}${r.stderr ? ` ${r.stderr}` : ''}`;
  if (r.exit === 0 && r.code === '200' && r.body.includes(ORIGIN_MARKER))
    return { got: c.http2 && r.version !== '2' ? 'error' : 'allowed', detail: `${detail} ${r.body.split('\n')[0]!}` };
  const refusal = proxyRefusal(r);
  if (refusal) return { got: 'denied', detail: `${refusal}: ${detail}` };
  if ((r.exit === 7 || r.exit === 28) && r.code === '000' && r.connect === '000') return { got: 'no-connect', detail };
  return { got: 'error', detail };
}

function clientJobs(topo: LabTopology, lt: LabTenant, cases: readonly MatrixCase[]): ClientResult[] {
  const jobs: ClientJob[] = cases.flatMap((c): ClientJob[] => [
    ...(c.fetch ? [{ id: `${c.id}:fetch`, kind: 'fetch' as const, target: c.fetch }] : []),
    ...(c.raw
      ? [
          {
            id: `${c.id}:raw`,
            kind: 'raw' as const,
            target: c.raw.line,
            proxyHost: lt.endpointIp,
            proxyPort: c.raw.port ?? lt.tenant.port,
            payload: c.raw.payload,
          },
        ]
      : []),
  ]);
  const p = labPaths(topo.stateDir);
  const file = join(topo.stateDir, `jobs-${lt.index}.json`);
  writeFileSync(file, JSON.stringify(jobs));
  const proxy = `http://${lt.proxyHost}:${lt.tenant.port}`;
  const env = {
    PATH: process.env.PATH,
    NODE_NO_WARNINGS: '1',
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    NO_PROXY: '',
    NODE_EXTRA_CA_CERTS: p.caCert,
  };
  const r = spawnSync('ip', ['netns', 'exec', lt.spokeNs, process.execPath, ...nodeEntry(__dirname, 'client'), file], {
    encoding: 'utf8',
    env,
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`the Node.js client failed in ${lt.spokeNs}: ${r.error?.message ?? ''}${r.stderr}`);
  return JSON.parse(r.stdout) as ClientResult[];
}

/** Runs every case for every tenant; `onRow` sees each row as it completes (for progress). */
export function runMatrix(topo: LabTopology, onTenant: (t: LabTenant) => void = () => {}): MatrixRow[] {
  const rows: MatrixRow[] = [];
  for (const lt of topo.tenants) {
    onTenant(lt);
    const cases = casesFor(topo, lt);
    const node = new Map(clientJobs(topo, lt, cases).map((r) => [r.id, r]));
    for (const c of cases) {
      const got: Partial<Record<Client, Outcome>> = {};
      const details: Partial<Record<Client, string>> = {};
      if (c.curl) ({ got: got.curl, detail: details.curl } = curlOnce(topo, lt, c.curl));
      for (const k of ['fetch', 'raw'] as const) {
        const r = node.get(`${c.id}:${k}`);
        if (r) [got[k], details[k]] = [r.got, r.detail];
      }
      rows.push({ tenant: lt.tenant.name, case: c, got, details, pass: Object.values(got).every((g) => g === c.expected) });
    }
  }
  return rows;
}

/** Number of access-log lines so far, to check only what a run adds. */
/** Lines in the primary proxy's access log (where every request goes while it is healthy, in failover routing). */
export function accessLogLength(topo: LabTopology): number {
  return logLines(labPaths(topo.stateDir).accessLog).length;
}

/** Lines in each proxy's access log, in topo.proxies order: where checkAccessLog starts reading. */
export function accessLogMarks(topo: LabTopology): number[] {
  return topo.proxies.map((x) => logLines(labPaths(topo.stateDir).proxy(x.index).accessLog).length);
}

function logLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

// The one access-log parser lives with the usage report; re-exported for the lab's callers.
export { parseLogLine } from '../usage/access-log';

/** Every request that reached a proxy must have one log line carrying its tenant (in whichever proxy's log), and no line may name the wrong tenant. */
export function checkAccessLog(topo: LabTopology, rows: readonly MatrixRow[], from: number | readonly number[]): LogCheck[] {
  // A number is a line of the primary's log (accessLogLength); marks (accessLogMarks) read every proxy's log.
  const marks = typeof from === 'number' ? [from] : from;
  const lines = marks.flatMap((mark, i) => logLines(labPaths(topo.stateDir).proxy(topo.proxies[i]!.index).accessLog).slice(mark));
  const entries = lines.map((l) => ({ line: l, f: parseLogLine(l) }));
  return topo.tenants.map((lt) => {
    const mine = entries.filter((e) => e.f.listener === String(lt.tenant.port) && !isPeekVerdict(e.f));
    const requests = rows
      .filter((r) => r.tenant === lt.tenant.name)
      .flatMap((r) => Object.values(r.got).filter((g) => g !== 'no-connect')).length;
    const mislabelled = mine.filter((e) => e.f.tenant !== lt.tenant.name).length;
    return {
      tenant: lt.tenant.name,
      requests,
      lines: mine.length,
      mislabelled,
      pass: mislabelled === 0 && mine.length === requests,
      sample: mine.slice(0, 3).map((e) => e.line),
    };
  });
}
