// The doctor's network primitives, each bounded by a timeout: name resolution, a TCP connect, a request
// to the proxy (CONNECT or absolute-form GET) whose response head is parsed, and TLS through a tunnel.
// Node's own dns/net/tls only: what the checks measure is what a Node, curl or SDK client would meet.
import { promises as dns } from 'node:dns';
import { isIP, Socket } from 'node:net';
import * as tls from 'node:tls';

/** A failure the doctor can explain: `code` is Node's error code or one of ours (TIMEOUT, CLOSED, …). */
export class ProbeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function codeOf(e: unknown): string {
  if (e instanceof ProbeError) return e.code;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'ERROR';
}

/** Rejects with TIMEOUT after `ms`, running `cleanup` (destroy sockets) so nothing outlives the step. */
export function withTimeout<T>(ms: number, what: string, work: Promise<T>, cleanup: () => void = () => undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      cleanup();
      reject(new ProbeError('TIMEOUT', `${what}: no answer within ${ms} ms`));
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Addresses of `host`. With `server` (`ip` or `ip:port`) the query goes to that DNS server only (the lab's
 * resolver, a test's); otherwise through getaddrinfo, as curl and most clients resolve.
 */
export async function resolveHost(host: string, timeoutMs: number, server?: string): Promise<string[]> {
  if (isIP(host)) return [host];
  if (!server) {
    const found = await withTimeout(timeoutMs, `resolving ${host}`, dns.lookup(host, { all: true, verbatim: true }));
    return found.map((a) => a.address);
  }
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([server]);
  const work = (async () => {
    try {
      return await resolver.resolve4(host);
    } catch (e) {
      // A name with only IPv6 addresses answers A with NODATA.
      if (codeOf(e) !== 'ENODATA') throw e;
      return resolver.resolve6(host);
    }
  })();
  return withTimeout(timeoutMs, `resolving ${host}`, work, () => resolver.cancel());
}

export function tcpConnect(address: string, port: number, timeoutMs: number): Promise<Socket> {
  const socket = new Socket();
  const work = new Promise<Socket>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, address, () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
  });
  return withTimeout(timeoutMs, `connecting to ${address}:${port}`, work, () => socket.destroy());
}

export interface ResponseHead {
  readonly status: number;
  readonly reason: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Bytes that arrived after the head (the start of a body). */
  readonly rest: Buffer;
}

/** Writes `request` and reads the HTTP response head; CLOSED when the peer hangs up before sending one. */
export function exchangeHead(socket: Socket, request: string, timeoutMs: number, what: string): Promise<ResponseHead> {
  const work = new Promise<ResponseHead>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (f: () => void) => {
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.removeListener('error', onError);
      f();
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 64 * 1024) done(() => reject(new ProbeError('BAD_RESPONSE', `${what}: response head larger than 64 KiB`)));
        return;
      }
      const [statusLine = '', ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
      const m = /^HTTP\/\d(?:\.\d)? (\d{3})(?: (.*))?$/.exec(statusLine);
      if (!m) {
        done(() => reject(new ProbeError('BAD_RESPONSE', `${what}: not an HTTP response (${JSON.stringify(statusLine.slice(0, 60))})`)));
        return;
      }
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      done(() => resolve({ status: Number(m[1]), reason: m[2] ?? '', headers, rest: buf.subarray(end + 4) }));
    };
    const onEnd = () =>
      done(() => reject(new ProbeError('CLOSED', `${what}: connection closed after ${buf.length} bytes, before any HTTP response`)));
    const onError = (e: Error) => done(() => reject(e));
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
    socket.write(request);
  });
  return withTimeout(timeoutMs, what, work, () => socket.destroy());
}

export interface TlsResult {
  readonly protocol: string;
  readonly subject: string;
  readonly socket: tls.TLSSocket;
}

/** A full TLS handshake over an established tunnel, verifying the certificate for `servername`. */
export function tlsHandshake(socket: Socket, servername: string, timeoutMs: number, ca?: readonly string[]): Promise<TlsResult> {
  const secure = tls.connect({
    socket,
    servername: isIP(servername) ? undefined : servername,
    ca: ca ? [...tls.rootCertificates, ...ca] : undefined,
    ALPNProtocols: ['http/1.1'],
  });
  const work = new Promise<TlsResult>((resolve, reject) => {
    secure.once('error', reject);
    secure.once('secureConnect', () => {
      secure.removeListener('error', reject);
      const cert = secure.getPeerCertificate();
      const cn = cert.subject?.CN;
      resolve({ protocol: secure.getProtocol() ?? 'TLS', subject: Array.isArray(cn) ? cn.join(',') : (cn ?? '?'), socket: secure });
    });
  });
  return withTimeout(timeoutMs, `TLS handshake with ${servername}`, work, () => secure.destroy());
}
