// A bounded HTTP load through a tenant's proxy URL, run inside a spoke namespace while the lab kills or
// reconfigures proxies: `concurrency` clients, each sending plain-HTTP GETs on a new connection (what a failover
// touches: connection set-up), pausing `pauseMs` between requests. It stops at `maxRequests`, at `deadlineMs`, or
// when its stdin says `stop`, whichever comes first, and prints every request's start, end and error (if any).
import http from 'node:http';

export interface LoadSpec {
  readonly proxyHost: string;
  readonly proxyPort: number;
  /** A URL the tenant may fetch; success is a 200 from the lab origin. */
  readonly url: string;
  readonly concurrency: number;
  readonly maxRequests: number;
  readonly deadlineMs: number;
  readonly pauseMs: number;
  readonly timeoutMs: number;
}

/** One request: start and end (ms since the epoch; the lab's processes share one clock) and its error, if it failed. */
export interface LoadSample {
  readonly start: number;
  readonly end: number;
  readonly error?: string;
}

/** The caps every caller's spec is held to, so no command line starts an unbounded load. */
export const LOAD_LIMITS = { concurrency: 64, maxRequests: 200_000, deadlineMs: 120_000 } as const;

export function boundedSpec(spec: LoadSpec): LoadSpec {
  return {
    ...spec,
    concurrency: Math.min(Math.max(1, spec.concurrency), LOAD_LIMITS.concurrency),
    maxRequests: Math.min(spec.maxRequests, LOAD_LIMITS.maxRequests),
    deadlineMs: Math.min(spec.deadlineMs, LOAD_LIMITS.deadlineMs),
  };
}

/** Compact wire form: [start, end - start, error or 0]. */
type Wire = [number, number, string | 0];

export function decodeSamples(line: string): LoadSample[] {
  return (JSON.parse(line) as Wire[]).map(([start, ms, error]) => (error ? { start, end: start + ms, error } : { start, end: start + ms }));
}

async function runLoad(spec: LoadSpec, stopped: () => boolean, onFirst: () => void): Promise<Wire[]> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: spec.concurrency });
  const host = new URL(spec.url).host;
  const stopAt = Date.now() + spec.deadlineMs;
  const samples: Wire[] = [];
  let issued = 0;
  const once = () =>
    new Promise<void>((resolve) => {
      const start = Date.now();
      let settled = false;
      const done = (error?: string) => {
        if (settled) return;
        settled = true;
        if (samples.length === 0) onFirst();
        samples.push([start, Date.now() - start, error ?? 0]);
        resolve();
      };
      const req = http.request(
        { host: spec.proxyHost, port: spec.proxyPort, path: spec.url, agent, headers: { host }, timeout: spec.timeoutMs },
        (res) => {
          res.resume();
          res.on('end', () => done(res.statusCode === 200 ? undefined : `http ${res.statusCode}`));
          res.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
      req.end();
    });
  const client = async () => {
    while (issued < spec.maxRequests && Date.now() < stopAt && !stopped()) {
      issued++;
      await once();
      if (spec.pauseMs > 0) await new Promise((r) => setTimeout(r, spec.pauseMs));
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, client));
  agent.destroy();
  return samples;
}

if (require.main === module) {
  const spec = boundedSpec(JSON.parse(process.argv[2]!) as LoadSpec);
  let stop = false;
  process.stdin.on('data', (d: Buffer) => {
    if (d.toString().includes('stop')) stop = true;
  });
  process.stdin.on('end', () => (stop = true));
  void runLoad(
    spec,
    () => stop,
    () => process.stdout.write('ready\n'),
  ).then((samples) => process.stdout.write(`${JSON.stringify(samples)}\n`, () => process.exit(0)));
}
