import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { readCloudWatch, UsageAccumulator, type UsageReport } from '../../src/usage';
import { runCli } from '../support/cli';

const GROUP = '/egresshub/egresshub-hub/squid/access';
const l = (tenant: string, bytesOut: number, decision = 'allowed') =>
  `ts=1795626804.578 tenant=${tenant} client=10.0.0.100:1 listener=3201 method=CONNECT host=registry.npmjs.org port=443 status=200 bytes_in=10 bytes_out=${bytesOut} duration_ms=1 decision=${decision} rule=tenant-allow squid=TCP_TUNNEL server=203.0.113.10`;
const ev = (message: string, i: number) => ({
  message,
  logStreamName: 'i-0123456789abcdef0',
  timestamp: 1795626804578 + i,
  eventId: String(i),
});

// Recorded shape of FilterLogEvents answers: pages linked by nextToken, one of them empty (CloudWatch
// returns empty pages while it is still searching), the last without a token.
const PAGES = [
  { events: [ev(l('project-a', 100), 1), ev(l('project-b', 50), 2)], nextToken: 't1', searchedLogStreams: [] },
  { events: [], nextToken: 't2' },
  { events: [ev(l('project-a', 300), 3), ev('garbage', 4), ev(l('project-b', 5, 'denied'), 5)] },
];

const cw = mockClient(CloudWatchLogsClient);
afterEach(() => cw.reset());

/** Inputs as sent: the SDK paginator reuses one input object, so the mock's own record shows only its last state. */
let sent: Record<string, unknown>[] = [];
function recordPages() {
  sent = [];
  const pages = [...PAGES];
  cw.on(FilterLogEventsCommand).callsFake((input: Record<string, unknown>) => {
    sent.push(Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
    const page = pages.shift();
    if (!page) throw new Error('no more recorded pages: the reader asked past the last token');
    return page;
  });
}

/** The region of the client the CLI built (the SDK resolves it lazily). */
function regionOfFirstCall(): Promise<string> {
  const client = cw.commandCalls(FilterLogEventsCommand)[0]!.thisValue as CloudWatchLogsClient;
  return client.config.region();
}

describe('reading the access log from CloudWatch Logs', () => {
  it('follows nextToken through every page, empty ones included, and passes the period', async () => {
    recordPages();
    const acc = new UsageAccumulator();
    const got = await readCloudWatch(
      { logGroupName: GROUP, startTime: 1000, endTime: 2000, client: new CloudWatchLogsClient({ region: 'ap-northeast-1' }) },
      acc,
    );
    expect(got).toEqual({ pages: 3, events: 5 });
    expect(sent).toEqual([
      { logGroupName: GROUP, startTime: 1000, endTime: 2000 },
      { logGroupName: GROUP, startTime: 1000, endTime: 2000, nextToken: 't1' },
      { logGroupName: GROUP, startTime: 1000, endTime: 2000, nextToken: 't2' },
    ]);
    const r = acc.report();
    expect(r.tenants.map((t) => [t.tenant, t.requests, t.bytesOut, t.denied])).toEqual([
      ['project-a', 2, 400, 0],
      ['project-b', 2, 55, 1],
    ]);
    expect(r.malformedSamples).toEqual([
      { where: `${GROUP}/i-0123456789abcdef0@1795626804582`, reason: 'not a key=value line', line: 'garbage' },
    ]);
  });

  it('fails when the page limit is reached, saying how to narrow the read', async () => {
    cw.on(FilterLogEventsCommand).resolves({ events: [ev(l('project-a', 1), 1)], nextToken: 'again' });
    await expect(
      readCloudWatch(
        { logGroupName: GROUP, client: new CloudWatchLogsClient({ region: 'ap-northeast-1' }), maxPages: 3 },
        new UsageAccumulator(),
      ),
    ).rejects.toThrow(`--from-cloudwatch: stopped after 3 pages (3 events) of ${GROUP}; narrow the period with --from/--to`);
    expect(cw.commandCalls(FilterLogEventsCommand)).toHaveLength(3);
  });

  it('the CLI finds the log group and region from --config', async () => {
    recordPages();
    const r = await runCli(
      'usage',
      '--from-cloudwatch',
      '--config',
      'examples/egresshub.yaml',
      '--format',
      'json',
      '--from',
      '1795626000',
      '--to',
      '1795627000',
    );
    expect(r.code).toBe(0);
    expect(sent[0]).toEqual({ logGroupName: GROUP, startTime: 1795626000000, endTime: 1795627000000 });
    expect(await regionOfFirstCall()).toBe('ap-northeast-1');
    const report = JSON.parse(r.stdout) as UsageReport;
    expect(report.requests).toBe(4);
    expect(r.stderr).toContain(`5 events in 3 pages from ${GROUP}`);
  });

  it('--log-group wins over the config', async () => {
    recordPages();
    const r = await runCli('usage', '--from-cloudwatch', '--log-group', '/custom/access', '--region', 'us-east-1', '--format', 'csv');
    expect(r.code).toBe(0);
    expect(sent.map((i) => i.logGroupName)).toEqual(['/custom/access', '/custom/access', '/custom/access']);
    expect(await regionOfFirstCall()).toBe('us-east-1');
  });

  for (const [name, message] of [
    ['ResourceNotFoundException', 'the log group does not exist in this region; check --log-group and --region'],
    ['AccessDeniedException', 'access denied; the caller needs logs:FilterLogEvents on the log group'],
    ['CredentialsProviderError', 'no AWS credentials found'],
  ] as const) {
    it(`fails with exit 2 and the fix when AWS answers ${name}`, async () => {
      cw.on(FilterLogEventsCommand).rejects(Object.assign(new Error('recorded'), { name }));
      const r = await runCli('usage', '--from-cloudwatch', '--log-group', GROUP, '--region', 'ap-northeast-1');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--from-cloudwatch ${GROUP}: ${message}`);
    });
  }

  it('passes other AWS errors through as failures (exit 1)', async () => {
    cw.on(FilterLogEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const r = await runCli('usage', '--from-cloudwatch', '--log-group', GROUP, '--region', 'ap-northeast-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Rate exceeded');
  });

  it.each([
    ['ENOTFOUND', 'its name does not resolve'],
    ['EAI_AGAIN', 'DNS did not answer'],
    ['ECONNREFUSED', 'the connection was refused'],
  ])('fails when the network is down (%s): one line naming the endpoint, exit 1', async (code, why) => {
    const host = 'logs.ap-northeast-1.amazonaws.com';
    cw.on(FilterLogEventsCommand).rejects(Object.assign(new Error(`getaddrinfo ${code} ${host}`), { code, hostname: host }));
    const r = await runCli('usage', '--from-cloudwatch', '--log-group', GROUP, '--region', 'ap-northeast-1');
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(
      `error: --from-cloudwatch ${GROUP}: cannot reach ${host} (${why}); check the network connection, any proxy (HTTPS_PROXY) and that the Region exists`,
    );
    expect(r.stderr).not.toContain('getaddrinfo');
  });

  it.each(['mars-1', 'tokyo', 'AP-NORTHEAST-1', 'ap-northeast'])('fails when --region is %s, before any call (exit 2)', async (region) => {
    cw.on(FilterLogEventsCommand).rejects(new Error('must not be called'));
    const r = await runCli('usage', '--from-cloudwatch', '--log-group', GROUP, '--region', region);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`error: --region ${region}: not an AWS Region name; write it as AWS does, e.g. --region ap-northeast-1`);
    expect(cw.calls()).toHaveLength(0);
  });
});
