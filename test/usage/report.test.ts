import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { parseAccessLogLine, parseTime, toCsv, usageReport, UsageAccumulator } from '../../src/usage';

/** A line in the hub's format; fields can be overridden or dropped (undefined). */
function line(f: Record<string, string | number | undefined> = {}): string {
  const d: Record<string, string | number | undefined> = {
    ts: '1795626804.578',
    tenant: 'project-a',
    client: '10.0.0.100:56628',
    listener: 3201,
    method: 'CONNECT',
    host: 'registry.npmjs.org',
    port: 443,
    status: 200,
    bytes_in: 853,
    bytes_out: 1779,
    duration_ms: 8,
    decision: 'allowed',
    rule: 'tenant-allow',
    squid: 'TCP_TUNNEL',
    server: '203.0.113.10',
    ...f,
  };
  return Object.entries(d)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

describe('usage report on real lab lines', () => {
  // Real Squid output from the lab (a benchmark run): GETs, CONNECT tunnels, aborted transfers, tenant=- lines.
  const lines = readFileSync('test/usage/fixtures/lab-bench.log', 'utf8').split('\n').filter(Boolean);
  const r = usageReport(lines);

  /** The same numbers computed without the parser: regular expressions over the raw text. */
  function expected(tenant: string) {
    const mine = lines.filter((l) => new RegExp(`(^| )tenant=${tenant} `).test(l));
    const num = (l: string, k: string) => Number(new RegExp(`(?:^| )${k}=(\\d+)`).exec(l)![1]);
    return {
      requests: mine.length,
      allowed: mine.filter((l) => / decision=allowed /.test(l)).length,
      denied: mine.filter((l) => / decision=denied /.test(l)).length,
      bytesIn: mine.reduce((n, l) => n + num(l, 'bytes_in'), 0),
      bytesOut: mine.reduce((n, l) => n + num(l, 'bytes_out'), 0),
    };
  }

  it('counts requests, decisions and bytes per tenant as the raw lines say', () => {
    expect(r.tenants.map((t) => t.tenant).sort()).toEqual(['bench-a', 'bench-b']);
    for (const t of r.tenants) {
      expect({
        tenant: t.tenant,
        requests: t.requests,
        allowed: t.allowed,
        denied: t.denied,
        bytesIn: t.bytesIn,
        bytesOut: t.bytesOut,
      }).toEqual({
        tenant: t.tenant,
        ...expected(t.tenant),
      });
    }
    expect(r.malformed).toBe(0);
    expect(r.lines).toBe(lines.length);
  });

  it('keeps tenant=- lines (no request was made) out of every tenant and the shares', () => {
    const unattributed = lines.filter((l) => / tenant=- /.test(l)).length;
    expect(unattributed).toBeGreaterThan(0);
    expect(r.unattributed.requests).toBe(unattributed);
    expect(r.requests + unattributed).toBe(lines.length);
    const shares = r.tenants.reduce((n, t) => n + t.sharePercent, 0);
    expect(shares).toBeCloseTo(100, 6);
    const a = r.tenants.find((t) => t.tenant === 'bench-a')!;
    expect(a.sharePercent).toBeCloseTo((100 * a.bytes) / r.totals.bytes, 9);
  });

  it('sorts tenants by bytes and lists the top destination with its request count', () => {
    expect(r.tenants[0]!.bytes).toBeGreaterThanOrEqual(r.tenants[1]!.bytes);
    const b = r.tenants.find((t) => t.tenant === 'bench-b')!;
    expect(b.topDestinations[0]).toEqual({ host: '203.0.113.20', requests: expected('bench-b').requests, bytes: b.bytes });
  });
});

describe('usage report on the lab matrix log', () => {
  // Real Squid output while the lab matrix ran the example config: both tenants, every kind of denial.
  const lines = readFileSync('test/usage/fixtures/lab-matrix.log', 'utf8').split('\n').filter(Boolean);
  const r = usageReport(lines, { top: 100 });

  it('lists every (host, rule) denial with the count the raw lines give', () => {
    for (const t of r.tenants) {
      const denied = lines.filter((l) => l.includes(` tenant=${t.tenant} `) && l.includes(' decision=denied '));
      const counts = new Map<string, number>();
      for (const l of denied) {
        const key = `${/ host=(\S+)/.exec(l)![1]} ${/ rule=(\S+)/.exec(l)![1]}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      expect(new Map(t.topDenials.map((d) => [`${d.host} ${d.rule}`, d.requests]))).toEqual(counts);
      expect(t.denied).toBe(denied.length);
    }
    // The allowlist tenant is denied by name; the "*" tenant only by address.
    const rules = (name: string) => new Set(r.tenants.find((t) => t.tenant === name)!.topDenials.map((d) => d.rule));
    expect(rules('project-a').has('not-allowlisted')).toBe(true);
    expect(rules('project-b').has('not-allowlisted')).toBe(false);
  });
});

describe('usage report edge cases', () => {
  it('counts and samples malformed lines without stopping, and ignores blank lines', () => {
    const r = usageReport([
      line(),
      '',
      'garbage that is not ours',
      line({ bytes_out: 'x12' }),
      line({ tenant: undefined }),
      line({ ts: 'yesterday' }),
      '   ',
      line({ tenant: 'project-b', bytes_in: 10, bytes_out: 20 }),
    ]);
    expect(r.lines).toBe(6);
    expect(r.malformed).toBe(4);
    expect(r.malformedSamples.map((m) => [m.where, m.reason])).toEqual([
      ['line 3', 'not a key=value line'],
      ['line 4', 'bad bytes_out "x12" (expected a whole number up to 2^53)'],
      ['line 5', 'missing tenant'],
      ['line 6', 'bad ts "yesterday" (expected epoch seconds before the year 10000)'],
    ]);
    expect(r.tenants.map((t) => [t.tenant, t.requests, t.bytes])).toEqual([
      ['project-a', 1, 853 + 1779],
      ['project-b', 1, 30],
    ]);
  });

  it.each([
    ['a timestamp past the year 9999', { ts: '9999999999999' }, /^bad ts "9999999999999"/],
    ['a timestamp with an exponent', { ts: '1.7e9' }, /^bad ts "1\.7e9"/],
    ['a 20-digit byte count', { bytes_in: '12345678901234567890' }, /^bad bytes_in "12345678901234567890"/],
    ['a 400-digit byte count (shown clipped)', { bytes_out: '9'.repeat(400) }, /^bad bytes_out "9{40}… \(400 characters\)"/],
    ['Infinity bytes', { bytes_in: 'Infinity' }, /^bad bytes_in "Infinity"/],
    ['NaN bytes', { bytes_out: 'NaN' }, /^bad bytes_out "NaN"/],
    ['negative bytes', { bytes_in: '-5' }, /^bad bytes_in "-5"/],
  ])('skips and counts a line with %s, and reports the rest', (_title, fields, reason) => {
    const r = usageReport([line(), line(fields), line({ tenant: 'project-b' })]);
    expect(r.malformed).toBe(1);
    expect(r.malformedSamples[0]!.reason).toMatch(reason);
    expect(r.tenants.map((t) => [t.tenant, t.requests])).toEqual([
      ['project-a', 1],
      ['project-b', 1],
    ]);
    expect(JSON.stringify([r.firstRequest, r.lastRequest, r.totals, r.tenants])).not.toMatch(/null|NaN|Infinity/);
  });

  it('ignores a port or status past its range instead of carrying it', () => {
    const p = parseAccessLogLine(line({ port: '99999999999999999999', status: '1e3' }));
    expect(p.ok && [p.entry.port, p.entry.status]).toEqual([undefined, undefined]);
  });

  it('keeps at most the configured number of malformed samples but counts them all', () => {
    const r = usageReport(
      Array.from({ length: 12 }, () => 'x'),
      { malformedSamples: 3 },
    );
    expect([r.malformed, r.malformedSamples.length]).toEqual([12, 3]);
  });

  it('applies the period: from inclusive, to exclusive', () => {
    const at = (s: number) => line({ ts: `${s}.000` });
    const r = usageReport([at(999), at(1000), at(1500), at(1999), at(2000)], { from: 1000_000, to: 2000_000 });
    expect([r.requests, r.outsidePeriod]).toEqual([3, 2]);
    expect([r.firstRequest, r.lastRequest]).toEqual([new Date(1000_000).toISOString(), new Date(1999_000).toISOString()]);
  });

  it('splits allowed, denied and undecided (decision=-) requests, with top denials by host and rule', () => {
    const denied = (host: string, rule: string) => line({ host, decision: 'denied', rule, status: 403, squid: 'TCP_DENIED' });
    const r = usageReport([
      line(),
      denied('169.254.169.254', 'blocked-destination'),
      denied('evil.example', 'not-allowlisted'),
      denied('evil.example', 'not-allowlisted'),
      denied('evil.example', 'connect-port'),
      line({ decision: '-', rule: '-', status: 400 }),
    ]);
    const a = r.tenants[0]!;
    expect([a.requests, a.allowed, a.denied, a.other]).toEqual([6, 1, 4, 1]);
    expect(a.topDenials).toEqual([
      { host: 'evil.example', rule: 'not-allowlisted', decision: 'denied', requests: 2 },
      { host: '169.254.169.254', rule: 'blocked-destination', decision: 'denied', requests: 1 },
      { host: 'evil.example', rule: 'connect-port', decision: 'denied', requests: 1 },
    ]);
    // Denied requests are not destinations: only allowed and undecided ones are.
    expect(a.topDestinations.map((d) => [d.host, d.requests])).toEqual([['registry.npmjs.org', 2]]);
  });

  it('limits the top lists to --top and breaks ties by name', () => {
    const hosts = ['c.example', 'a.example', 'b.example', 'd.example'];
    const r = usageReport(
      hosts.map((host) => line({ host, bytes_in: 1, bytes_out: 1 })),
      { top: 2 },
    );
    expect(r.tenants[0]!.topDestinations.map((d) => d.host)).toEqual(['a.example', 'b.example']);
  });

  it('reads a size Squid logged as - as zero bytes, and gives 0 % shares when nothing moved', () => {
    const r = usageReport([line({ bytes_in: '-', bytes_out: '-' })]);
    expect([r.tenants[0]!.bytes, r.tenants[0]!.sharePercent]).toEqual([0, 0]);
  });

  it('streams: adding lines one by one gives the same report as a batch', () => {
    const lines = [line(), line({ tenant: 'project-b' }), 'junk'];
    const acc = new UsageAccumulator();
    lines.forEach((l, i) => acc.add(l, `line ${i + 1}`));
    expect(acc.report()).toEqual(usageReport(lines));
  });

  it('parses every field it charges by', () => {
    expect(parseAccessLogLine(line())).toEqual({
      ok: true,
      entry: {
        ts: 1795626804.578,
        tenant: 'project-a',
        method: 'CONNECT',
        host: 'registry.npmjs.org',
        port: 443,
        status: 200,
        bytesIn: 853,
        bytesOut: 1779,
        decision: 'allowed',
        rule: 'tenant-allow',
        sni: undefined,
        verdictOnly: false,
      },
    });
  });

  it('counts audit verdicts as would-deny, and a peek verdict line as no request and no bytes', () => {
    const r = usageReport([
      // A GET the allowlist would refuse, passed in audit.
      line({ method: 'GET', host: 'new.example', port: 80, decision: 'would-deny', rule: 'not-allowlisted', squid: 'TCP_MISS' }),
      // A tunnel whose SNI would be refused: the peek's verdict, then the tunnel's own line.
      line({
        host: 'api.example',
        decision: 'would-deny',
        rule: 'sni-mismatch',
        squid: 'NONE_NONE',
        status: 200,
        bytes_in: 122,
        bytes_out: 0,
        sni: 'cdn.example',
      }),
      line({ host: 'api.example', decision: 'allowed', rule: 'tenant-allow', squid: 'TCP_TUNNEL', sni: 'cdn.example' }),
    ]);
    const a = r.tenants[0]!;
    expect([a.requests, a.allowed, a.wouldDeny, a.denied]).toEqual([2, 1, 2, 0]);
    expect(a.bytesIn).toBe(853 * 2);
    // A would-deny SNI is listed under the name the client asked for, not the CONNECT host.
    expect(a.topDenials).toEqual([
      { host: 'cdn.example', rule: 'sni-mismatch', decision: 'would-deny', requests: 1 },
      { host: 'new.example', rule: 'not-allowlisted', decision: 'would-deny', requests: 1 },
    ]);
    expect(r.totals.wouldDeny).toBe(2);
  });
});

describe('CSV', () => {
  it('quotes cells that need it and keeps numbers raw', () => {
    const csv = toCsv(usageReport([line({ tenant: 'project-a', host: 'a,b.example' })]));
    const [head, row] = csv.trimEnd().split('\n');
    expect(head).toBe(
      'tenant,requests,allowed,denied,other,bytes_in,bytes_out,bytes_total,share_percent,top_destinations,top_denials,would_deny',
    );
    expect(row).toBe('project-a,1,1,0,0,853,1779,2632,100.00,"a,b.example:1",,0');
  });
});

describe('parseTime', () => {
  const now = Date.UTC(2026, 10, 25, 12, 0, 0);
  it('reads ISO dates as UTC, epoch seconds, and spans before now', () => {
    expect(parseTime('2026-11-01', '--from', now)).toBe(Date.UTC(2026, 10, 1));
    expect(parseTime('2026-11-01T09:30:00', '--from', now)).toBe(Date.UTC(2026, 10, 1, 9, 30));
    expect(parseTime('2026-11-01T09:30:00+09:00', '--from', now)).toBe(Date.UTC(2026, 10, 1, 0, 30));
    expect(parseTime('1795626804', '--from', now)).toBe(1795626804000);
    expect(parseTime('24h', '--from', now)).toBe(now - 86_400_000);
    expect(parseTime('7d', '--from', now)).toBe(now - 7 * 86_400_000);
  });
  it.each([
    ['2026-11-25 17:00', Date.UTC(2026, 10, 25, 17, 0)],
    ['2026-11-25T17:00', Date.UTC(2026, 10, 25, 17, 0)],
    ['2026-11-25 17:00:05.25', Date.UTC(2026, 10, 25, 17, 0, 5, 250)],
    ['2026-11-25T17:00:00z', Date.UTC(2026, 10, 25, 17, 0)],
    ['2026-11-25 17:00-05:00', Date.UTC(2026, 10, 25, 22, 0)],
    ['2026-11-25', Date.UTC(2026, 10, 25)],
    ['2028-02-29', Date.UTC(2028, 1, 29)],
  ])('reads %s as UTC under TZ=Asia/Tokyo', (text, utc) => {
    const tz = process.env.TZ;
    process.env.TZ = 'Asia/Tokyo';
    try {
      expect(new Date(2026, 0, 1).getTimezoneOffset()).toBe(-540); // the zone did change: this test can fail
      expect(parseTime(text, '--from', now)).toBe(utc);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it.each([
    ['last tuesday', 'cannot read "last tuesday" as a time; use ISO 8601'],
    ['2026-11-01T09', 'cannot read "2026-11-01T09" as a time'],
    ['2026-13-45', '"2026-13-45" is not a real time (there is no month 13); fix the date or time'],
    ['2026-02-30', '"2026-02-30" is not a real time (February 2026 has 28 days)'],
    ['2026-04-31 10:00', '"2026-04-31 10:00" is not a real time (April 2026 has 30 days)'],
    ['2026-11-01 24:00', 'is not a real time (hours run to 23, minutes and seconds to 59)'],
    ['2026-11-01 10:00+25:00', 'is not a real time (offset +25:00 is not one)'],
    ['99999999999999999999d', 'reaches more than 100 years back; give a date instead (e.g. 2026-11-01) or a shorter span such as 30d'],
    ['300000000d', 'reaches more than 100 years back'],
  ])('fails when the time is %j, naming the flag and the value', (text, says) => {
    expect(() => parseTime(text, '--to', now)).toThrow(`--to: ${/^(is not|reaches)/.test(says) ? `"${text}" ${says}` : says}`);
  });

  it('fails with exit 2 on an impossible --from date', async () => {
    const r = await runCli('usage', '--log', 'test/usage/fixtures/lab-matrix.log', '--from', '2026-02-30');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('error: --from: "2026-02-30" is not a real time (February 2026 has 28 days); fix the date or time');
  });
});
