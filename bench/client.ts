// The bench's Node client, run inside a lab namespace: small requests, each on a fresh connection (plain
// HTTP through the proxy as an absolute-URI GET, HTTPS as CONNECT + TLS, or straight to the origin), either
// sequentially timed with hrtime (latency) or from N concurrent loops for T seconds (load; ab has no CONNECT).
// Bounded by count, a per-request timeout and an overall deadline.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

export interface LatencyJob {
  readonly url: string;
  /** host:port of the proxy (the tenant's endpoint); absent = straight to the origin. */
  readonly proxy?: string;
  readonly count: number;
  readonly caFile: string;
  readonly deadlineMs: number;
}

/** N loops, each sending requests back to back until `seconds` pass or `maxRequests` were started. */
export interface LoadJob {
  readonly url: string;
  readonly proxy?: string;
  readonly concurrency: number;
  readonly seconds: number;
  readonly maxRequests: number;
  readonly caFile: string;
}

export interface LoadResult {
  readonly ok: number;
  readonly errors: number;
  readonly seconds: number;
  readonly firstError?: string;
}

export interface LatencyResult {
  readonly ms: number[];
  readonly errors: number;
  readonly firstError?: string;
}

const TIMEOUT_MS = 5_000;
/** Under load, as ab's `-s 10`: with 1,000 loops a saturated client alone can queue a request for seconds. */
const LOAD_TIMEOUT_MS = 10_000;

/** One request on a new connection; resolves with the body length (checked by the caller). */
function once(job: Pick<LatencyJob, 'url' | 'proxy'>, ca: Buffer, timeoutMs = TIMEOUT_MS): Promise<number> {
  const url = new URL(job.url);
  const [proxyHost, proxyPort] = job.proxy ? (job.proxy.split(':') as [string, string]) : [undefined, undefined];
  const tlsTarget = url.protocol === 'https:';
  const port = Number(url.port || (tlsTarget ? 443 : 80));
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error('timeout')), timeoutMs);
    let socket: net.Socket | undefined;
    const done = (err: Error | null, n = 0) => {
      clearTimeout(timer);
      socket?.destroy();
      if (err) reject(err);
      else resolve(n);
    };
    const request = (s: net.Socket, path: string) => {
      socket = s;
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
      });
      s.on('end', () => {
        const text = buf.toString('latin1');
        const head = text.indexOf('\r\n\r\n');
        if (!/^HTTP\/1\.[01] 200/.test(text) || head < 0) return done(new Error(`bad response: ${text.split('\r\n')[0]}`));
        done(null, buf.length - head - 4);
      });
      s.on('error', (e) => done(e));
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
    };
    const startTls = (raw?: net.Socket) => {
      // host is what the certificate is checked against (an IP SAN here), with or without a tunnel.
      // servername is the SNI: Node sends none for an IP, nor (over an existing socket) unless asked.
      const servername = net.isIP(url.hostname) ? undefined : url.hostname;
      const s = tls.connect({ socket: raw, host: url.hostname, servername, port, ca });
      s.once('secureConnect', () => request(s, url.pathname));
      s.once('error', (e: Error) => done(e));
      socket = s;
    };
    if (!proxyHost) {
      if (tlsTarget) startTls();
      else request(net.connect({ host: url.hostname, port }), url.pathname);
      return;
    }
    if (!tlsTarget) {
      request(net.connect({ host: proxyHost, port: Number(proxyPort) }), url.href);
      return;
    }
    const req = http.request({
      host: proxyHost,
      port: Number(proxyPort),
      method: 'CONNECT',
      path: `${url.hostname}:${port}`,
      agent: false,
    });
    req.once('connect', (res, raw) => {
      if (res.statusCode !== 200) return done(new Error(`CONNECT ${res.statusCode}`));
      startTls(raw);
    });
    req.once('error', (e) => done(e));
    req.end();
  });
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const ca = readFileSync(job.caFile);
  const t0 = Date.now();
  const until = t0 + job.seconds * 1000;
  let started = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const loop = async () => {
    while (Date.now() < until && started < job.maxRequests) {
      started++;
      try {
        await once(job, ca, LOAD_TIMEOUT_MS);
        ok++;
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  return { ok, errors, seconds: (Date.now() - t0) / 1000, firstError };
}

export async function runLatency(job: LatencyJob): Promise<LatencyResult> {
  const ca = readFileSync(job.caFile);
  const until = Date.now() + job.deadlineMs;
  const ms: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  for (let i = 0; i < job.count && Date.now() < until; i++) {
    const t0 = process.hrtime.bigint();
    try {
      await once(job, ca);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    } catch (e) {
      errors++;
      firstError ??= e instanceof Error ? e.message : String(e);
    }
  }
  return { ms, errors, firstError };
}

if (require.main === module) {
  const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as (LatencyJob & { kind?: 'latency' }) | (LoadJob & { kind: 'load' });
  if (job.kind === 'load') void runLoad(job).then((r) => process.stdout.write(JSON.stringify(r)));
  else void runLatency(job).then((r) => process.stdout.write(JSON.stringify(r)));
}
