// A bounded HTTP load through a forward proxy, run inside a spoke namespace by the lab tests: `count`
// requests, `concurrency` at a time, each on a new connection (keepAlive=false) or on kept-alive ones,
// every request with its own timeout, until `stopFile` exists or `deadlineMs` has passed. Prints one JSON line
// per outcome summary.
import { existsSync } from 'node:fs';
import http from 'node:http';

interface Args {
  proxyHost: string;
  proxyPort: number;
  url: string;
  count: number;
  concurrency: number;
  keepAlive: boolean;
  deadlineMs: number;
  /** The test creates this file once its changes are done: the load then ends (the deadline only bounds it). */
  stopFile?: string;
}

const args = JSON.parse(process.argv[2]!) as Args;
const agent = new http.Agent({ keepAlive: args.keepAlive, maxSockets: args.concurrency });
/** Each failed request: when it started, when its failure arrived, and how it failed. */
const failures: { start: number; at: number; error: string }[] = [];
let ok = 0;
let next = 0;
const stopAt = Date.now() + args.deadlineMs;

function once(): Promise<void> {
  const start = Date.now();
  return new Promise((resolve) => {
    const req = http.request(
      { host: args.proxyHost, port: args.proxyPort, path: args.url, agent, headers: { host: new URL(args.url).host }, timeout: 5000 },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else failures.push({ start, at: Date.now(), error: `http ${res.statusCode}` });
          resolve();
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => {
      failures.push({ start, at: Date.now(), error: e.code ?? e.message });
      resolve();
    });
    req.end();
  });
}

async function worker(): Promise<void> {
  while (next < args.count && Date.now() < stopAt && !(args.stopFile && existsSync(args.stopFile))) {
    next++;
    await once();
  }
}

const started = Date.now();
void Promise.all(Array.from({ length: args.concurrency }, worker)).then(() => {
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ started, ended: Date.now(), ok, failures })}\n`);
});
