// A real Squid running the generated squid.conf inside a network namespace of its own (loopback only), for the
// tests of the proxy instance's scripts (health probe, policy apply). Nothing leaves the namespace: Squid's
// resolver is an address on the namespace's own loopback where nothing listens (so a lookup fails at once),
// and the "tenant" source address is a documentation address on that loopback too. Every wait is bounded and
// `stop` tears everything down (Squid, the namespace, the directory), also after a failed test.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EgressPlan } from '../../../src/config';
import { ensurePeekCert } from '../../../src/lab/instance-scripts';
import { LAB_SQUID_USER } from '../../../src/lab/state';
import { renderSquidConf } from '../../../src/policy';

/** Squid's resolver inside the namespace: a loopback address nobody listens on. */
export const NS_DNS_IP = '192.0.2.53';
/** A source address that stands for the resource gateway (tenants never come from 127.0.0.1). */
export const NS_TENANT_IP = '198.51.100.10';

export interface NsSquid {
  readonly ns: string;
  readonly dir: string;
  readonly conf: string;
  readonly accessLog: string;
  /** Runs argv inside the namespace; returns the exit status and output. */
  exec(argv: readonly string[], opts?: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): ExecResult;
  /** squid.conf for `plan` with this namespace's host settings (paths, resolver, 1 s shutdown). */
  render(plan: EgressPlan): string;
  /** The ssl-bump ports' certificate, made by the instance's own ensure_tls_peek. */
  readonly peekCert: string;
  /** Squid's master process ID (from its pid file), or undefined when Squid is not running. */
  masterPid(): number | undefined;
  /** Ports Squid listens on inside the namespace. */
  listeningPorts(): number[];
  /** Stops Squid now (SIGINT, Squid's "shut down now"), bounded; the namespace stays. */
  stopSquid(): void;
  /**
   * Makes the namespace's own /etc/hosts (and a resolv.conf naming only NS_DNS_IP) for commands run with `exec`
   * (`ip netns exec` bind-mounts /etc/netns/<ns>/*): name lookups in the namespace never reach the host resolver.
   * Rewritten in place, so a running command sees the change.
   */
  setNsHosts(content: string): void;
  /** Stops everything and removes the namespace and the directory. Safe to call twice. */
  stop(): void;
}

export interface NsSquidOptions {
  /** Lines for Squid's hosts_file (`203.0.113.10 example.org`), so allowed names resolve without DNS. */
  readonly squidHosts?: string;
}

export interface ExecResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

let counter = 0;

export function squidAvailable(): boolean {
  return process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v squid && command -v curl && command -v ip']).status === 0;
}

/** Starts Squid with the squid.conf of `plan` in a fresh namespace and waits (≤ 20 s) for every tenant port. */
export function startNsSquid(plan: EgressPlan, label: string, opts: NsSquidOptions = {}): NsSquid {
  // Never the lab's prefix (eh-): `egresshub lab down` must not see these.
  const ns = `ehhub${label}${counter++}p${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), `egresshub-${label}-`));
  chmodSync(dir, 0o755);
  const proxyUid = Number(execFileSync('id', ['-u', LAB_SQUID_USER]).toString().trim());
  const proxyGid = Number(execFileSync('id', ['-g', LAB_SQUID_USER]).toString().trim());
  chownSync(dir, proxyUid, proxyGid);
  const conf = join(dir, 'squid.conf');
  const pidFile = join(dir, 'squid.pid');
  const hostsFile = opts.squidHosts === undefined ? undefined : join(dir, 'hosts');
  const peekCert = join(dir, 'peek.pem');
  ensurePeekCert(peekCert);
  if (hostsFile) writeFileSync(hostsFile, opts.squidHosts!);
  const render = (p: EgressPlan) =>
    renderSquidConf(p, {
      host: {
        logDir: dir,
        pidFile,
        coredumpDir: dir,
        dnsNameservers: [NS_DNS_IP],
        shutdownLifetimeSeconds: 1,
        hostsFile,
        peekCertFile: peekCert,
      },
    });
  const etc = join('/etc/netns', ns);
  const setNsHosts = (content: string) => {
    mkdirSync(etc, { recursive: true });
    writeFileSync(join(etc, 'resolv.conf'), `nameserver ${NS_DNS_IP}\n`);
    // Truncate and write in place: the bind mount of a running `ip netns exec` keeps the inode.
    writeFileSync(join(etc, 'hosts'), content);
  };

  const exec: NsSquid['exec'] = (argv, opts = {}) => {
    const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], {
      encoding: 'utf8',
      env: opts.env ?? process.env,
      input: opts.input,
      timeout: opts.timeoutMs ?? 60_000,
    });
    return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
  };
  const masterPid = () => {
    if (!existsSync(pidFile)) return undefined;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    try {
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  };
  const listeningPorts = () =>
    [
      ...new Set(
        exec(['ss', '-ltnH'])
          .stdout.split('\n')
          .map((l) => /:(\d+)$/.exec(l.trim().split(/\s+/)[3] ?? '')?.[1])
          .filter((p): p is string => !!p)
          .map(Number),
      ),
    ].sort((a, b) => a - b);
  const nsPids = () => spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean).map(Number);
  const waitUntil = (check: () => boolean, ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (check()) return true;
      spawnSync('sleep', ['0.1']);
    }
    return check();
  };
  const signalAll = (pids: number[], sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  const stopSquid = () => {
    const pids = nsPids();
    signalAll(pids, 'SIGINT');
    if (!waitUntil(() => nsPids().length === 0, 5_000)) signalAll(nsPids(), 'SIGKILL');
    waitUntil(() => nsPids().length === 0, 2_000);
  };
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      stopSquid();
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
      rmSync(etc, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  };

  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    for (const ip of [NS_DNS_IP, NS_TENANT_IP]) execFileSync('ip', ['-n', ns, 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
    writeFileSync(conf, render(plan));
    const started = exec(['squid', '-f', conf]);
    if (started.status !== 0) throw new Error(`squid did not start: ${started.stderr}`);
    const ports = plan.tenants.map((t) => t.port);
    if (!waitUntil(() => ports.every((p) => listeningPorts().includes(p)), 20_000)) {
      const log = existsSync(join(dir, 'cache.log')) ? readFileSync(join(dir, 'cache.log'), 'utf8').slice(-2000) : '(no cache.log)';
      throw new Error(`squid did not listen on ${ports.join(', ')} within 20 s:\n${log}`);
    }
  } catch (e) {
    stop();
    throw e;
  }
  return {
    ns,
    dir,
    conf,
    peekCert,
    accessLog: join(dir, 'access.log'),
    exec,
    render,
    masterPid,
    listeningPorts,
    stopSquid,
    setNsHosts,
    stop,
  };
}
