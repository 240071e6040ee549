// The lab lock: a holder that is gone never makes anyone wait. Uses a lock directory of its own, so it
// runs beside the lab tests that hold the real one.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLabLock, LabBusyError, labLockHolder, processStart } from '../../src/lab/lock';

const root = mkdtempSync(join(tmpdir(), 'egresshub-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const lockDir = () => join(root, `lock-${n++}`);

/** A pid that was alive a moment ago and is now gone. */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

function holdWith(dir: string, content: string): void {
  spawnSync('mkdir', [dir]);
  writeFileSync(join(dir, 'pid'), content);
}

describe('lab lock', () => {
  it('records its owner pid and start time, and re-enters from the same process', async () => {
    const dir = lockDir();
    const release = await acquireLabLock({ wait: false, dir });
    expect(readFileSync(join(dir, 'pid'), 'utf8')).toBe(`${process.pid} ${processStart(process.pid)}`);
    const again = await acquireLabLock({ wait: false, dir });
    again();
    expect(existsSync(dir)).toBe(true);
    release();
    expect(existsSync(dir)).toBe(false);
  });

  it.each([
    ['whose owner exited', () => `${deadPid()}`],
    ['whose owner exited (with a start time)', () => `${deadPid()} 12345`],
    ['whose pid now belongs to another process', () => `${process.pid} 1`],
  ])('takes over at once a lock %s, saying so', async (_name, content) => {
    const dir = lockDir();
    const text = content();
    holdWith(dir, text);
    const taken: number[] = [];
    const started = Date.now();
    const release = await acquireLabLock({ wait: true, dir, onTakeover: (pid) => taken.push(pid) });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(taken).toEqual([Number(text.split(' ')[0])]);
    expect(labLockHolder(dir)).toBeUndefined(); // this process holds it now
    release();
  });

  it('fails when a live process holds the lab, naming it and the way out', async () => {
    const dir = lockDir();
    const other = spawn('sleep', ['30']);
    try {
      holdWith(dir, `${other.pid!} ${processStart(other.pid!)}`);
      expect(labLockHolder(dir)).toBe(other.pid);
      const err = await acquireLabLock({ wait: false, dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LabBusyError);
      expect((err as Error).message).toContain(`pid ${other.pid!}`);
      expect((err as Error).message).toContain('lab down --force');
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over the lock of a holder that is a zombie (kill(pid, 0) would call it alive)', async () => {
    const dir = lockDir();
    // The shell forks a short-lived child and becomes `sleep`, which never reaps it: the child stays a zombie. The
    // child outlives the exec (0.2 s), so the shell cannot have reaped it first (with `true &` it sometimes did).
    const parent = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 10'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((r) => parent.stdout.once('data', (d: Buffer) => r(d.toString().trim()))));
      await new Promise((r) => setTimeout(r, 700));
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toMatch(/\) Z /);
      holdWith(dir, `${pid}`);
      const taken: number[] = [];
      const release = await acquireLabLock({ wait: false, dir, onTakeover: (p) => taken.push(p) });
      expect(taken).toEqual([pid]);
      release();
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
