// The emulated internet's web server: plain HTTP and TLS listeners on the lab's public address, run by
// `lab up` inside the internet namespace. Each reply names host and port, so the matrix can tell a real
// origin answer from anything a proxy made up; `/bytes/<n>` streams n bytes (bandwidth limits, benchmarks).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';

export const ORIGIN_MARKER = 'egresshub-lab-origin';

export interface WebServerSpec {
  readonly ip: string;
  readonly httpPorts: readonly number[];
  readonly httpsPorts: readonly number[];
  readonly certFile: string;
  readonly keyFile: string;
}

/** Largest `/bytes/<n>` body: 256 MiB, so a mistyped size cannot keep a test busy. */
const MAX_BYTES = 256 * 2 ** 20;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** `GET /bytes/<n>`: n bytes streamed from one reused buffer, waiting for the socket to drain (tenant-limit tests). */
export function streamBytes(n: number, res: http.ServerResponse | http2.Http2ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
  let left = n;
  const pump = (): void => {
    while (left > 0) {
      const k = Math.min(left, CHUNK.length);
      left -= k;
      if (!(res as http.ServerResponse).write(k === CHUNK.length ? CHUNK : CHUNK.subarray(0, k))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => {
    left = 0;
  });
  pump();
}

function handler(port: number, tls: boolean) {
  return (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    const bytes = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
    if (bytes && Number(bytes[1]) <= MAX_BYTES) {
      streamBytes(Number(bytes[1]), res);
      return;
    }
    const host = req.headers.host ?? req.headers[':authority'] ?? '-';
    const body = `${ORIGIN_MARKER} host=${String(host)} port=${port} tls=${tls} proto=${req.httpVersion} via=${req.headers.via ?? '-'} xff=${String(req.headers['x-forwarded-for'] ?? '-')}\n`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}

export function startWebServers(spec: WebServerSpec): Promise<void[]> {
  const tlsOptions = { cert: readFileSync(spec.certFile), key: readFileSync(spec.keyFile) };
  const listen = (server: http.Server | http2.Http2SecureServer, port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, spec.ip, () => resolve());
    });
  return Promise.all([
    ...spec.httpPorts.map((p) => listen(http.createServer(handler(p, false)), p)),
    // HTTP/2 when the client offers it by ALPN (the matrix checks it survives the proxy's peek), HTTP/1.1 otherwise.
    ...spec.httpsPorts.map((p) => listen(http2.createSecureServer({ ...tlsOptions, allowHTTP1: true }, handler(p, true)), p)),
  ]);
}

if (require.main === module) {
  const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as WebServerSpec;
  startWebServers(spec).then(
    () => process.stdout.write(`listening on ${spec.ip} http ${spec.httpPorts.join(',')} https ${spec.httpsPorts.join(',')}\n`),
    (e: unknown) => {
      process.stderr.write(`${String(e)}\n`);
      process.exit(1);
    },
  );
}
