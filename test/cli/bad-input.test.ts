// Commands given bad paths and numbers, as a new user would type them: each answers with exit code 2 and
// one line naming what is wrong (no raw errno, no stack trace), and leaves no files behind.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';

const EXAMPLE = 'examples/egresshub.yaml';
const dir = mkdtempSync(join(tmpdir(), 'egresshub-badinput-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const aFile = join(dir, 'a-file');
writeFileSync(aFile, 'x');
const binary = join(dir, 'binary.yaml');
writeFileSync(binary, readFileSync(process.execPath).subarray(0, 4096));
writeFileSync(binary.replace('.yaml', '.csv'), readFileSync(process.execPath).subarray(0, 4096));
const badHeader = join(dir, 'inventory.csv');
writeFileSync(badHeader, 'vpc,cidr\nvpc-1,10.0.0.0/16\n');
const utf16 = join(dir, 'utf16.csv');
writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('account,region,vpcId,cidrs\n', 'utf16le')]));
const victim = join(dir, 'victim.yaml');
writeFileSync(victim, readFileSync(EXAMPLE, 'utf8'));
symlinkSync(victim, join(dir, 'victim-link.yaml'));
const beside = join(dir, 'project');
mkdirSync(join(beside, 'cdk.out'), { recursive: true });
const bigPort = join(dir, 'big-port.yaml');
writeFileSync(bigPort, readFileSync(EXAMPLE, 'utf8').replace('port: 3201', 'port: 1e23'));

interface Case {
  readonly argv: readonly string[];
  readonly says: RegExp;
}

const cases: Record<string, Case> = {
  'synth --out is empty': {
    argv: ['synth', '-c', EXAMPLE, '--out', ''],
    says: /^error: --out is empty; name a path, e\.g\. --out cdk\.out$/,
  },
  'synth --out is under /proc': {
    argv: ['synth', '-c', EXAMPLE, '--out', '/proc/egresshub-x'],
    says: /is on a kernel filesystem \(proc\)/,
  },
  'synth --out is a file': { argv: ['synth', '-c', EXAMPLE, '--out', aFile], says: /is a file, not a directory/ },
  'synth --out goes through a file': {
    argv: ['synth', '-c', EXAMPLE, '--out', join(aFile, 'x')],
    says: /a part of the path is a file, not a directory/,
  },
  'synth --out is a directory of other files': {
    argv: ['synth', '-c', EXAMPLE, '--out', dir],
    says: /^error: --out .* is not empty and not a CDK cloud assembly \(no manifest\.json and cdk\.out\): its files could be overwritten; name a new or empty directory, e\.g\. --out cdk\.out$/,
  },
  'synth --out is a project directory beside its cdk.out/': {
    argv: ['synth', '-c', EXAMPLE, '--out', beside],
    says: /--out .*project is not empty and not a CDK cloud assembly/,
  },
  'spoke-template --out is its own --config': {
    argv: ['spoke-template', '-c', victim, '-t', 'project-a', '--out', victim],
    says: /^error: --out .*victim\.yaml is the file this command reads \(--config .*victim\.yaml\); writing it would replace it: name another file, e\.g\. --out spoke\.json$/,
  },
  'spoke-template --out is its --config by another name (a symlink)': {
    argv: ['spoke-template', '-c', victim, '-t', 'project-a', '--out', join(dir, 'victim-link.yaml')],
    says: /--out .*victim-link\.yaml is the file this command reads \(--config .*victim\.yaml\)/,
  },
  'spoke-template --out is a directory': {
    argv: ['spoke-template', '-c', EXAMPLE, '-t', 'project-a', '--out', dir],
    says: /is a directory; name a file, e\.g\. --out spoke\.json/,
  },
  'spoke-template --out in a missing directory': {
    argv: ['spoke-template', '-c', EXAMPLE, '-t', 'project-a', '--out', join(dir, 'missing', 'spoke.json')],
    says: /the directory .*missing does not exist; create it first/,
  },
  'spoke-template --out under /sys': {
    argv: ['spoke-template', '-c', EXAMPLE, '-t', 'project-a', '--out', '/sys/x.json'],
    says: /kernel filesystem \(sys\)/,
  },
  'a command option comes before the command': {
    argv: ['--json', '-c', EXAMPLE, 'validate'],
    says: /^error: -c comes before the command validate, where only --json, --no-color and --debug go; put the command's options after it, e\.g\. egresshub --json validate -c examples\/egresshub\.yaml$/,
  },
  'help is asked about a command that does not exist': {
    argv: ['help', 'nosuch'],
    says: /^error: help nosuch: there is no command "nosuch"; the commands are validate, synth, /,
  },
  'cidr report --from-aws with a made-up region': {
    argv: ['cidr', 'report', '--from-aws', '--regions', 'ap-northeast-1,mars-1'],
    says: /^error: --regions mars-1: not an AWS Region name; write it as AWS does, e\.g\. --regions ap-northeast-1$/,
  },
  'a one-value option is given twice': {
    argv: ['client-env', '-c', EXAMPLE, '--tenant', 'project-a', '-t', 'project-b'],
    says: /^error: --tenant is given twice \("project-a", then "project-b"\); keep the one you mean$/,
  },
  'an option with choices is given twice': {
    argv: ['usage', '--log', aFile, '--format', 'csv', '--format', 'table'],
    says: /^error: --format is given twice \("csv", then "table"\); keep the one you mean$/,
  },
  'an option with choices is given a value it does not take': {
    argv: ['usage', '--log', aFile, '--format', 'xml'],
    says: /^error: option '--format <format>' argument 'xml' is invalid\. Allowed choices are table, csv, json\.$/,
  },
  'usage reads the same log twice (by two names)': {
    argv: ['usage', '--log', victim, join(dir, 'victim-link.yaml')],
    says: /^error: --log .*victim-link\.yaml: the same file as --log .*victim\.yaml; it would be counted twice: name each file once$/,
  },
  'usage given CloudWatch options with log files': {
    argv: ['usage', '--log', aFile, '--region', 'us-east-1', '--log-group', '/x'],
    says: /^error: --log-group and --region apply to --from-cloudwatch; --log files are read as they are: add --from-cloudwatch or drop them$/,
  },
  'usage on a UTF-16 log': {
    argv: ['usage', '--log', utf16],
    says: /^error: --log .*utf16\.csv: it is UTF-16 text; save it as UTF-8 \(e\.g\. iconv -f UTF-16 -t UTF-8 .*utf16\.csv > .*utf16\.csv\.utf8\)$/,
  },
  'cidr report on a UTF-16 inventory': {
    argv: ['cidr', 'report', '-i', utf16],
    says: /^error: cannot read inventory .*utf16\.csv: it is UTF-16 text; save it as UTF-8 .*; pass a \.csv or \.json text file$/,
  },
  'cidr report on a binary inventory': {
    argv: ['cidr', 'report', '-i', binary.replace('.yaml', '.csv')],
    says: /^error: cannot read inventory .*binary\.csv: it is a binary file, not text; pass a \.csv or \.json text file$/,
  },
  'validate on a binary file': { argv: ['validate', '-c', binary], says: /it is a binary file, not YAML/ },
  'validate on a directory': { argv: ['validate', '-c', dir], says: /it is a directory/ },
  'a port far out of range (one message, ours)': {
    argv: ['validate', '-c', bigPort],
    says: /tenants\[0\]\.port: ports must be between 1024 and 65535 \(got 1e\+23\)/,
  },
  'diff with a missing file (no --config hint)': {
    argv: ['diff', join(dir, 'nope.yaml'), EXAMPLE],
    says: /cannot read config .*nope\.yaml: no such file; diff takes two config files: egresshub diff OLD\.yaml NEW\.yaml/,
  },
  'usage on a binary file': { argv: ['usage', '--log', binary], says: /--log .*binary\.yaml: a binary file, not a Squid access log/ },
  'cidr report with a CSV header that lacks columns': {
    argv: ['cidr', 'report', '-i', badHeader],
    says: /the header row has no "account", "region" columns \(found: vpc,cidr\); expected a header row such as account,region,vpcId,cidrs/,
  },
  'cost --chart in a missing directory (nothing printed first)': {
    argv: ['cost', '--region', 'us-east-1', '--vpcs', '10', '--gb-per-vpc', '100', '--chart', join(dir, 'missing', 'c.svg')],
    says: /cannot write --chart .*missing\/c\.svg: the directory .* does not exist; create it first/,
  },
  'cidr allocate with host bits set': {
    argv: ['cidr', 'allocate', '--pool', '10.0.0.1/16', '--size', '20', '--hub', '10.0.0.0/16'],
    says: /--pool: "10\.0\.0\.1\/16": its host bits are set \(the block containing it is 10\.0\.0\.0\/16\)/,
  },
  'lab fault with an unknown name (refused before the lab is touched, whoever holds it)': {
    argv: ['lab', 'fault', 'disk-on-fire'],
    says: /^error: unknown fault "disk-on-fire"; the faults are: log-disk-full, egress-loss, egress-loss-all, dns-loss, origin-blackhole, idle-timeout \(egresshub lab fault --help describes each\)$/,
  },
};

describe('every command survives bad input', () => {
  it.each(Object.entries(cases))('fails when %s', async (_name, c) => {
    const before = readdirSync(dir).sort();
    const cwd = process.cwd();
    const r = await runCli(...c.argv);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(
      lines.some((l) => c.says.test(l)),
      r.stderr,
    ).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at |E[A-Z]{3,}:|Maximum call stack/);
    expect(r.stdout).toBe('');
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(readFileSync(victim, 'utf8')).toBe(readFileSync(EXAMPLE, 'utf8'));
    expect(readdirSync(beside)).toEqual(['cdk.out']);
    expect(process.cwd()).toBe(cwd);
  });

  it('prints a very long table (150,000 blocks) without overflowing the stack', async () => {
    const r = await runCli('cidr', 'allocate', '--pool', '10.0.0.0/8', '--size', '28', '--count', '150000', '--hub', '192.168.0.0/16');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^150000\s+10\.36\.158\.240\/28$/);
  });

  it('squid-conf --json gives the file and the tenant ports as JSON', async () => {
    const r = await runCli('--json', 'squid-conf', '-c', EXAMPLE);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { squidConf: string; tenants: { name: string; port: number }[] };
    expect(out.tenants).toEqual([
      { name: 'project-a', port: 3201 },
      { name: 'project-b', port: 3202 },
    ]);
    expect(out.squidConf).toMatch(/^http_port 3201 /m);
  });

  it('synth into a new nested --out creates it, and synth again refills it (a cloud assembly)', async () => {
    const out = join(dir, 'nested', 'out');
    mkdirSync(join(dir, 'nested'));
    const r = await runCli('synth', '-c', EXAMPLE, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).some((f) => f.endsWith('.template.json'))).toBe(true);
    const again = await runCli('synth', '-c', EXAMPLE, '--out', out);
    expect(again.code, again.stderr).toBe(0);
    rmSync(join(dir, 'nested'), { recursive: true });
  });

  it('cost --chart takes a .SVG name in any case', async () => {
    const chart = join(dir, 'chart-case', 'COST.SVG');
    mkdirSync(dirname(chart));
    const r = await runCli('cost', '--region', 'us-east-1', '--vpcs', '10', '--gb-per-vpc', '100', '--chart', chart);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(chart, 'utf8')).toMatch(/^<svg/);
    rmSync(dirname(chart), { recursive: true });
  });
});
