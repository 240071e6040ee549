// The emulated internet's web server: plain HTTP and TLS listeners on the lab's public address, run by
// `lab up` inside the internet namespace. Each reply names host and port, so the matrix can tell a real
// origin answer from anything a proxy made up.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

export const ORIGIN_MARKER = 'egresshub-lab-origin';

export interface WebServerSpec {
  readonly ip: string;
  readonly httpPorts: readonly number[];
  readonly httpsPorts: readonly number[];
  readonly certFile: string;
  readonly keyFile: string;
}

function handler(port: number, tls: boolean): http.RequestListener {
  return (req, res) => {
    const body = `${ORIGIN_MARKER} host=${req.headers.host ?? '-'} port=${port} tls=${tls} via=${req.headers.via ?? '-'} xff=${String(req.headers['x-forwarded-for'] ?? '-')}\n`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}

export function startWebServers(spec: WebServerSpec): Promise<void[]> {
  const tlsOptions = { cert: readFileSync(spec.certFile), key: readFileSync(spec.keyFile) };
  const listen = (server: http.Server | https.Server, port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, spec.ip, () => resolve());
    });
  return Promise.all([
    ...spec.httpPorts.map((p) => listen(http.createServer(handler(p, false)), p)),
    ...spec.httpsPorts.map((p) => listen(https.createServer(tlsOptions, handler(p, true)), p)),
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
