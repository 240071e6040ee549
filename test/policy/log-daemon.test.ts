// The access-log daemon (src/policy/logd.py) on its own, fed Squid's protocol through a pipe: rotation by size with the
// newest file behind access.log, the budget and what it evicts, and lines it cannot write counted rather than fatal.
// Real files in a scratch directory; each run is bounded (10 s).
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LOG_BUDGET_SHARE,
  LOG_DAEMON_REPORT_DIR,
  LOG_DAEMON_SOURCE,
  LOG_FILES_PER_BUDGET,
  logBudget,
  logDaemonReportFile,
} from '../../src/policy';

const work = mkdtempSync(join(tmpdir(), 'eh-logd-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Feeds `batches` (each one write to the pipe, 50 ms apart) to a fresh daemon for `log`; returns its reports. */
function feed(log: string, batches: string[], env: Record<string, string> = {}) {
  const reports = join(work, `reports-${Math.random().toString(36).slice(2)}`);
  const script = `for b in "$@"; do printf '%s' "$b"; sleep 0.05; done | "${LOG_DAEMON_SOURCE}" "${log}"`;
  const r = spawnSync('bash', ['-c', script, 'feed', ...batches], {
    encoding: 'utf8',
    timeout: 10_000,
    env: { ...process.env, EGRESSHUB_LOGD_REPORT_DIR: reports, ...env },
  });
  expect(r.status, r.stderr).toBe(0);
  let text = '';
  try {
    text = readFileSync(join(reports, logDaemonReportFile(log).split('/').pop()!), 'utf8');
  } catch {
    // no report: nothing lost
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { lost: number; dropped: number; evicted: number; reason: string });
}

const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `Lline ${String(from + i).padStart(4, '0')}\n`).join('');
const rotated = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^access\..+\.log$/.test(f))
    .sort();

describe('logd.py', () => {
  it('mirrors the constants the rest of the code reads (report directory, budget share, files per budget)', () => {
    const py = readFileSync(LOG_DAEMON_SOURCE, 'utf8');
    expect(py).toContain(`or "${LOG_DAEMON_REPORT_DIR}"`);
    expect(py).toContain(`BUDGET_SHARE = ${LOG_BUDGET_SHARE}`);
    expect(py).toContain(`FILES_PER_BUDGET = ${LOG_FILES_PER_BUDGET}`);
    // The 16 GiB root volume: 4 GiB of logs in 512 MiB files.
    expect(logBudget(16 * 2 ** 30)).toEqual({ budget: 4 * 2 ** 30, fileBytes: 512 * 2 ** 20 });
  });

  it('rotates by size into new files, access.log naming the newest, every line kept in order', () => {
    const dir = mkdtempSync(join(work, 'rotate-'));
    // 10 lines of 10 bytes per batch; files of 150 bytes: a new file every second batch.
    const reports = feed(
      join(dir, 'access.log'),
      [0, 10, 20, 30, 40, 50].map((n) => lines(n, 10)),
      {
        EGRESSHUB_LOGD_BUDGET: '100000',
        EGRESSHUB_LOGD_FILE_BYTES: '150',
      },
    );
    const files = rotated(dir);
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(lstatSync(join(dir, 'access.log')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'access.log'))).toBe(files.at(-1));
    const all = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    expect(all).toBe(lines(0, 60).replaceAll('Lline', 'line'));
    expect(reports).toEqual([]);
  });

  it('keeps the files within the budget and counts the lines of the files it deletes as evicted', () => {
    const dir = mkdtempSync(join(work, 'budget-'));
    const reports = feed(
      join(dir, 'access.log'),
      [0, 10, 20, 30, 40, 50].map((n) => lines(n, 10)),
      {
        EGRESSHUB_LOGD_BUDGET: '250',
        EGRESSHUB_LOGD_FILE_BYTES: '100',
      },
    );
    const kept = rotated(dir).map((f) => readFileSync(join(dir, f), 'utf8'));
    const keptLines = kept.join('').split('\n').length - 1;
    // The budget holds for the files behind the current one (it is enforced when a file is started). The current
    // file may pass its size by one read from Squid's pipe: a slow machine hands the daemon two batches at once.
    expect(kept.slice(0, -1).join('').length).toBeLessThanOrEqual(250);
    const evicted = reports.reduce((n, r) => n + r.evicted, 0);
    expect(evicted).toBeGreaterThan(0);
    // Nothing vanished uncounted: kept + evicted = every line sent.
    expect(keptLines + evicted).toBe(60);
    expect(reports.every((r) => r.reason === 'budget' && r.dropped === 0)).toBe(true);
  });

  it('counts, and outlives, a log directory it cannot use', () => {
    const notADir = join(work, 'plain-file');
    writeFileSync(notADir, '');
    const reports = feed(join(notADir, 'access.log'), [lines(0, 7), lines(7, 5)]);
    expect(reports.reduce((n, r) => n + r.dropped, 0)).toBe(12);
    expect(reports[0]!.reason).toBe('ENOTDIR');
  });
});
