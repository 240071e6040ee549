import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { UsageReport } from '../../src/usage';
import { runCli } from '../support/cli';

const LAB_LOG = 'test/usage/fixtures/lab-bench.log';
const dir = mkdtempSync(join(tmpdir(), 'egresshub-usage-'));
const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const A =
  'ts=1795626804.578 tenant=project-a client=10.0.0.100:1 listener=3201 method=CONNECT host=registry.npmjs.org port=443 status=200 bytes_in=100 bytes_out=300 duration_ms=8 decision=allowed rule=tenant-allow squid=TCP_TUNNEL server=203.0.113.10';
const B =
  'ts=1795626900.000 tenant=project-b client=10.0.0.100:2 listener=3202 method=GET host=169.254.169.254 port=80 status=403 bytes_in=50 bytes_out=50 duration_ms=0 decision=denied rule=blocked-destination squid=TCP_DENIED server=-';

describe('egresshub usage', () => {
  it('prints a table with shares and top denials from several files', async () => {
    const r = await runCli('usage', '--log', write('a.log', `${A}\n${A}\n`), write('b.log', `${B}\n`));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage for start of log – end of log: 3 requests, 900 B');
    expect(r.stdout).toMatch(
      /project-a\s*│\s*2\s*│\s*2\s*│\s*0\s*│\s*0\s*│\s*0\s*│\s*200 B\s*│\s*600 B\s*│\s*88\.9%\s*│\s*registry\.npmjs\.org \(2\)/,
    );
    expect(r.stdout).toMatch(/top denials[\s\S]*project-b\s*│\s*169\.254\.169\.254\s*│\s*blocked-destination\s*│\s*denied\s*│\s*1/);
  });

  it('--format csv on the real lab log: one row per tenant, numbers a spreadsheet can sum', async () => {
    const r = await runCli('usage', '--log', LAB_LOG, '--format', 'csv');
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split(','));
    expect(rows[0]!.slice(0, 3)).toEqual(['tenant', 'requests', 'allowed']);
    const lines = readFileSync(LAB_LOG, 'utf8').split('\n').filter(Boolean);
    for (const row of rows.slice(1)) {
      const mine = lines.filter((l) => l.includes(` tenant=${row[0]} `));
      expect([row[0], Number(row[1])]).toEqual([row[0], mine.length]);
    }
    expect(r.stderr).toMatch(/8 lines without a tenant/);
  });

  it('--json (global) and --format json print the report object', async () => {
    for (const args of [
      ['--json', 'usage'],
      ['usage', '--format', 'json'],
    ]) {
      const r = await runCli(...args, '--log', write('j.log', `${A}\n${B}\n`));
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as UsageReport;
      expect(report.tenants.map((t) => [t.tenant, t.requests, t.bytesIn, t.bytesOut, t.denied])).toEqual([
        ['project-a', 1, 100, 300, 0],
        ['project-b', 1, 50, 50, 1],
      ]);
    }
  });

  it('applies --from/--to and says how many requests fell outside', async () => {
    const r = await runCli(
      'usage',
      '--format',
      'json',
      '--log',
      write('p.log', `${A}\n${B}\n`),
      '--from',
      '1795626850',
      '--to',
      '2026-12-31',
    );
    const report = JSON.parse(r.stdout) as UsageReport;
    expect([report.requests, report.outsidePeriod, report.tenants[0]!.tenant]).toEqual([1, 1, 'project-b']);
    expect(r.stderr).toContain('1 request outside the period was left out');
  });

  it('reports malformed lines on stderr with file:line and still exits 0', async () => {
    const file = write('m.log', `${A}\nnot a log line\n${A.replace('bytes_in=100', 'bytes_in=lots')}\n`);
    const r = await runCli('usage', '--log', file, '--format', 'csv');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('2 of 3 lines are not egresshub access-log lines and were skipped');
    expect(r.stderr).toContain(`${file}:2: not a key=value line`);
    expect(r.stderr).toContain(`${file}:3: bad bytes_in "lots"`);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(2);
  });

  it('reports around a line with an absurd timestamp, warning about it (exit 0)', async () => {
    const file = write('ts.log', `${A}\n${A.replace('ts=1795626804.578', 'ts=9999999999999')}\n${B}\n`);
    const r = await runCli('usage', '--log', file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('1 of 3 lines is not an egresshub access-log line and was skipped');
    expect(r.stderr).toContain(`${file}:2: bad ts "9999999999999" (expected epoch seconds before the year 10000)`);
    expect(r.stdout).toContain('usage for start of log – end of log: 2 requests');
  });

  it.each([
    ['table', []],
    ['csv', ['--format', 'csv']],
    ['malformed-line warning', ['--format', 'csv']],
  ])('log fields cannot drive the terminal: %s', async (title, args) => {
    const evil = 'x\u001b[2J\u001b]0;pwned\u0007\u009b1m\u202e.example.com';
    const text = title.startsWith('malformed') ? `${A}\nnot=ours ${evil}\n` : `${A.replace('registry.npmjs.org', evil)}\n${B}\n`;
    const r = await runCli('usage', '--log', write(`evil-${title}.log`, text), ...args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/[\u001b\u0007\u009b\u202e]/);
    expect(r.stdout + r.stderr).toContain('x\\e[2J\\e]0;pwned\\x07\\x9b1m\\u202e.example.com');
  });

  it('clips an absurd host in the table, saying its length; --json keeps it whole', async () => {
    const host = `${'a'.repeat(1_000_000)}.example.com`;
    const file = write('huge.log', `${A.replace('registry.npmjs.org', host)}\n`);
    const r = await runCli('usage', '--log', file);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeLessThan(5_000);
    expect(r.stdout).toContain(`${'a'.repeat(80)}… (1,000,012 characters) (1)`);
    const json = await runCli('--json', 'usage', '--log', file);
    expect((JSON.parse(json.stdout) as UsageReport).tenants[0]!.topDestinations[0]!.host).toBe(host);
  });

  it('CSV cells a spreadsheet would run as formulas start with a quote', async () => {
    const r = await runCli(
      'usage',
      '--log',
      write('formula.log', `${A.replace('registry.npmjs.org', '=cmd|calc!a0')}\n`),
      '--format',
      'csv',
    );
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[1]).toContain(`,'=cmd|calc!a0:1,`);
  });

  it('fails when no input is given', async () => {
    const r = await runCli('usage');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage needs input: --log /var/log/squid/access.log');
  });

  it('fails when a log file does not exist', async () => {
    const r = await runCli('usage', '--log', join(dir, 'missing.log'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--log ${join(dir, 'missing.log')}: no such file`);
  });

  it('fails when --from is not before --to', async () => {
    const r = await runCli('usage', '--log', LAB_LOG, '--from', '2026-11-02', '--to', '2026-11-01');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--from 2026-11-02T00:00:00.000Z is not before --to 2026-11-01T00:00:00.000Z');
  });

  it('fails when --from cannot be read', async () => {
    const r = await runCli('usage', '--log', LAB_LOG, '--from', 'soon');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--from: cannot read "soon" as a time');
  });

  it('fails when --top is not a whole number from 1 to 100', async () => {
    const r = await runCli('usage', '--log', LAB_LOG, '--top', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--top expects a whole number from 1 to 100 (got "0")');
  });

  it('fails when both files and CloudWatch are asked for', async () => {
    const r = await runCli('usage', '--log', LAB_LOG, '--from-cloudwatch');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pass either --log FILE... or --from-cloudwatch, not both');
  });

  it('fails when --from-cloudwatch has neither --log-group nor --config', async () => {
    const r = await runCli('usage', '--from-cloudwatch');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--from-cloudwatch needs the log group');
  });
});
