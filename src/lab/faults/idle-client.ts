// The idle-timeout fault's client, run inside a spoke namespace: opens a CONNECT tunnel through the tenant's
// proxy, speaks TLS to the lab origin through it and asks once (the tunnel works), then sends nothing at all for
// `idleMs` and asks again on the same connection. Its own socket sets no TCP keepalive, so only the proxy's probes
// can keep the path's flows alive. Prints one JSON line when the tunnel is open and one with the outcome.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { ORIGIN_MARKER } from '../servers';

export interface IdleClientSpec {
  readonly proxyHost: string;
  readonly proxyPort: number;
  /** An allowlisted name the lab origin serves over TLS on 443. */
  readonly host: string;
  readonly caFile: string;
  readonly idleMs: number;
  /** Bound on each wait for an answer. */
  readonly answerMs: number;
}

export type IdleClientEvent =
  | { readonly event: 'open'; readonly at: number }
  | { readonly event: 'done'; readonly ok: boolean; readonly idleMs: number; readonly error?: string }
  | { readonly event: 'failed'; readonly stage: string; readonly error: string };

const say = (e: IdleClientEvent) => process.stdout.write(`${JSON.stringify(e)}\n`);

/** Resolves with the bytes read until `done(text)` holds; rejects on close, error or after `ms`. */
function readUntil(socket: net.Socket | tls.TLSSocket, done: (text: string) => boolean, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', finish);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (done(text)) finish();
    };
    const onClose = () => finish(new Error(`closed after ${JSON.stringify(text.slice(0, 60))}`));
    const timer = setTimeout(() => finish(new Error(`no answer within ${ms} ms`)), ms);
    socket.on('data', onData);
    socket.once('error', finish);
    socket.once('close', onClose);
  });
}

/** One HTTP/1.1 request on the TLS connection, answered by the lab origin (its marker in a complete body). */
async function ask(socket: tls.TLSSocket, spec: IdleClientSpec): Promise<void> {
  socket.write(`GET / HTTP/1.1\r\nHost: ${spec.host}\r\n\r\n`);
  const reply = await readUntil(socket, (t) => t.includes(ORIGIN_MARKER) && t.endsWith('\n'), spec.answerMs);
  if (!reply.startsWith('HTTP/1.1 200')) throw new Error(`origin answered ${JSON.stringify(reply.split('\r\n')[0])}`);
}

async function main(spec: IdleClientSpec): Promise<void> {
  let stage = 'connect';
  try {
    const raw = net.connect({ host: spec.proxyHost, port: spec.proxyPort });
    await new Promise<void>((resolve, reject) => raw.once('connect', resolve).once('error', reject));
    stage = 'CONNECT';
    raw.write(`CONNECT ${spec.host}:443 HTTP/1.1\r\nHost: ${spec.host}:443\r\n\r\n`);
    const head = await readUntil(raw, (t) => t.includes('\r\n\r\n'), spec.answerMs);
    if (!/^HTTP\/1\.[01] 200/.test(head)) throw new Error(`proxy answered ${JSON.stringify(head.split('\r\n')[0])}`);
    stage = 'TLS';
    const secure = tls.connect({ socket: raw, servername: spec.host, ca: readFileSync(spec.caFile), ALPNProtocols: ['http/1.1'] });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    stage = 'first request';
    await ask(secure, spec);
    say({ event: 'open', at: Date.now() });
    stage = 'request after idling';
    const idleFrom = Date.now();
    await new Promise((r) => setTimeout(r, spec.idleMs));
    const idleMs = Date.now() - idleFrom;
    try {
      await ask(secure, spec);
      say({ event: 'done', ok: true, idleMs });
    } catch (e) {
      say({ event: 'done', ok: false, idleMs, error: errorText(e) });
    }
    secure.destroy();
  } catch (e) {
    say({ event: 'failed', stage, error: errorText(e) });
  }
}

function errorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return `${code ? `${code} ` : ''}${e instanceof Error ? e.message : String(e)}`;
}

if (require.main === module) {
  void main(JSON.parse(process.argv[2]!) as IdleClientSpec).then(() => process.exit(0));
}
