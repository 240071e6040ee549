// The noisy tenant of `npm run bench:noisy`, run inside its spoke namespace: opens up to `connections` tunnels to its
// proxy port (CONNECT, then held open) and runs `downloads` loops of large plain-HTTP downloads through the proxy,
// for `seconds`, then closes everything and reports. Bounded in count, bytes per download and time.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

export interface FloodJob {
  /** host:port of the tenant's proxy. */
  readonly proxy: string;
  readonly connections: number;
  readonly downloads: number;
  /** http:// URL of a large body. */
  readonly downloadUrl: string;
  /** Fetch it through a CONNECT tunnel to this host:port instead of a proxied GET; TLS inside when the URL is https. */
  readonly tunnel?: string;
  /** CA bundle for an https downloadUrl. */
  readonly caFile?: string;
  readonly seconds: number;
}

export interface FloodResult {
  /** Tunnels the proxy accepted (answered 200 to CONNECT) and held. */
  readonly held: number;
  /** Connections refused or reset before an answer. */
  readonly refused: number;
  readonly otherErrors: number;
  readonly downloadedBytes: number;
  readonly seconds: number;
}

const CONNECT_TIMEOUT_MS = 5_000;

export async function runFlood(job: FloodJob): Promise<FloodResult> {
  const [host, portText] = job.proxy.split(':') as [string, string];
  const port = Number(portText);
  const t0 = Date.now();
  const until = t0 + job.seconds * 1000;
  const sockets: net.Socket[] = [];
  let held = 0;
  let refused = 0;
  let otherErrors = 0;
  let downloadedBytes = 0;

  const tunnel = () =>
    new Promise<void>((resolve) => {
      const s = net.connect({ host, port });
      sockets.push(s);
      let answered = false;
      const timer = setTimeout(() => {
        if (!answered) otherErrors++;
        answered = true;
        resolve();
      }, CONNECT_TIMEOUT_MS);
      s.once('connect', () => s.write('CONNECT www.example.net:443 HTTP/1.1\r\nHost: www.example.net:443\r\n\r\n'));
      s.once('data', (d: Buffer) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        if (d.toString('latin1').startsWith('HTTP/1.1 200')) held++;
        else otherErrors++;
        resolve();
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        if (e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET') refused++;
        else otherErrors++;
        resolve();
      });
    });

  const ca = job.caFile ? readFileSync(job.caFile) : undefined;
  const download = () =>
    new Promise<void>((resolve) => {
      const s = net.connect({ host, port });
      sockets.push(s);
      const stop = setTimeout(() => s.destroy(), Math.max(0, until - Date.now()));
      const url = new URL(job.downloadUrl);
      const get = (target: string) => `GET ${target} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`;
      const finish = () => {
        clearTimeout(stop);
        resolve();
      };
      s.once('error', () => otherErrors++);
      if (!job.tunnel) {
        s.once('connect', () => s.write(get(job.downloadUrl)));
        s.on('data', (d: Buffer) => (downloadedBytes += d.length));
        s.once('close', finish);
        return;
      }
      s.once('connect', () => s.write(`CONNECT ${job.tunnel} HTTP/1.1\r\nHost: ${job.tunnel}\r\n\r\n`));
      // The proxy's answer comes first; only a 200 opens the tunnel for the request (inside TLS for https).
      s.once('data', (d: Buffer) => {
        if (!d.toString('latin1').startsWith('HTTP/1.1 200')) {
          otherErrors++;
          s.destroy();
          finish();
          return;
        }
        const inner = url.protocol === 'https:' ? tls.connect({ socket: s, servername: url.hostname, ca }) : s;
        if (inner !== s) {
          sockets.push(inner);
          inner.once('error', () => otherErrors++);
          inner.once('secureConnect', () => inner.write(get(url.pathname)));
        } else {
          s.write(get(url.pathname));
        }
        inner.on('data', (chunk: Buffer) => (downloadedBytes += chunk.length));
        inner.once('close', finish);
      });
    });
  const downloadLoop = async () => {
    while (Date.now() < until) await download();
  };

  // Tunnels in waves of 100, as a misbehaving client pool would open them; downloads from the start.
  const loops = Array.from({ length: job.downloads }, downloadLoop);
  for (let i = 0; i < job.connections && Date.now() < until; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, job.connections - i) }, tunnel));
  }
  await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())));
  await Promise.all(loops);
  for (const s of sockets) s.destroy();
  return { held, refused, otherErrors, downloadedBytes, seconds: (Date.now() - t0) / 1000 };
}

if (require.main === module) {
  const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as FloodJob;
  void runFlood(job).then((r) => process.stdout.write(JSON.stringify(r)));
}
