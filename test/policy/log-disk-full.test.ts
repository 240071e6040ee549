// A full log filesystem must not stop egress, and the lines it costs are counted. With `stdio:` and Squid's default for
// a log write error (`on-error=die`), the proxy died at the first flush: "FATAL: logfileWrite: stdio:…/access.log:
// (28) No space left on device", 1 of 600 requests answered (Squid 5.7); `on-error=drop` kept it up but lost the
// lines uncounted. The generated config logs through the log daemon (src/policy/logd.py), which drops and counts.
// Root: Squid runs in a mount and network namespace of its own (unshare -mn) whose log directory is a 64 KiB tmpfs
// filled to the last block; requests go to its loopback only, 200 of them, each bounded.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensurePeekCert } from '../../src/lab/instance-scripts';
import { LAB_SQUID_USER } from '../../src/lab/state';
import { renderSquidConf } from '../../src/policy';
import { logDaemonReport } from '../../src/policy/log-daemon';
import { exampleConfig, planOf } from '../support/stack';

const work = mkdtempSync(join(tmpdir(), 'eh-logfull-'));
// Squid's log daemon runs as Squid's user: it must reach the log directory.
chmodSync(work, 0o755);
afterAll(() => rmSync(work, { recursive: true, force: true }));
const REQUESTS = 200;

/** Runs Squid with `conf` and its log directory on a full filesystem; returns how many requests it answered. */
function underFullLogDisk(conf: string, requests = REQUESTS): { answered: number; alive: boolean; cacheLog: string } {
  writeFileSync(join(work, 'squid.conf'), conf);
  const script = `set -u
cd "$1"
ip link set lo up
mkdir -p logs && mount -t tmpfs -o size=64k tmpfs logs && chown "$2:$2" logs
dd if=/dev/zero of=logs/filler bs=4k 2>/dev/null || true
timeout 90 squid -N -f squid.conf & sq=$!
for _ in $(seq 100); do ss -ltnH | grep -q ':3201 ' && break; sleep 0.1; done
answered=0
for _ in $(seq "$3"); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -x http://127.0.0.1:3201 http://127.0.0.1:1/) || true
  [ "$code" != 000 ] && answered=$((answered + 1))
done
alive=no; kill -0 "$sq" 2>/dev/null && alive=yes
kill -INT "$sq" 2>/dev/null; wait "$sq" 2>/dev/null
cp logs/cache.log cache.log.copy 2>/dev/null || true
echo "$answered $alive"`;
  const r = spawnSync('unshare', ['-mn', 'bash', '-c', script, 'full-log-disk', work, LAB_SQUID_USER, String(requests)], {
    encoding: 'utf8',
    timeout: 150_000,
  });
  expect(r.error, 'unshare (util-linux) and root are needed').toBeUndefined();
  const [answered, alive] = r.stdout.trim().split('\n').pop()!.split(' ');
  let cacheLog = '';
  try {
    cacheLog = readFileSync(join(work, 'cache.log.copy'), 'utf8');
  } catch {
    // nothing could be written there: the filesystem was full
  }
  return { answered: Number(answered), alive: alive === 'yes', cacheLog: `${cacheLog}${r.stderr}` };
}

describe('a full log filesystem (root, real Squid)', () => {
  ensurePeekCert(join(work, 'peek.pem'));
  const conf = renderSquidConf(planOf(exampleConfig()), {
    host: {
      logDir: join(work, 'logs'),
      pidFile: join(work, 'squid.pid'),
      coredumpDir: work,
      peekCertFile: join(work, 'peek.pem'),
      dnsNameservers: ['127.0.0.1'],
      shutdownLifetimeSeconds: 1,
    },
  });

  it('the generated squid.conf keeps answering every request, Squid stays up, and every lost line is counted', () => {
    expect(conf).toMatch(/^access_log daemon:\S+ logformat=\S+ /m);
    const report = logDaemonReport(join(work, 'logs', 'access.log'));
    rmSync(report.file, { force: true });
    const r = underFullLogDisk(conf);
    expect({ answered: r.answered, alive: r.alive }, r.cacheLog).toEqual({ answered: REQUESTS, alive: true });
    // Every request is one access-log line (the 400 Squid answers for http://127.0.0.1:1/ included); none was written.
    // The daemon reports when its input ends (Squid stopped), at most its grace period after Squid's SIGTERM.
    const until = Date.now() + 10_000;
    while (report.read().reports === 0 && Date.now() < until) spawnSync('sleep', ['0.2']);
    expect(report.read()).toMatchObject({ lost: REQUESTS, dropped: REQUESTS, reason: 'ENOSPC' });
    rmSync(report.file, { force: true });
  });

  it("with stdio and Squid's default for a write error (die), the same full disk ends Squid: what the daemon is there for", () => {
    const stdio = conf.replace(/^access_log daemon:/m, 'access_log stdio:');
    const r = underFullLogDisk(stdio, 20);
    expect(r.alive).toBe(false);
    expect(r.answered).toBeLessThan(20);
  });
});
