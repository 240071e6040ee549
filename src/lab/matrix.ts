// The lab's test matrix: for every tenant, what its config promises about names, addresses, ports and tunnels,
// run with real clients (curl, Node's fetch through HTTP(S)_PROXY, a raw socket) from the tenant's spoke
// namespace through its endpoint, plus a check that Squid's access log names the tenant of every request.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { POLICY_RULES, type CaseContext, type RuleCase } from '../policy/rules';
import type { ClientJob, ClientResult, Outcome } from './client';

export type { Outcome } from './client';
import { labPaths } from './state';
import { curlIn, proxyRefusal } from './curl';
import { nodeEntry } from './sh';
import { ORIGIN_MARKER } from './servers';
import { INTERNET, REBIND_TARGET, type LabTenant, type LabTopology } from './topology';
import { isPeekVerdict, parseLogLine } from '../usage/access-log';

export type Client = 'curl' | 'fetch' | 'raw';

/** A case of the matrix: what one rule's file brings (src/policy/rules/), or one of the lab's own below. */
export type MatrixCase = RuleCase;

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

export { allowedByConfig } from '../policy/rules';

/**
 * Every case for one lab tenant: each policy rule's own cases (src/policy/rules/<rule>.ts, registry order), then the
 * lab's: a tenant's endpoint carries its own port only, and the proxy is out of a spoke's reach (no rule decides).
 */
export function casesFor(topo: LabTopology, lt: LabTenant): MatrixCase[] {
  const t = lt.tenant;
  const suffix = t.allow.any ? 'example.net' : t.allow.suffixes[0];
  const allowedHost = t.allow.any ? 'www.example.net' : (t.allow.exact[0] ?? `www.${suffix!}`);
  const ctx: CaseContext = {
    tenant: t,
    allowedHost,
    suffix,
    squidIp: topo.squidIp,
    webIp: INTERNET.webIp,
    rebindHost: `rebind.${suffix ?? (t.allow.any ? 'example.net' : t.allow.exact[0]!)}`,
    rebindTarget: REBIND_TARGET,
    labConnectPorts: [...new Set(topo.tenants.flatMap((x) => x.tenant.connectPorts))],
    labHttpPorts: [...new Set(topo.tenants.flatMap((x) => x.tenant.httpPorts))],
  };
  const unreachable = (c: Omit<MatrixCase, 'expected' | 'rule'>): MatrixCase => ({ ...c, expected: 'no-connect', rule: null });
  return [
    ...POLICY_RULES.flatMap((r) => r.cases?.(ctx) ?? []),
    ...topo.tenants
      .filter((x) => x !== lt)
      .map((o) =>
        unreachable({
          id: `port-of-${o.tenant.name}`,
          title: `${o.tenant.name}'s port through this endpoint`,
          request: `TCP ${lt.endpointIp}:${o.tenant.port}`,
          curl: { url: `http://${allowedHost}/`, proxy: { port: o.tenant.port } },
          raw: { line: `GET http://${allowedHost}/`, port: o.tenant.port },
        }),
      ),
    unreachable({
      id: 'endpoint-22',
      title: 'endpoint on another port (22)',
      request: `TCP ${lt.endpointIp}:22`,
      raw: { line: 'GET http://x/', port: 22 },
    }),
    unreachable({
      id: 'endpoint-3128',
      title: 'endpoint on Squid default port',
      request: `TCP ${lt.endpointIp}:3128`,
      curl: { url: `http://${allowedHost}/`, proxy: { port: 3128 } },
    }),
    unreachable({
      id: 'proxy-direct',
      title: 'the proxy itself, bypassing the endpoint',
      request: `TCP ${topo.squidIp}:${t.port} (no route)`,
      curl: { url: `http://${topo.squidIp}:${t.port}/`, proxy: 'none', connectTimeout: 1 },
    }),
  ];
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

/** Lines in the primary proxy's access log (where every request goes while it is healthy, in failover routing). */
export function accessLogLength(topo: LabTopology): number {
  return logLines(labPaths(topo.stateDir).accessLog).length;
}

/** Lines in each proxy's access log, in topo.proxies order: where checkAccessLog starts reading. */
export function accessLogMarks(topo: LabTopology): number[] {
  return topo.proxies.map((x) => logLines(labPaths(topo.stateDir).proxy(x.index).accessLog).length);
}

/**
 * The access-log lines written since `from`: a number is a line of the primary's log (accessLogLength); marks
 * (accessLogMarks) read every proxy's log.
 */
export function accessLogSince(topo: LabTopology, from: number | readonly number[]): string[] {
  const marks = typeof from === 'number' ? [from] : from;
  return marks.flatMap((mark, i) => logLines(labPaths(topo.stateDir).proxy(topo.proxies[i]!.index).accessLog).slice(mark));
}

function logLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

// The one access-log parser lives with the usage report; re-exported for the lab's callers.
export { parseLogLine } from '../usage/access-log';

/** Every request that reached a proxy must have one log line carrying its tenant (in whichever proxy's log), and no line may name the wrong tenant. */
export function checkAccessLog(topo: LabTopology, rows: readonly MatrixRow[], from: number | readonly number[]): LogCheck[] {
  // Squid writes a tunnel's line when the tunnel closes, which can be a moment after the client has exited: give the
  // last lines a few seconds to land. Only missing lines are waited for; a wrong or extra line fails at once.
  const deadline = Date.now() + LOG_LAG_MS;
  for (;;) {
    const checks = readAccessLogChecks(topo, rows, from);
    if (Date.now() >= deadline || !checks.some((c) => c.mislabelled === 0 && c.lines < c.requests)) return checks;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
}

/** How long checkAccessLog waits for a request's line to reach the log after its client has finished. */
const LOG_LAG_MS = 5000;

function readAccessLogChecks(topo: LabTopology, rows: readonly MatrixRow[], from: number | readonly number[]): LogCheck[] {
  const entries = accessLogSince(topo, from).map((l) => ({ line: l, f: parseLogLine(l) }));
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

export interface RuleCheck {
  readonly tenant: string;
  /** The rules the tenant's cases expect to decide their requests (each case's `rule`, and `fetchRule` for fetch). */
  readonly expected: readonly string[];
  /** The rules its access-log lines name during the run. */
  readonly logged: readonly string[];
  /** Expected, never logged: a case decided by another rule than it says (must be empty). */
  readonly missing: readonly string[];
  readonly pass: boolean;
}

/**
 * Every rule a tenant's cases expect must appear in that tenant's access-log lines (in whichever proxy's log). Per
 * tenant, not per request: the log has no case id, and a case's clients may be decided by different rules (fetch
 * tunnels `http://`), so a rule logged that no case names is no failure, a rule a case names that never shows is.
 */
export function checkRules(topo: LabTopology, rows: readonly MatrixRow[], from: number | readonly number[]): RuleCheck[] {
  const fields = accessLogSince(topo, from).map(parseLogLine);
  return topo.tenants.map((lt) => {
    const mine = rows.filter((r) => r.tenant === lt.tenant.name);
    const expected = new Set(
      mine.flatMap(({ case: c, got }) => [
        ...(c.rule && ((got.curl && got.curl !== 'no-connect') || (got.raw && got.raw !== 'no-connect')) ? [c.rule] : []),
        ...(got.fetch && got.fetch !== 'no-connect' && (c.fetchRule ?? c.rule) ? [(c.fetchRule ?? c.rule)!] : []),
      ]),
    );
    const logged = new Set(fields.filter((f) => f.listener === String(lt.tenant.port) && f.rule).map((f) => f.rule!));
    const missing = [...expected].filter((r) => !logged.has(r)).sort();
    return { tenant: lt.tenant.name, expected: [...expected].sort(), logged: [...logged].sort(), missing, pass: missing.length === 0 };
  });
}
