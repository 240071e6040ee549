// curl inside a lab namespace, the one way the lab, its tests and the demo ask something through a tenant's proxy:
// the same options, the same read-out (HTTP code, CONNECT code, protocol version), and the same reading of what a
// refusal looks like (403 to a request, 407 to a CONNECT, a tunnel closed at the ClientHello; docs/policy.md).
import { inNs } from './sh';

export interface CurlOptions {
  /** `http://host:port` of the proxy; absent: `--noproxy '*'` (straight out). */
  readonly proxy?: string;
  /** The lab CA, so the emulated internet's certificates verify. */
  readonly caCert?: string;
  /** More options (`-p`, `--http2`, `--connect-to a:443:b:443`, `-k`). */
  readonly args?: readonly string[];
  /** @default 8 */
  readonly maxTimeSeconds?: number;
  /** @default 4 */
  readonly connectTimeoutSeconds?: number;
  /** Keep the body (the origin's marker line); otherwise it is discarded. @default false */
  readonly body?: boolean;
}

export interface CurlResult {
  readonly exit: number;
  /** The origin's (or Squid's) HTTP status, `000` when none. */
  readonly code: string;
  /** The proxy's answer to CONNECT, `000` when there was none. */
  readonly connect: string;
  /** `1.1`, `2`, or `0` when no response. */
  readonly version: string;
  /** Seconds the whole transfer took. */
  readonly seconds: number;
  /** Body bytes received. */
  readonly bytes: number;
  readonly body: string;
  readonly stderr: string;
}

export function curlIn(ns: string, url: string, o: CurlOptions = {}): CurlResult {
  const r = inNs(
    ns,
    [
      'curl',
      '-sS',
      '--max-time',
      String(o.maxTimeSeconds ?? 8),
      '--connect-timeout',
      String(o.connectTimeoutSeconds ?? 4),
      ...(o.caCert ? ['--cacert', o.caCert] : []),
      ...(o.proxy ? ['-x', o.proxy] : ['--noproxy', '*']),
      ...(o.body ? [] : ['-o', '/dev/null']),
      ...(o.args ?? []),
      '-w',
      '\n%{http_code} %{http_connect} %{http_version} %{time_total} %{size_download}',
      url,
    ],
    { allowFail: true, timeoutMs: ((o.maxTimeSeconds ?? 8) + 7) * 1000 },
  );
  const lines = r.stdout.trimEnd().split('\n');
  const [code = '000', connect = '000', version = '0', seconds = '0', bytes = '0'] = (lines.pop() ?? '').split(' ');
  return {
    exit: r.status ?? -1,
    code,
    connect,
    version,
    seconds: Number(seconds),
    bytes: Number(bytes),
    body: lines.join('\n'),
    stderr: r.stderr.trim(),
  };
}

/**
 * How the proxy said no, or undefined when it did not: a 403 to a request, a 407 to a CONNECT, or a tunnel it
 * closed after its 200 (at the ClientHello: curl 35; at bytes that are not TLS: 52 or 56).
 */
export function proxyRefusal(r: CurlResult): string | undefined {
  if (r.code === '403' || r.connect === '403') return '403';
  if (r.connect === '407') return '407';
  if (r.connect === '200' && r.code === '000' && [35, 52, 56].includes(r.exit)) return `tunnel closed (curl ${r.exit})`;
  return undefined;
}
