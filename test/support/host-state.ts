// What the test suite could change on the host outside its temporary directories: the paths the lab and the
// instance scripts write on a real proxy (/etc/squid, /etc/sysctl.d, …), the lab's own state, network namespaces,
// nftables tables, host links and sysctls, and daemons. test/support/host-guard.ts records it before and after the
// run and fails the run naming what differs, so a test that writes to the host (or depends on an earlier test
// having done so) is caught on the machine that runs it, not on the next fresh one.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Directories the project writes on an instance or in the lab (src/hub PROXY_PATHS, src/lab, Squid's defaults). */
export const HOST_PATHS = [
  '/etc/squid',
  '/etc/netns',
  '/etc/egresshub',
  '/etc/sysctl.d',
  '/etc/systemd/system',
  '/run/egresshub',
  '/run/egresshub-lab',
  '/run/egresshub-lab.lock',
  '/run/squid',
  '/var/lib/egresshub',
  '/var/log/squid',
  '/var/spool/squid',
  // Squid's SMP shared memory segments (a lab proxy's are named after its service).
  '/dev/shm',
] as const;

/** Host sysctls the lab's namespaces must not leak into (each is per network namespace on Linux). */
export const HOST_SYSCTLS = [
  '/proc/sys/net/ipv4/ip_forward',
  '/proc/sys/net/ipv4/ip_local_reserved_ports',
  '/proc/sys/net/ipv4/conf/all/forwarding',
] as const;

/** Daemons the lab starts: a leftover one is a leak even when its namespace is gone. */
const DAEMON = /(^|\/)(squid|dnsmasq)( |$)|\/lab\/(supervisor|servers)\.(ts|js)/;

/** Past this many entries under one path, a path is summarised by its count (nothing the suite writes is that big). */
const MAX_ENTRIES = 20_000;

/** Each observed thing by a stable key (`path /etc/squid/x`, `netns eh-hub`, …) and a short description of its state. */
export type HostState = ReadonlyMap<string, string>;

export interface HostStateOptions {
  readonly paths?: readonly string[];
  readonly sysctls?: readonly string[];
  /** Also record namespaces, links, nftables and daemons (off for the tests of this module). @default true */
  readonly system?: boolean;
}

function describeEntry(file: string): string {
  const st = lstatSync(file);
  const mode = (st.mode & 0o7777).toString(8);
  if (st.isSymbolicLink()) return `symlink → ${readlinkSync(file)}`;
  if (st.isDirectory()) return `directory ${mode} ${st.uid}:${st.gid}`;
  if (st.isFile()) {
    const content =
      st.size <= 4 * 1024 * 1024 ? createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16) : `mtime ${st.mtimeMs}`;
    return `file ${mode} ${st.uid}:${st.gid} ${st.size} bytes ${content}`;
  }
  return st.isSocket() ? 'socket' : st.isFIFO() ? 'fifo' : 'special file';
}

function walk(root: string, into: Map<string, string>): void {
  if (!existsSync(root)) return;
  const queue = [root];
  let seen = 0;
  while (queue.length > 0) {
    const file = queue.shift()!;
    let text: string;
    try {
      text = describeEntry(file);
    } catch {
      continue; // removed while we looked
    }
    into.set(`path ${file}`, text);
    if (++seen > MAX_ENTRIES) {
      into.set(`path ${root} (truncated)`, `more than ${MAX_ENTRIES} entries`);
      return;
    }
    if (text.startsWith('directory')) {
      try {
        for (const e of readdirSync(file).sort()) queue.push(join(file, e));
      } catch {
        // unreadable: its own entry says what it is
      }
    }
  }
}

function lines(cmd: string, args: readonly string[]): string[] | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.split('\n').filter(Boolean);
}

/** Records the host state the suite must leave as it found it. */
export function hostState(opts: HostStateOptions = {}): HostState {
  const out = new Map<string, string>();
  for (const root of opts.paths ?? HOST_PATHS) walk(root, out);
  for (const file of opts.sysctls ?? HOST_SYSCTLS) {
    if (existsSync(file)) out.set(`sysctl ${file.replace('/proc/sys/', '').replaceAll('/', '.')}`, readFileSync(file, 'utf8').trim());
  }
  if (opts.system === false) return out;
  // `ip netns list` prints "name (id: N)" for namespaces with a peer: the name is what matters.
  for (const l of lines('ip', ['netns', 'list']) ?? []) out.set(`network namespace ${l.split(' ')[0]}`, 'present');
  for (const l of lines('ip', ['-o', 'link', 'show']) ?? []) {
    const name = /^\d+: ([^:@]+)/.exec(l)?.[1];
    if (name) out.set(`host link ${name}`, 'present');
  }
  const tables = lines('nft', ['list', 'tables']);
  if (tables === undefined) out.set('nftables', 'not readable here (nft missing or not root): not checked');
  for (const t of tables ?? []) {
    const [, family, name] = t.split(' ');
    const rules = spawnSync('nft', ['list', 'table', family!, name!], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
    out.set(`nftables table ${family} ${name}`, createHash('sha256').update(rules).digest('hex').slice(0, 16));
  }
  for (const l of lines('ps', ['-eo', 'pid=,args=']) ?? []) {
    const [, pid, args] = /^\s*(\d+) (.*)$/.exec(l) ?? [];
    if (pid && args && DAEMON.test(args)) out.set(`process ${pid}`, args.slice(0, 160));
  }
  return out;
}

/** What differs between two records, one line each: `+` left behind, `-` removed, `~` changed. */
export function hostChanges(before: HostState, after: HostState): string[] {
  const changes: string[] = [];
  for (const [key, was] of before) {
    const now = after.get(key);
    if (now === undefined) changes.push(`- ${key} (was: ${was})`);
    else if (now !== was) changes.push(`~ ${key}: ${was} → ${now}`);
  }
  for (const [key, now] of after) if (!before.has(key)) changes.push(`+ ${key} (${now})`);
  return changes.sort((a, b) => a.slice(2).localeCompare(b.slice(2)));
}
