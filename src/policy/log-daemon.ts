// The access-log daemon (logd.py beside this file) as the rest of the code sees it: where it is installed, where it
// reports what it could not write, and that report read back. logd.py is the one implementation; these constants
// mirror its own (test/policy/log-daemon.test.ts checks that they agree).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where a proxy installs the access-log daemon, which squid.conf names (`logfile_daemon`). */
export const LOG_DAEMON_PATH = '/usr/local/sbin/egresshub-logd';
/** The access-log daemon in this package, which the lab and tests run in place. */
export const LOG_DAEMON_SOURCE = join(__dirname, 'logd.py');
/** Where the daemon reports lost lines: a tmpfs, so that a full log disk cannot silence the report. */
export const LOG_DAEMON_REPORT_DIR = '/dev/shm/egresshub-logd';
/** Share of the log filesystem the access logs may take, and the files that budget is split into (logd.py). */
export const LOG_BUDGET_SHARE = 0.25;
export const LOG_FILES_PER_BUDGET = 8;

/** The daemon's report file for the access log at `logPath` (one per log, so lab proxies on one host do not share). */
export function logDaemonReportFile(logPath: string): string {
  return join(LOG_DAEMON_REPORT_DIR, `${logPath.replace(/^\/+|\/+$/g, '').replace(/[^A-Za-z0-9_.-]/g, '-')}.jsonl`);
}

/** One report line: lines lost since the previous one (`dropped`: not written; `evicted`: deleted unread by the budget). */
export interface LogLossReport {
  readonly lost: number;
  readonly dropped: number;
  readonly evicted: number;
  readonly reason: string;
}

/** The access log budget of a log filesystem of `bytes`: the total, and the size at which a file is rotated. */
export function logBudget(bytes: number): { budget: number; fileBytes: number } {
  const budget = Math.floor(bytes * LOG_BUDGET_SHARE);
  return { budget, fileBytes: Math.min(budget, Math.max(64 * 1024, Math.floor(budget / LOG_FILES_PER_BUDGET))) };
}

/** The reports for `logPath` summed (the lab and tests; on a proxy the CloudWatch agent ships them). */
export function logDaemonReport(logPath: string): { file: string; read(): LogLossReport & { reports: number } } {
  const file = logDaemonReportFile(logPath);
  return {
    file,
    read() {
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        // no report: nothing lost
      }
      const total = { lost: 0, dropped: 0, evicted: 0, reason: '', reports: 0 };
      for (const line of text.split('\n').filter(Boolean)) {
        const r = JSON.parse(line) as LogLossReport;
        total.lost += r.lost;
        total.dropped += r.dropped;
        total.evicted += r.evicted;
        total.reason = r.reason || total.reason;
        total.reports++;
      }
      return total;
    },
  };
}
