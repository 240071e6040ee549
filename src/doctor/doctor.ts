// `egresshub doctor`: checks, step by step, that this host reaches its tenant's proxy and that the proxy
// behaves like egresshub's (tunnels allowed sites, refuses the rest itself), with a verdict and a fix per
// failure. Every step is bounded by a timeout; later steps are skipped when the one they need failed.
import { isIP, type Socket } from 'node:net';
import { UsageError } from '../config/errors';
import { redactUrls } from '../untrusted/redact';
import { shown } from '../untrusted/text';
import { covers, inCidr, isPrivate, parseNoProxy } from './no-proxy';
import { codeOf, exchangeHead, resolveHost, tcpConnect, tlsHandshake, type ResponseHead } from './probes';
import { POLICY_DENIED_REALM } from '../policy/squid-conf';

export type StepId = 'proxy-setting' | 'resolve' | 'tcp' | 'tunnel' | 'denied' | 'no-proxy';
export type Verdict = 'pass' | 'fail' | 'skip';

export interface StepResult {
  readonly id: StepId;
  readonly title: string;
  readonly verdict: Verdict;
  readonly detail: string;
  /** What to do about a failure. */
  readonly fix?: string;
  readonly ms: number;
}

export interface DoctorReport {
  readonly healthy: boolean;
  readonly proxyUrl?: string;
  readonly steps: readonly StepResult[];
}

export interface DoctorOptions {
  /** Proxy URL; the environment's https_proxy/HTTPS_PROXY/http_proxy/HTTP_PROXY when omitted. */
  readonly proxy?: string;
  /** NO_PROXY list; the environment's no_proxy/NO_PROXY when omitted. */
  readonly noProxy?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A URL the tenant may reach. @default DEFAULT_TEST_URL */
  readonly testUrl?: string;
  /** A URL the proxy must refuse. @default DEFAULT_DENIED_URL */
  readonly deniedUrl?: string;
  /** The VPC's CIDR: the proxy name must resolve inside it. @default - any private range */
  readonly vpcCidr?: string;
  /** Ask this DNS server (`ip` or `ip:port`) instead of the system resolver. */
  readonly dnsServer?: string;
  /** Extra trusted CA certificates (PEM) for the test URL's origin. */
  readonly ca?: readonly string[];
  /** Per-step timeout. @default DEFAULT_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

export const DEFAULT_TEST_URL = 'https://aws.amazon.com/';
/**
 * Every egresshub policy refuses link-local destinations, whatever the tenant's allowlist, and without a
 * DNS lookup: the proxy's answer to it is a pure policy decision. The doctor itself only talks to the proxy.
 */
export const DEFAULT_DENIED_URL = 'https://169.254.169.254/';
export const DEFAULT_TIMEOUT_MS = 5000;
export const TIMEOUT_RANGE_MS = [100, 60_000] as const;
export const METADATA_ADDRESS = '169.254.169.254';

const TITLES: Record<StepId, string> = {
  'proxy-setting': 'proxy setting',
  resolve: 'name resolves inside the VPC',
  tcp: 'TCP to the tenant port',
  tunnel: 'CONNECT + TLS to the test URL',
  denied: 'denied URL refused by the proxy',
  'no-proxy': 'NO_PROXY covers the metadata service',
};

interface ProxyTarget {
  readonly url: URL;
  readonly host: string;
  readonly port: number;
}

/** Parses a URL given on the command line; bad input is a usage error (exit 2). */
export function parseFlagUrl(flag: string, value: string, protocols: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag}: not a URL (got "${redactUrls(value)}"); write it like ${protocols[0]}//host:port/`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new UsageError(`${flag}: expected ${protocols.join(' or ')} URL (got "${redactUrls(value)}")`);
  }
  return url;
}

export function checkTimeout(ms: number): number {
  const [min, max] = TIMEOUT_RANGE_MS;
  if (!Number.isInteger(ms) || ms < min || ms > max) {
    throw new UsageError(
      `--timeout: expected whole milliseconds between ${min} and ${max} (got ${ms}); the default is ${DEFAULT_TIMEOUT_MS}`,
    );
  }
  return ms;
}

export async function diagnose(opts: DoctorOptions = {}): Promise<DoctorReport> {
  const env = opts.env ?? process.env;
  const timeoutMs = checkTimeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const testUrl = parseFlagUrl('--test-url', opts.testUrl ?? DEFAULT_TEST_URL, ['https:', 'http:']);
  const deniedUrl = parseFlagUrl('--denied-url', opts.deniedUrl ?? DEFAULT_DENIED_URL, ['https:', 'http:']);
  if (opts.proxy !== undefined) parseFlagUrl('--proxy', opts.proxy, ['http:']);

  const steps: StepResult[] = [];
  const run = async (
    id: StepId,
    body: () => Promise<Omit<StepResult, 'id' | 'title' | 'ms'>> | Omit<StepResult, 'id' | 'title' | 'ms'>,
  ) => {
    const started = Date.now();
    const r = await body();
    steps.push({ id, title: TITLES[id], ...r, ms: Date.now() - started });
    return r.verdict === 'pass';
  };
  const skip = (id: StepId, why: string) => steps.push({ id, title: TITLES[id], verdict: 'skip', detail: why, ms: 0 });

  let target: ProxyTarget | undefined;
  const settingOk = await run('proxy-setting', () => {
    const r = proxySetting(opts.proxy, env);
    target = r.target;
    return r.result;
  });

  // Each network step needs the one before it; a failure skips the rest with the reason.
  let blocker = settingOk && target ? undefined : 'needs a proxy URL';
  let addresses: string[] = [];
  const t = target;
  if (!blocker && t) {
    const ok = await run('resolve', async () => {
      const r = await resolveStep(t, timeoutMs, opts.dnsServer, opts.vpcCidr);
      addresses = r.addresses;
      return r.result;
    });
    if (!ok) blocker = 'needs the proxy address';
  } else skip('resolve', blocker ?? '');
  const address = addresses[0];
  if (!blocker && t && address) {
    if (!(await run('tcp', () => tcpStep(t, addresses, timeoutMs)))) blocker = 'needs a TCP connection to the proxy';
  } else skip('tcp', blocker ?? '');
  if (!blocker && t && address) {
    await run('tunnel', () => tunnelStep(t, address, testUrl, timeoutMs, opts.ca));
    await run('denied', () => deniedStep(t, address, deniedUrl, timeoutMs));
  } else {
    skip('tunnel', blocker ?? '');
    skip('denied', blocker ?? '');
  }
  await run('no-proxy', () => noProxyStep(opts.noProxy, env));
  // A proxy URL may carry a password (a corporate proxy's): the report says which URL, never the password.
  return {
    healthy: steps.every((s) => s.verdict === 'pass'),
    proxyUrl: target && redactUrls(target.url.href),
    steps: steps.map((s) => ({ ...s, detail: redactUrls(s.detail), ...(s.fix === undefined ? {} : { fix: redactUrls(s.fix) }) })),
  };
}

type Result = Omit<StepResult, 'id' | 'title' | 'ms'>;
const pass = (detail: string): Result => ({ verdict: 'pass', detail });
const fail = (detail: string, fix: string): Result => ({ verdict: 'fail', detail, fix });

const LOAD_SETTINGS = 'load the settings egresshub client-env prints (source /etc/profile.d/egresshub-proxy.sh)';
const CLIENT_ENV_FIX = `${LOAD_SETTINGS}, or pass --proxy`;

function proxySetting(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { target?: ProxyTarget; result: Result } {
  let value = flag;
  let source = '--proxy';
  if (value === undefined) {
    // curl and most tools prefer the lower-case spelling; both set to different values is a trap.
    const pairs = [
      ['https_proxy', 'HTTPS_PROXY'],
      ['http_proxy', 'HTTP_PROXY'],
    ] as const;
    for (const [lower, upper] of pairs) {
      const l = env[lower] || undefined;
      const u = env[upper] || undefined;
      if (l && u && l !== u) {
        return {
          result: fail(`${lower}=${l} but ${upper}=${u}: tools disagree on which they read`, `set both to the same URL; ${CLIENT_ENV_FIX}`),
        };
      }
      if (l ?? u) {
        value = l ?? u;
        source = l ? lower : upper;
        break;
      }
    }
  }
  if (value === undefined) return { result: fail('no proxy configured: HTTPS_PROXY and https_proxy are unset', CLIENT_ENV_FIX) };
  let url: URL;
  try {
    url = new URL(value.includes('://') ? value : `http://${value}`);
  } catch {
    return { result: fail(`${source}=${value} is not a URL`, `write it as http://<tenant>.<domain>:<port>; ${CLIENT_ENV_FIX}`) };
  }
  if (url.protocol !== 'http:') {
    return {
      result: fail(
        `${source}=${value}: egresshub proxies speak plain HTTP (TLS travels inside CONNECT)`,
        `use http://${url.host}; ${CLIENT_ENV_FIX}`,
      ),
    };
  }
  if (!url.port) {
    return {
      result: fail(
        `${source}=${value} has no port, so clients use 80; each tenant has its own port`,
        `add the tenant's port (client-env prints it)`,
      ),
    };
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const note = isIP(host) ? ' (an IP address: endpoint IPs change when the endpoint is replaced; prefer the stable name)' : '';
  return { target: { url, host, port: Number(url.port) }, result: pass(`${url.href} from ${source}${note}`) };
}

async function resolveStep(
  t: ProxyTarget,
  timeoutMs: number,
  dnsServer: string | undefined,
  vpcCidr: string | undefined,
): Promise<{ addresses: string[]; result: Result }> {
  let addresses: string[];
  try {
    addresses = await resolveHost(t.host, timeoutMs, dnsServer);
  } catch (e) {
    const code = codeOf(e);
    const via = dnsServer ? ` (asked ${dnsServer})` : '';
    if (code === 'ENOTFOUND' || code === 'ENODATA') {
      return {
        addresses: [],
        result: fail(
          `${t.host} does not resolve (${code})${via}`,
          "check the name against egresshub client-env; the spoke's resource endpoint needs private DNS for it (SPECIFIED_DOMAINS_ONLY with the tenant's name)",
        ),
      };
    }
    return {
      addresses: [],
      result: fail(`${t.host}: ${(e as Error).message}${via}`, "check the VPC's DNS resolver (enableDnsSupport) and the name"),
    };
  }
  // --vpc-cidr is IPv4; a dual-stack endpoint's IPv6 addresses come from the VPC's Amazon-provided
  // (public) IPv6 block, so only IPv4 answers are judged; IPv6 ones still get the TCP check.
  const inside = (a: string) => isIP(a) === 6 || (vpcCidr ? inCidr(a, vpcCidr) : isPrivate(a));
  const where = vpcCidr ? `the VPC's ${vpcCidr}` : 'a private range';
  const outside = addresses.filter((a) => !inside(a));
  if (outside.length > 0) {
    return {
      addresses,
      result: fail(
        `${t.host} resolves to ${addresses.join(', ')}; ${outside.join(', ')} outside ${where}`,
        "the name must resolve to the resource endpoint in this VPC: enable private DNS on the spoke's endpoint, or pass --vpc-cidr if the VPC uses other ranges",
      ),
    };
  }
  const v6 = addresses.filter((a) => isIP(a) === 6);
  const judged =
    v6.length === addresses.length ? `IPv6 only: not judged against ${where}` : `inside ${where}${v6.length ? '; IPv6 not judged' : ''}`;
  return { addresses, result: pass(`${t.host} → ${addresses.join(', ')} (${judged})`) };
}

/**
 * Every address the name returns: a resource endpoint has one per AZ, and a client may pick any of them,
 * so one unreachable AZ is a fault even when another works.
 */
async function tcpStep(t: ProxyTarget, addresses: readonly string[], timeoutMs: number): Promise<Result> {
  const results = await Promise.all(
    addresses.map(async (address) => {
      try {
        (await tcpConnect(address, t.port, timeoutMs)).destroy();
        return { address };
      } catch (e) {
        return { address, failure: tcpFailure(t, address, e, timeoutMs) };
      }
    }),
  );
  const ok = results.filter((r) => !r.failure).map((r) => hostPort(r.address, t.port));
  const bad = results.find((r) => r.failure)?.failure;
  if (!bad) return pass(`connected to ${ok.join(', ')}`);
  return { ...bad, detail: ok.length > 0 ? `${bad.detail} (${ok.join(', ')} connected)` : bad.detail };
}

function tcpFailure(t: ProxyTarget, address: string, e: unknown, timeoutMs: number): Result {
  const code = codeOf(e);
  if (code === 'ECONNREFUSED') {
    return fail(
      `${hostPort(address, t.port)} refused the connection: nothing listens on port ${t.port}`,
      "check the port against egresshub client-env (each tenant's endpoint carries only its own port); if it is right, the proxy behind the endpoint may be down: check the hub proxy instances",
    );
  }
  if (code === 'TIMEOUT') {
    return fail(
      `no answer from ${hostPort(address, t.port)} within ${timeoutMs} ms`,
      "a security group or network ACL drops it: the spoke endpoint's security group must admit this host's VPC CIDR on the tenant port",
    );
  }
  return fail(`${hostPort(address, t.port)}: ${(e as Error).message}`, 'check routing from this host to the endpoint subnets');
}

const hostPort = (address: string, port: number) => (isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`);

/** Sends CONNECT (https) or an absolute-form GET (http) for `url` to the proxy; returns the proxy's head. */
async function askProxy(t: ProxyTarget, address: string, url: URL, timeoutMs: number): Promise<{ socket: Socket; head: ResponseHead }> {
  const socket = await tcpConnect(address, t.port, timeoutMs);
  const authority = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
  const request =
    url.protocol === 'https:'
      ? `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: egresshub-doctor\r\n\r\n`
      : `GET ${url.href} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: egresshub-doctor\r\nConnection: close\r\n\r\n`;
  try {
    return { socket, head: await exchangeHead(socket, request, timeoutMs, `proxy request for ${url.host}`) };
  } catch (e) {
    socket.destroy();
    throw e;
  }
}

/**
 * A refusal by policy: 403 for a plain request; 407 with egresshub's never-accepting realm for a CONNECT (an
 * ssl-bump port would bump any other refusal, docs/policy.md "Tunnels").
 */
function refusedByPolicy(head: ResponseHead): boolean {
  const challenge = head.headers['proxy-authenticate'];
  return head.status === 403 || (head.status === 407 && String(challenge ?? '').includes(POLICY_DENIED_REALM));
}

/** Squid names its refusals (X-Squid-Error: ERR_ACCESS_DENIED 0); other proxies just say 403. */
/** The proxy's answer in a few words; its text comes off the network, so it is escaped and clipped (shown()). */
function proxyVerdict(head: ResponseHead): string {
  const err = head.headers['x-squid-error'];
  return `${head.status}${head.reason ? ` ${shown(head.reason)}` : ''}${err ? ` (${shown(err)})` : ''}`;
}

function unreachableProxy(e: unknown, t: ProxyTarget, timeoutMs: number): Result {
  const code = codeOf(e);
  if (code === 'CLOSED' || code === 'ECONNRESET') {
    return fail(
      `the endpoint accepted the connection on port ${t.port}, then closed it without an HTTP answer`,
      'the proxy behind the endpoint is down or unreachable from the resource gateway: check the hub proxy instances (egresshub hub status, CloudWatch) and the gateway security group',
    );
  }
  if (code === 'TIMEOUT') {
    return fail(`the proxy sent no HTTP answer within ${timeoutMs} ms`, 'the proxy is overloaded or hung: check the hub proxy instances');
  }
  return fail(`talking to the proxy failed: ${(e as Error).message}`, 'check the hub proxy instances');
}

async function tunnelStep(t: ProxyTarget, address: string, url: URL, timeoutMs: number, ca?: readonly string[]): Promise<Result> {
  let socket: Socket | undefined;
  try {
    const r = await askProxy(t, address, url, timeoutMs);
    socket = r.socket;
    const { head } = r;
    if (head.status === 403 || head.status === 407) {
      if (head.status === 407 && !refusedByPolicy(head))
        return fail(
          `the proxy asks for credentials (${proxyVerdict(head)}): it is not an egresshub proxy`,
          'check --proxy: egresshub proxies never ask for credentials',
        );
      return fail(
        `the proxy refused ${url.host}: ${proxyVerdict(head)}`,
        `${url.hostname} is not on the tenant's allowlist: add it to allow in egresshub.yaml, or pass a --test-url the tenant may reach`,
      );
    }
    if (url.protocol === 'http:') {
      if (head.headers['x-squid-error']) {
        return fail(
          `the proxy could not fetch ${url.href}: ${proxyVerdict(head)}`,
          'the hub cannot reach that site: check its NAT gateway and DNS',
        );
      }
      return pass(`GET ${url.href} through the proxy → ${head.status}`);
    }
    if (head.status !== 200) {
      return fail(
        `CONNECT ${url.host} → ${proxyVerdict(head)}: the proxy could not open the tunnel`,
        'the hub cannot reach that site (NAT gateway, DNS, or the site is down); try another --test-url',
      );
    }
    try {
      const secure = await tlsHandshake(socket, url.hostname, timeoutMs, ca);
      socket = secure.socket;
      const answer = await exchangeHead(
        secure.socket,
        `HEAD ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: egresshub-doctor\r\nConnection: close\r\n\r\n`,
        timeoutMs,
        `HTTPS request to ${url.host}`,
      );
      return pass(`CONNECT ${url.host} → 200; ${secure.protocol} with ${secure.subject}; HEAD ${url.pathname} → ${answer.status}`);
    } catch (e) {
      const code = codeOf(e);
      return fail(
        `CONNECT ${url.host} → 200, but TLS through the tunnel failed: ${code} ${(e as Error).message}`,
        code.includes('CERT') || code.includes('SIGNATURE') || code.includes('SELF_SIGNED')
          ? "the origin's certificate is not trusted here (pass --ca-file for a private CA), or something intercepts TLS"
          : 'something between this host and the origin breaks TLS; try another --test-url',
      );
    }
  } catch (e) {
    return unreachableProxy(e, t, timeoutMs);
  } finally {
    socket?.destroy();
  }
}

async function deniedStep(t: ProxyTarget, address: string, url: URL, timeoutMs: number): Promise<Result> {
  let socket: Socket | undefined;
  try {
    const r = await askProxy(t, address, url, timeoutMs);
    socket = r.socket;
    const { head } = r;
    if (refusedByPolicy(head)) return pass(`the proxy refused ${url.host}: ${proxyVerdict(head)}`);
    if (head.status >= 200 && head.status < 400 && !head.headers['x-squid-error']) {
      return fail(
        `the proxy let ${url.host} through (${proxyVerdict(head)}): it does not enforce the policy`,
        'this is not an egresshub-generated proxy, or its squid.conf was edited: redeploy the hub (egresshub squid-conf shows the expected policy)',
      );
    }
    return fail(
      `the proxy answered ${proxyVerdict(head)} for ${url.host}: it tried to reach it instead of refusing it by policy`,
      `pass a --denied-url outside the tenant's allowlist (tenants with allow "*" refuse only private and link-local addresses, such as ${DEFAULT_DENIED_URL})`,
    );
  } catch (e) {
    const r = unreachableProxy(e, t, timeoutMs);
    return { ...r, detail: `${r.detail}: a network failure is not a refusal` };
  } finally {
    socket?.destroy();
  }
}

function noProxyStep(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): Result {
  let value = flag;
  let source = '--no-proxy';
  if (value === undefined) {
    const l = env.no_proxy || undefined;
    const u = env.NO_PROXY || undefined;
    if (l && u && l !== u)
      return fail('no_proxy and NO_PROXY differ: tools disagree on which they read', `set both to the same list; ${LOAD_SETTINGS}`);
    value = l ?? u;
    source = l ? 'no_proxy' : 'NO_PROXY';
  }
  if (!value) {
    return fail(
      'NO_PROXY is unset: requests to the instance metadata service (credentials) would go to the proxy, which refuses them',
      `${LOAD_SETTINGS} (its NO_PROXY lists ${METADATA_ADDRESS})`,
    );
  }
  const entries = parseNoProxy(value);
  if (entries.includes('*')) return fail(`${source}=* sends nothing through the proxy`, `list only what must bypass it; ${LOAD_SETTINGS}`);
  const c = covers(entries, METADATA_ADDRESS);
  if (!c.covered) {
    return fail(
      `${source} does not cover ${METADATA_ADDRESS}: instance metadata (and the SDKs' credentials) would go to the proxy, which refuses it`,
      `add ${METADATA_ADDRESS} to NO_PROXY; ${LOAD_SETTINGS}`,
    );
  }
  return pass(
    c.onlyByCidr
      ? `${source} covers ${METADATA_ADDRESS} through ${c.by} only (wget and curl < 7.86 ignore CIDRs; list the address itself)`
      : `${source} lists ${METADATA_ADDRESS}`,
  );
}
