// Traffic through the lab under experiment: a bounded HTTP load (src/lab/load.ts) run in a tenant's spoke while
// proxies are killed or reconfigured, and the count of its requests by outcome.
import { UsageError } from '../config';
import { decodeSamples, type LoadSample, type LoadSpec } from './load';
import { allowedByConfig } from './matrix';
import { nodeEntry, spawnInNs, waitFor } from './sh';
import type { LabTenant, LabTopology } from './topology';

export interface LoadOptions {
  /** The tenant the load goes through (default: the first whose policy allows plain HTTP to a lab name). */
  readonly tenant?: string;
  readonly clients: number;
  readonly pauseMs: number;
  /** Caps: the load stops at whichever comes first. */
  readonly maxRequests: number;
  readonly maxSeconds: number;
}

/** Each load request's own timeout (connect included): a request to a lost instance fails after this. */
export const LOAD_TIMEOUT_MS = 5000;

export const DEFAULT_LOAD: LoadOptions = { clients: 16, pauseMs: 20, maxRequests: 100_000, maxSeconds: 30 };

export interface RunningLoad {
  readonly tenant: LabTenant;
  readonly url: string;
  /** Stops the load (lets requests in flight finish) and returns every request. */
  stop(): Promise<LoadSample[]>;
}

/** A URL the tenant's policy lets through over plain HTTP, on a name the lab's DNS serves. */
export function loadTargetFor(t: LabTenant): string | undefined {
  if (!t.tenant.httpPorts.includes(80)) return undefined;
  const host = t.tenant.allow.any
    ? 'www.example.net'
    : (t.tenant.allow.exact[0] ?? (t.tenant.allow.suffixes[0] ? `www.${t.tenant.allow.suffixes[0]}` : undefined));
  return host && allowedByConfig(t.tenant, host) ? `http://${host}/` : undefined;
}

/** Starts the load client in the tenant's spoke and resolves once its first request has finished. */
export async function startLoad(topo: LabTopology, opts: LoadOptions): Promise<RunningLoad> {
  const candidates = opts.tenant ? topo.tenants.filter((t) => t.tenant.name === opts.tenant) : topo.tenants;
  if (candidates.length === 0)
    throw new UsageError(`unknown tenant "${opts.tenant}"; tenants in the lab: ${topo.tenants.map((t) => t.tenant.name).join(', ')}`);
  const tenant = candidates.find((t) => loadTargetFor(t));
  if (!tenant)
    throw new UsageError(
      `no tenant of the lab allows plain HTTP to a lab name, so there is nothing to load it with; choose one with --tenant (lab reconfigure: or --no-load)`,
    );
  const url = loadTargetFor(tenant)!;
  const spec: LoadSpec = {
    proxyHost: tenant.proxyHost,
    proxyPort: tenant.tenant.port,
    url,
    concurrency: opts.clients,
    maxRequests: opts.maxRequests,
    deadlineMs: opts.maxSeconds * 1000,
    pauseMs: opts.pauseMs,
    timeoutMs: LOAD_TIMEOUT_MS,
  };
  const child = spawnInNs(tenant.spokeNs, [process.execPath, ...nodeEntry(__dirname, 'load'), JSON.stringify(spec)], {
    timeoutMs: spec.deadlineMs + 30_000,
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const ready = await Promise.race([waitFor(() => out.startsWith('ready\n'), 20_000, 20), exited.then(() => false)]);
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`the lab load client did not get a first answer within 20 s: ${err.trim() || out.trim()}`);
  }
  return {
    tenant,
    url,
    stop: async () => {
      child.stdin.end('stop\n');
      const code = await exited;
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('[')) throw new Error(`the lab load client failed (exit ${code}): ${err.trim()}`);
      return decodeSamples(last);
    },
  };
}

/** Failed (or all) samples counted by error: `{ ECONNREFUSED: 3, ok: 10 }`. */
export const countBy = (samples: readonly LoadSample[]) =>
  samples.reduce<Record<string, number>>((acc, s) => ((acc[s.error ?? 'ok'] = (acc[s.error ?? 'ok'] ?? 0) + 1), acc), {});
