import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { publicSuffixRules } from '../../src/allowlist/public-suffixes';
import { AllowlistLearner, collapse, diffAllowlist } from '../../src/allowlist/suggest';
import { buildPlan, loadConfigFile, normaliseAllowlist } from '../../src/config';
import { POLICY_RULES } from '../../src/policy';
import { runCli } from '../support/cli';

function line(f: Record<string, string | number>): string {
  const d: Record<string, string | number> = {
    ts: '1795626804.578',
    tenant: 'project-a',
    client: '10.0.0.100:5000',
    listener: 3201,
    method: 'CONNECT',
    host: 'registry.npmjs.org',
    port: 443,
    status: 200,
    bytes_in: 100,
    bytes_out: 900,
    duration_ms: 3,
    decision: 'allowed',
    rule: 'tenant-allow',
    squid: 'TCP_TUNNEL',
    server: '198.51.100.7',
    sni: '-',
    ...f,
  };
  return Object.entries(d)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** `egresshub allowlist suggest` for project-a of the example config. */
const suggest = (...args: string[]) => runCli('allowlist', 'suggest', '-c', 'examples/egresshub.yaml', '--tenant', 'project-a', ...args);

const usage = (host: string, requests = 1) => ({ host, requests, bytes: 1000 * requests, refused: 0 });

describe('allowlist suggest', () => {
  it('reads the Public Suffix List that psl ships (ICANN and private sections)', () => {
    const rules = publicSuffixRules();
    expect(rules.size).toBeGreaterThan(5000);
    for (const r of ['co.jp', 's3.amazonaws.com', 'github.io', 'com']) expect(rules.has(r)).toBe(true);
  });

  it.each([
    ['subdomains of one registrant merge', ['api.github.com', 'uploads.github.com', 'codeload.github.com'], ['*.github.com']],
    ['too few hosts stay exact', ['api.github.com', 'uploads.github.com'], ['api.github.com', 'uploads.github.com']],
    [
      'never *.amazonaws.com: customers own names under it',
      ['sts.amazonaws.com', 'ec2.amazonaws.com', 'ssm.amazonaws.com'],
      ['ec2.amazonaws.com', 'ssm.amazonaws.com', 'sts.amazonaws.com'],
    ],
    [
      'never *.us-east-1.amazonaws.com (execute-api lives under it)',
      ['sts.us-east-1.amazonaws.com', 'ssm.us-east-1.amazonaws.com', 'logs.us-east-1.amazonaws.com'],
      ['logs.us-east-1.amazonaws.com', 'ssm.us-east-1.amazonaws.com', 'sts.us-east-1.amazonaws.com'],
    ],
    ['never *.co.jp, but *.example.co.jp', ['a.example.co.jp', 'b.example.co.jp', 'c.example.co.jp'], ['*.example.co.jp']],
    ['registrants under co.jp stay apart', ['one.co.jp', 'two.co.jp', 'three.co.jp'], ['one.co.jp', 'three.co.jp', 'two.co.jp']],
    [
      'a private suffix (github.io) is never merged over',
      ['a.github.io', 'b.github.io', 'c.github.io'],
      ['a.github.io', 'b.github.io', 'c.github.io'],
    ],
  ])('%s', (_title, hosts, patterns) => {
    expect(
      collapse(
        hosts.map((h) => usage(h)),
        3,
      )
        .map((e) => e.pattern)
        .sort(),
    ).toEqual(patterns);
  });

  it('takes the highest parent that still has enough hosts once others are taken', () => {
    const hosts = ['a.x.example.com', 'b.x.example.com', 'c.x.example.com', 'd.example.com'].map((h, i) => usage(h, 10 - i));
    expect(collapse(hosts, 3).map((e) => [e.pattern, e.hosts.length])).toEqual([['*.example.com', 4]]);
    const two = collapse([...hosts, usage('lone.example.org')], 5);
    expect(two.map((e) => e.pattern).sort()).toEqual([
      'a.x.example.com',
      'b.x.example.com',
      'c.x.example.com',
      'd.example.com',
      'lone.example.org',
    ]);
  });

  it('merges 200,000 hosts under one parent in linear time (S3 buckets, CDN shards)', () => {
    const hosts = Array.from({ length: 200_000 }, (_, i) => usage(`b${i}.cdn.example.net`));
    const started = Date.now();
    const entries = collapse(hosts, 3);
    expect(entries.map((e) => [e.pattern, e.hosts.length, e.requests])).toEqual([['*.example.net', 200_000, 200_000]]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('diffs a large allowlist against many hosts in linear time', () => {
    const n = 50_000;
    const allow = Array.from({ length: n }, (_, i) => `*.s${i}.example.com`);
    const plan = buildPlan({ ...loadConfigFile('examples/egresshub.yaml') });
    const tenant = { ...plan.tenants[0]!, allow: normaliseAllowlist(allow) };
    const l = new AllowlistLearner('project-a');
    for (let i = 0; i < n; i += 2) l.add(line({ host: `www.s${i}.example.com` }));
    l.add(line({ host: 'new.example.org' }));
    const started = Date.now();
    const d = diffAllowlist(tenant, l.suggestion());
    expect(d.add.map((e) => e.pattern)).toEqual(['new.example.org']);
    expect(d.unused).toHaveLength(n / 2);
    expect(d.unused[0]).toBe('*.s1.example.com');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('counts hosts by the name asked (the SNI for an SNI verdict), never internal destinations; reports bad lines', () => {
    const l = new AllowlistLearner('project-a');
    for (const x of [
      line({}),
      line({}),
      line({ host: 'cdn.example', decision: 'would-deny', rule: 'not-allowlisted', squid: 'TCP_TUNNEL' }),
      // An audited tunnel whose SNI names another host: the verdict line, then the tunnel's own.
      line({
        host: 'registry.npmjs.org',
        sni: 'other.example',
        decision: 'would-deny',
        rule: 'sni-mismatch',
        squid: 'NONE_NONE',
        bytes_out: 0,
      }),
      line({ host: '169.254.169.254', port: 80, method: 'GET', status: 403, decision: 'denied', rule: 'blocked-destination' }),
      line({ host: '198.51.100.9', decision: 'allowed', rule: 'tenant-allow' }),
      line({ tenant: 'project-b', host: 'b.example' }),
      line({ host: 'evil.example', port: 22, status: 407, decision: 'denied', rule: 'connect-port' }),
      'not a log line',
    ])
      l.add(x);
    const s = l.suggestion();
    expect(s.lines).toBe(9);
    expect(s.malformed).toBe(1);
    expect(s.internal).toBe(2);
    expect(s.hosts.map((h) => [h.host, h.requests, h.refused])).toEqual([
      ['registry.npmjs.org', 2, 0],
      ['cdn.example', 1, 1],
      ['other.example', 0, 1],
    ]);
    expect(s.hosts.some((h) => /169\.254|198\.51|b\.example|evil/.test(h.host))).toBe(false);
  });

  it("reads each line by its rule's registry entry: internal, a name asked (or its SNI), or nothing about names", () => {
    for (const rule of POLICY_RULES) {
      const l = new AllowlistLearner('project-a');
      l.add(line({ host: 'asked.example.org', sni: 'sni.example.org', decision: rule.decision ?? 'denied', rule: rule.id }));
      const s = l.suggestion();
      const want = { internal: [1, []], asked: [0, ['asked.example.org']], sni: [0, ['sni.example.org']], none: [0, []] }[rule.logHost];
      expect([s.internal, s.hosts.map((h) => h.host)], rule.id).toEqual(want);
    }
    // A rule the registry does not know (another release's) says nothing about names.
    const l = new AllowlistLearner('project-a');
    l.add(line({ host: 'asked.example.org', rule: 'some-future-rule' }));
    expect([l.suggestion().internal, l.suggestion().hosts]).toEqual([0, []]);
  });

  it.each([
    ['a literal wildcard (past the public-suffix check)', '*.amazonaws.com'],
    ['an empty label', 'a..b.com'],
    ['a port in the name', 'host.example.com:8443'],
    ['an escape sequence', 'x\u001b[2J.example.com'],
    ['a label starting with a hyphen', '-x.example.com'],
    ['an underscore', 'a_b.example.com'],
    ['an all-digit top-level label', 'host.example.123'],
    ['a label of 64 characters', `${'a'.repeat(64)}.example.com`],
  ])('never proposes what validate refuses: %s', (_title, host) => {
    const l = new AllowlistLearner('project-a');
    for (const h of [host, host, 'ok.example.org']) l.add(line({ host: h, decision: 'would-deny', rule: 'not-allowlisted' }));
    const s = l.suggestion();
    expect(s.entries.map((e) => e.pattern)).toEqual(['ok.example.org']);
    expect([s.invalid, s.invalidSamples]).toEqual([2, [host.toLowerCase()]]);
  });

  it('CLI: warns about hosts it will not propose, escaped, and the proposal passes validate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eh-allow-'));
    const file = join(dir, 'access.log');
    const hosts = ['*.amazonaws.com', 'a..b.com', 'x\u001b]0;pwned\u0007.example.com', 'a.example.org', 'b.example.org', 'c.example.org'];
    writeFileSync(file, hosts.map((host) => line({ host })).join('\n') + '\n');
    const r = await suggest('--log', file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'warning: 3 requests named hosts that no allowlist entry may hold (as validate checks them) and were not proposed, e.g. "*.amazonaws.com", "a..b.com", "x\\e]0;pwned\\x07.example.com"',
    );
    expect(r.stdout + r.stderr).not.toMatch(/[\u001b\u0007]/);
    const config = join(dir, 'egresshub.yaml');
    const allow = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('    - '))
      .map((l) => l.replace(/ #.*$/, '').trim().slice(2));
    expect(allow).toEqual(['"*.example.org"']);
    writeFileSync(
      config,
      readFileSync('examples/egresshub.yaml', 'utf8').replace("['*.github.com', 'registry.npmjs.org']", `[${allow.join(', ')}]`),
    );
    expect((await runCli('validate', '-c', config)).code).toBe(0);
  });

  it('diffs against the current allowlist: what would be added, what was never used', () => {
    const plan = buildPlan(loadConfigFile('examples/egresshub.yaml'));
    const l = new AllowlistLearner('project-a');
    for (const h of ['api.github.com', 'registry.npmjs.org', 'pypi.org']) l.add(line({ host: h }));
    const d = diffAllowlist(plan.tenants[0]!, l.suggestion());
    expect(d.add.map((e) => e.pattern)).toEqual(['pypi.org']);
    expect(d.unused).toEqual([]);
    const none = diffAllowlist(plan.tenants[0]!, new AllowlistLearner('project-a').suggestion());
    expect(none.unused).toEqual(['registry.npmjs.org', '*.github.com']);
  });

  it('CLI: prints YAML for the tenant, and an unknown tenant exits 2 naming the known ones', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'eh-allow-')), 'access.log');
    writeFileSync(file, ['a', 'b', 'c'].map((x) => line({ host: `${x}.example.org` })).join('\n') + '\n');
    const ok = await suggest('--log', file, '--diff');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('    - "*.example.org" # 3 hosts, 3 requests');
    expect(ok.stdout).toContain('would add (1): *.example.org');
    const bad = await runCli('allowlist', 'suggest', '-c', 'examples/egresshub.yaml', '--tenant', 'nope', '--log', file);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no such tenant in the config; it has project-a, project-b');
  });
});

describe('allowlist suggest from CloudWatch Logs', () => {
  const GROUP = '/egresshub/egresshub-hub/squid/access';
  const cw = mockClient(CloudWatchLogsClient);
  afterEach(() => cw.reset());

  it('reads the log group from --since on, and learns from the events', async () => {
    const sent: Record<string, unknown>[] = [];
    const pages = [
      { events: ['a', 'b'].map((x, i) => ({ message: line({ host: `${x}.example.org` }), timestamp: i })), nextToken: 't1' },
      { events: [{ message: line({ host: 'c.example.org' }), timestamp: 3 }] },
    ];
    cw.on(FilterLogEventsCommand).callsFake((input: Record<string, unknown>) => {
      sent.push({ ...input });
      return pages.shift();
    });
    const before = Date.now();
    const r = await suggest('--log-group', GROUP, '--since', '1d');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('    - "*.example.org" # 3 hosts, 3 requests');
    expect(sent.map((s) => s.logGroupName)).toEqual([GROUP, GROUP]);
    const start = sent[0]!.startTime as number;
    expect(before - start).toBeGreaterThanOrEqual(86_400_000 - 5_000);
    expect(before - start).toBeLessThanOrEqual(86_400_000 + 5_000);
  });

  it('names the log group and the fix when it does not exist (exit 2); --since needs --log-group', async () => {
    cw.on(FilterLogEventsCommand).rejects(Object.assign(new Error('nope'), { name: 'ResourceNotFoundException' }));
    const r = await suggest('--log-group', GROUP);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--log-group ${GROUP}: the log group does not exist in this region`);
    for (const [flag, value] of [
      ['--since', '7d'],
      ['--region', 'us-east-1'],
    ]) {
      const r = await suggest('--log', 'x.log', flag!, value!);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(`error: ${flag} applies to --log-group; log files are read whole`);
    }
  });
});
