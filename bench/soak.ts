// npm run bench:soak -- --minutes N: months unattended, compressed. Sustained mixed traffic on the example hub (plain
// HTTP from one tenant's load client, HTTPS through CONNECT from another), a rolling policy reconfigure and a rolling
// proxy replacement in the middle; every 10 s each proxy's Squid RSS and descriptors and its access-log bytes. Reports
// growth per hour, log bytes per hour and what they mean for the default 16 GiB root volume, and the failed requests
// (target 0). Holds the lab lock; bounded: N ≤ 240 minutes, loads in segments of at most 60 s.
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { buildPlan, loadConfigFile } from '../src/config';
import { curlIn } from '../src/lab/curl';
import { squidPids } from '../src/lab/fleet';
import { rollingReconfigure } from '../src/lab/rollout';
import { DEFAULT_LOAD, startLoad, type RunningLoad } from '../src/lab/traffic';
import { checkLabHost, labDown, labUp } from '../src/lab/lab';
import { labPaths } from '../src/lab/state';
import { acquireLabLock } from '../src/lab/lock';
import { labReplace } from '../src/lab/replace';
import { logBudget } from '../src/policy/log-daemon';
import { arg, fmt, machine, machineLines, table } from './common';

const CONFIG = 'examples/egresshub.yaml';
/** The proxies' root volume (src/hub/proxy-fleet.ts) and the share the access logs may take of it (logd.py). */
const ROOT_VOLUME_BYTES = 16 * 2 ** 30;
const SAMPLE_MS = 10_000;
const SEGMENT_S = 60;
const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  readonly at: number;
  readonly proxy: string;
  readonly pids: string;
  readonly rssKiB: number;
  readonly fds: number;
  readonly logBytes: number;
}

function procNumber(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function sample(stateDir: string, proxies: readonly { id: string; ns: string; index: number }[]): Sample[] {
  return proxies.map((p) => {
    const pids = squidPids(p);
    let rssKiB = 0;
    let fds = 0;
    for (const pid of pids) {
      try {
        rssKiB += procNumber(pid, 'VmRSS');
        fds = Math.max(fds, readdirSync(`/proc/${pid}/fd`).length);
      } catch {
        // gone between listing and reading (a replacement): counted at the next sample
      }
    }
    const dir = labPaths(stateDir).proxy(p.index).logDir;
    let logBytes = 0;
    for (const f of readdirSync(dir)) if (/^access\..+\.log$/.test(f)) logBytes += statSync(join(dir, f)).size;
    return { at: Date.now(), proxy: p.id, pids: pids.join(' '), rssKiB, fds, logBytes };
  });
}

/** Least-squares slope of y over t (per hour). */
function perHour(points: readonly { at: number; y: number }[]): number {
  if (points.length < 2) return Number.NaN;
  const n = points.length;
  const mt = points.reduce((s, p) => s + p.at, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.at - mt) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.at - mt) ** 2, 0);
  return den === 0 ? Number.NaN : (num / den) * 3_600_000;
}

async function main() {
  checkLabHost();
  const minutes = arg('minutes', 10, 240);
  const command = `npm run bench:soak -- --minutes ${minutes}`;
  const m = machine();
  log('waiting for the lab lock');
  const release = await acquireLabLock({ wait: true });
  const plan = buildPlan(loadConfigFile(CONFIG));
  // The reconfigure applies a real change (one more allowlisted name for the first tenant), or Squid is left alone.
  const changed = parse(readFileSync(CONFIG, 'utf8')) as { tenants: { allow: string | string[] }[] };
  const first = changed.tenants[0]!;
  first.allow = [...(Array.isArray(first.allow) ? first.allow : [first.allow]), 'soak.example.org'];
  const changedFile = join(mkdtempSync(join(tmpdir(), 'egresshub-soak-')), 'egresshub.yaml');
  writeFileSync(changedFile, stringify(changed));
  const changedPlan = buildPlan(loadConfigFile(changedFile));
  const samples: Sample[] = [];
  const events: string[] = [];
  let requests = 0;
  let failed = 0;
  const errors: Record<string, number> = {};
  const count = (n: number, bad: readonly string[]) => {
    requests += n;
    failed += bad.length;
    for (const e of bad) errors[e] = (errors[e] ?? 0) + 1;
  };
  try {
    const { topo } = await labUp(plan, CONFIG, log);
    const started = Date.now();
    const until = started + minutes * 60_000;
    const https = topo.tenants[1] ?? topo.tenants[0]!;
    const httpsHost = https.tenant.allow.any
      ? 'www.example.net'
      : (https.tenant.allow.exact[0] ?? `www.${https.tenant.allow.suffixes[0]!}`);
    const plans = { reconfigureAt: started + 0.35 * (until - started), replaceAt: started + 0.6 * (until - started) };
    let reconfigured = false;
    let replaced = false;
    let load: RunningLoad | undefined;
    let segmentEnds = 0;
    let nextSample = 0;
    while (Date.now() < until) {
      if (!load || Date.now() >= segmentEnds) {
        if (load) {
          const s = await load.stop();
          count(
            s.length,
            s.filter((x) => x.error).map((x) => x.error!),
          );
        }
        load = await startLoad(topo, { ...DEFAULT_LOAD, clients: 8, pauseMs: 50, maxSeconds: SEGMENT_S + 30 });
        segmentEnds = Math.min(until, Date.now() + SEGMENT_S * 1000);
      }
      if (Date.now() >= nextSample) {
        samples.push(...sample(topo.stateDir, topo.proxies));
        nextSample = Date.now() + SAMPLE_MS;
      }
      // HTTPS through CONNECT from the other tenant (the TLS peek and the SNI helper on every request).
      const r = curlIn(https.spokeNs, `https://${httpsHost}/`, {
        proxy: `http://${https.proxyHost}:${https.tenant.port}`,
        caCert: labPaths(topo.stateDir).caCert,
      });
      count(1, r.code === '200' ? [] : [`https ${r.code || `curl exit ${r.exit}`}`]);
      if (!reconfigured && Date.now() >= plans.reconfigureAt) {
        reconfigured = true;
        const at = Date.now() - started;
        const rr = await rollingReconfigure(changedPlan, log);
        events.push(
          `${fmt(at / 60_000)} min: rolling reconfigure (one more allowlisted name) of ${rr.steps.length} proxies in ${fmt(rr.ms / 1000)} s`,
        );
      }
      if (!replaced && Date.now() >= plans.replaceAt) {
        replaced = true;
        const at = Date.now() - started;
        const rp = await labReplace({ ...DEFAULT_LOAD, clients: 4, maxSeconds: 90 }, log);
        count(
          rp.load.requests,
          Array.from({ length: rp.load.failed }, () => 'during the replacement'),
        );
        events.push(
          `${fmt(at / 60_000)} min: rolling replacement (${rp.mode}) of ${rp.steps.length} proxies; its own load ${rp.load.requests} requests`,
        );
      }
      await sleep(500);
    }
    if (load) {
      const s = await load.stop();
      count(
        s.length,
        s.filter((x) => x.error).map((x) => x.error!),
      );
    }
    samples.push(...sample(topo.stateDir, topo.proxies));
    const hours = (Date.now() - started) / 3_600_000;

    const rows = topo.proxies.map((p) => {
      const mine = samples.filter((s) => s.proxy === p.id && s.pids !== '');
      // Growth over the longest stretch with the same processes (a replacement starts a new Squid).
      const runs = new Map<string, Sample[]>();
      for (const s of mine) runs.set(s.pids, [...(runs.get(s.pids) ?? []), s]);
      const steady = [...runs.values()].sort((a, b) => b.length - a.length)[0] ?? [];
      const first = mine[0];
      const last = mine.at(-1);
      const logPerHour = first && last ? (last.logBytes - first.logBytes) / hours : Number.NaN;
      const perDay = logPerHour * 24;
      const { budget } = logBudget(ROOT_VOLUME_BYTES);
      return {
        proxy: p.id,
        steadyMinutes: steady.length >= 2 ? (steady.at(-1)!.at - steady[0]!.at) / 60_000 : 0,
        rssMiB: (last?.rssKiB ?? 0) / 1024,
        rssPerHourMiB: perHour(steady.map((s) => ({ at: s.at, y: s.rssKiB / 1024 }))),
        fds: last?.fds ?? 0,
        fdsPerHour: perHour(steady.map((s) => ({ at: s.at, y: s.fds }))),
        logMiBPerHour: logPerHour / 2 ** 20,
        daysToFillDisk: ROOT_VOLUME_BYTES / perDay,
        hoursOfBudget: budget / logPerHour,
      };
    });
    const result = { minutes, requests, failed, errors, events, hours, proxies: rows, samples: samples.length };
    const target = link(topo.stateDir, topo.proxies[0]!.index);
    console.log(
      [
        `### Soak: ${minutes} minutes on ${CONFIG} (${topo.proxies.length} proxies)`,
        '',
        ...machineLines(m, command),
        `- traffic: plain HTTP, 8 clients with a 50 ms pause (load segments of ${SEGMENT_S} s), and one HTTPS request through CONNECT after each 0.5 s of the loop from ${https.tenant.name}`,
        ...events.map((e) => `- ${e}`),
        `- requests: ${requests}, failed: ${failed}${failed ? ` ${JSON.stringify(errors)}` : ''}`,
        `- access log of ${topo.proxies[0]!.id} now: ${target}`,
        '',
        table(
          [
            'proxy',
            'steady stretch (min)',
            'Squid RSS (MiB)',
            'RSS growth (MiB/h)',
            'descriptors',
            'descriptor growth (/h)',
            'access log (MiB/h)',
            'days to fill 16 GiB',
            'hours the 4 GiB log budget holds',
          ],
          rows.map((r) => [
            r.proxy,
            fmt(r.steadyMinutes),
            fmt(r.rssMiB),
            fmt(r.rssPerHourMiB, 2),
            r.fds,
            fmt(r.fdsPerHour, 1),
            fmt(r.logMiBPerHour, 2),
            fmt(r.daysToFillDisk, 0),
            fmt(r.hoursOfBudget, 0),
          ]),
        ),
        '',
        `\`\`\`json\n${JSON.stringify(result)}\n\`\`\``,
      ].join('\n'),
    );
    process.exitCode = failed === 0 ? 0 : 1;
  } finally {
    await labDown(log);
    release();
  }
}

function link(stateDir: string, index: number): string {
  try {
    return readlinkSync(labPaths(stateDir).proxy(index).accessLog);
  } catch {
    return '(none)';
  }
}

void main().catch((e: unknown) => {
  log(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
