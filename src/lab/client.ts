// The spoke's Node.js client, run by `lab test` inside a spoke namespace: Node's fetch through
// HTTP(S)_PROXY (Node 20's fetch ignores those variables, so undici's EnvHttpProxyAgent reads them), and
// a raw socket client that sends a request line exactly as written (curl and WHATWG URLs rewrite IP spellings).
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { EnvHttpProxyAgent, setGlobalDispatcher } from 'undici';
import { ORIGIN_MARKER } from './servers';

/** What a client saw: the origin's answer, the proxy's refusal (policy.md), no TCP connection at all, or something else. */
export type Outcome = 'allowed' | 'denied' | 'no-connect' | 'error';

export interface ClientJob {
  readonly id: string;
  readonly kind: 'fetch' | 'raw';
  /** fetch: the URL; raw: the request line without the version (`GET http://0x7f.1/`, `CONNECT 0x7f.1:443`). */
  readonly target: string;
  /** raw: where to connect (the tenant's endpoint and port). */
  readonly proxyHost?: string;
  readonly proxyPort?: number;
  /** raw CONNECT: bytes sent once the tunnel is open (a protocol that is not TLS, to see the proxy close it). */
  readonly payload?: string;
}

export interface ClientResult {
  readonly id: string;
  readonly got: Outcome;
  readonly detail: string;
}

const TIMEOUT_MS = 5_000;

async function viaFetch(job: ClientJob): Promise<ClientResult> {
  try {
    const res = await fetch(job.target, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const body = await res.text();
    if (res.status === 200 && body.includes(ORIGIN_MARKER)) return { id: job.id, got: 'allowed', detail: `200 ${body.trim()}` };
    return { id: job.id, got: res.status === 403 ? 'denied' : 'error', detail: `http ${res.status}` };
  } catch (e) {
    return { id: job.id, ...classifyError(e) };
  }
}

/** undici reports a refused CONNECT as an error (nested in `cause`s) whose message carries the proxy's status. */
function classifyError(e: unknown): { got: Outcome; detail: string } {
  const chain: (Error & { code?: string })[] = [];
  for (let c: unknown = e; c instanceof Error && chain.length < 5; c = (c as { cause?: unknown }).cause) chain.push(c);
  const text = chain.map((c) => `${c.code ? `${c.code} ` : ''}${c.message}`).join(' <- ');
  if (/Proxy response \(40[37]\)/.test(text)) return { got: 'denied', detail: text };
  // A tunnel whose ClientHello the proxy refuses is closed after its 200 (policy.md, "Tunnels").
  if (/Client network socket disconnected before secure TLS connection|ECONNRESET/i.test(text))
    return { got: 'denied', detail: `closed: ${text}` };
  if (/ECONNREFUSED|UND_ERR_CONNECT_TIMEOUT|TimeoutError|aborted due to timeout/i.test(text)) return { got: 'no-connect', detail: text };
  return { got: 'error', detail: text };
}

function viaRaw(job: ClientJob): Promise<ClientResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: job.proxyHost!, port: job.proxyPort!, timeout: TIMEOUT_MS });
    let data = '';
    const done = (got: Outcome, detail: string) => {
      socket.destroy();
      resolve({ id: job.id, got, detail });
    };
    socket.on('connect', () => socket.write(`${job.target} HTTP/1.1\r\nHost: ${hostOf(job.target)}\r\nConnection: close\r\n\r\n`));
    let sent = false;
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1];
      if (job.payload !== undefined) {
        // The tunnel opened: send the payload, and see whether anything but a close comes back.
        if (status === '200' && !sent && data.includes('\r\n\r\n')) {
          sent = true;
          data = '';
          socket.write(job.payload);
        } else if (sent && data.length > 0) {
          // Squid answers bytes it cannot read as TLS with an HTTP error of its own before closing.
          const proxyError = Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0) >= 400;
          done(proxyError ? 'denied' : 'allowed', `reply after payload: ${JSON.stringify(data.slice(0, 40))}`);
        } else if (status && status !== '200') done(status === '403' ? 'denied' : 'error', `http ${status}`);
        return;
      }
      if (status && (data.includes('\r\n\r\n') || job.target.startsWith('CONNECT'))) {
        if (status === '403' || status === '407') done('denied', `http ${status}`);
        else if (status === '200' && (job.target.startsWith('CONNECT') || data.includes(ORIGIN_MARKER))) done('allowed', `http ${status}`);
        else if (status !== '200') done('error', `http ${status}`);
      }
    });
    socket.on('end', () => {
      if (data.includes(ORIGIN_MARKER)) done('allowed', data.split('\r\n')[0]!);
      // A CONNECT the proxy refuses is closed without a reply; a payload it refuses, closed without one too.
      else if ((job.target.startsWith('CONNECT') && data === '') || (sent && data === ''))
        done('denied', sent ? 'closed after payload' : 'closed before 200');
      else done('error', data.split('\r\n')[0] ?? 'closed');
    });
    socket.on('timeout', () => done('no-connect', 'timeout'));
    socket.on('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'no-connect' : 'error', e.message));
  });
}

function hostOf(target: string): string {
  const [method, rest = ''] = target.split(' ');
  return method === 'CONNECT' ? rest : rest.replace(/^[a-z]+:\/\//, '').split('/')[0]!;
}

export async function runJobs(jobs: readonly ClientJob[]): Promise<ClientResult[]> {
  setGlobalDispatcher(new EnvHttpProxyAgent());
  const results: ClientResult[] = [];
  for (const job of jobs) results.push(job.kind === 'fetch' ? await viaFetch(job) : await viaRaw(job));
  return results;
}

if (require.main === module) {
  const jobs = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ClientJob[];
  // Exit when done: undici may keep a tunnel the proxy closed half-open, and with it the event loop.
  void runJobs(jobs).then((r) => process.stdout.write(JSON.stringify(r), () => process.exit(0)));
}
