// The benchmark's origin server, run inside the lab's internet namespace on its own documentation-range
// address: `GET /bytes/<n>` streams n bytes from one reused 64 KiB buffer (a 100 MB body is never held in
// memory), over plain HTTP and TLS. Started by bench/lab-bench.ts; `lab down` ends it with the namespace.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { streamBytes } from '../src/lab/servers';

export interface OriginSpec {
  readonly ip: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Largest body served: 1 GiB, so a mistyped size cannot keep a benchmark busy for ever. */
const MAX_BYTES = 2 ** 30;

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const m = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
  const total = m ? Number(m[1]) : Number.NaN;
  if (!Number.isSafeInteger(total) || total > MAX_BYTES) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('use /bytes/<n>\n');
    return;
  }
  // Written until the socket buffer is full, then on 'drain': memory stays at a few chunks.
  streamBytes(total, res);
}

export function startOrigin(spec: OriginSpec): Promise<void[]> {
  const tls = { cert: readFileSync(spec.certFile), key: readFileSync(spec.keyFile) };
  const listen = (server: http.Server, port: number) =>
    new Promise<void>((resolve, reject) => {
      // The default backlog (511) would itself refuse connections in the 1,000-client run.
      server.once('error', reject);
      server.listen({ port, host: spec.ip, backlog: 4096 }, () => resolve());
    });
  return Promise.all([listen(http.createServer(handler), spec.httpPort), listen(https.createServer(tls, handler), spec.httpsPort)]);
}

if (require.main === module) {
  const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as OriginSpec;
  startOrigin(spec).then(
    () => process.stdout.write(`origin listening on ${spec.ip} http ${spec.httpPort} https ${spec.httpsPort}\n`),
    (e: unknown) => {
      process.stderr.write(`${String(e)}\n`);
      process.exit(1);
    },
  );
}
