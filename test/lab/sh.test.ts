// spawnInNs bounds a child with its whole process group: a shell that defers SIGTERM until its foreground child
// returns, or a grandchild that keeps the stdout pipe open, must not keep the caller waiting past the bound (the
// intermittent hang of the rolling lab test: the apply script's EXIT trap and its children outlived the kill of bash).
// Root (a network namespace of this file's own, not a lab one); each child would otherwise run 60 s.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KILL_GRACE_MS, spawnInNs, waitFor, type BoundedChild } from '../../src/lab/sh';

const NS = `ehsh-${process.pid}`;
beforeAll(() => execFileSync('ip', ['netns', 'add', NS]));
afterAll(() => execFileSync('ip', ['netns', 'del', NS]));

/** Alive and not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  return !/^\d+ \(.*\) Z /.test(readFileSync(stat, 'utf8'));
}

/** Runs `script` under bash in the namespace; resolves with the pids it printed, its exit and how long 'close' took. */
async function runScript(script: string, timeoutMs: number) {
  const started = Date.now();
  const child: BoundedChild = spawnInNs(NS, ['bash', '-c', script], { timeoutMs });
  child.stdin.end();
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const code = await Promise.race([closed, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
  return { code, pids: out.split('\n').filter(Boolean).map(Number), ms: Date.now() - started, timedOut: child.timedOut() };
}

describe('spawnInNs (root)', () => {
  it('ends the whole group at the bound, though the shell defers SIGTERM in an EXIT trap that waits', async () => {
    // bash runs its EXIT trap on SIGTERM; the trap's sleep and the background sleep would each hold stdout 60 s.
    const r = await runScript(`trap 'sleep 60' EXIT; sleep 60 & echo $!; sleep 60`, 500);
    expect(r.code).not.toBe('hung');
    expect(r.timedOut).toBe(true);
    expect(await waitFor(() => !alive(r.pids[0]!), 5_000)).toBe(true);
  });

  it('ends what the child left running in its group when it exits, so the pipes close', async () => {
    const r = await runScript('sleep 60 & echo $!; exit 0', 60_000);
    expect(r).toMatchObject({ code: 0, timedOut: false });
    expect(await waitFor(() => !alive(r.pids[0]!), 5_000)).toBe(true);
  });

  it("passes Ctrl-C on to the children's groups, and the caller still dies of it", async () => {
    // A caller with no SIGINT handler of its own (as `egresshub lab reconfigure` is): before the children had groups
    // of their own, the terminal's SIGINT reached them too.
    const caller = spawn(
      process.execPath,
      [
        '-r',
        require.resolve('tsx/cjs'),
        '-e',
        `const { spawnInNs } = require(${JSON.stringify(resolve('src/lab/sh.ts'))});
         const c = spawnInNs(${JSON.stringify(NS)}, ['bash', '-c', 'sleep 60 & echo $!; wait'], { timeoutMs: 60_000 });
         c.stdout.pipe(process.stdout);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    caller.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const ended = new Promise<NodeJS.Signals | null>((r) => caller.on('exit', (_code, signal) => r(signal)));
    expect(await waitFor(() => /^\d+\n/.test(out), 20_000, 20)).toBe(true);
    caller.kill('SIGINT');
    expect(await ended).toBe('SIGINT');
    // bash ignores SIGINT in its background jobs: the watchdog the caller left ends the group after the grace.
    expect(await waitFor(() => !alive(Number(out.trim())), KILL_GRACE_MS + 10_000)).toBe(true);
  });

  it('leaves a child that ends in time alone', async () => {
    const r = await runScript('echo $$', 60_000);
    expect(r).toMatchObject({ code: 0, timedOut: false });
    expect(r.pids).toHaveLength(1);
  });
});
