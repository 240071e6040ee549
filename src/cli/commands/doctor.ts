// `egresshub doctor`: run on a project server (or in a lab spoke) to check, step by step, that it reaches
// its tenant's proxy; a table for people, --json for automation; exit 0 healthy, 1 unhealthy, 2 bad flags.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isCidr4 } from '../../config/schema';
import { UsageError } from '../../config/errors';
import { DEFAULT_DENIED_URL, DEFAULT_TEST_URL, DEFAULT_TIMEOUT_MS, diagnose, TIMEOUT_RANGE_MS, parseFlagUrl } from '../../doctor';
import { Option } from 'commander';
import type { CommandSpec } from '../command';
import { noProxyOption, numberOption } from '../options';

export const doctor: CommandSpec = {
  name: 'doctor',
  summary: "check this host's path to its tenant proxy, step by step (exit 0 healthy, 1 unhealthy)",
  configure: (cmd) => {
    cmd
      .option('--proxy <url>', 'proxy URL (default: https_proxy / HTTPS_PROXY / http_proxy / HTTP_PROXY)')
      .addOption(noProxyOption('NO_PROXY list to check (default: no_proxy / NO_PROXY)'))
      // The spelling of earlier releases, kept working (hidden) so scripts do not break.
      .addOption(new Option('--noproxy <list>').hideHelp())
      .option('--test-url <url>', 'a URL the tenant may reach', DEFAULT_TEST_URL)
      .option('--denied-url <url>', 'a URL the proxy must refuse', DEFAULT_DENIED_URL)
      .option('--vpc-cidr <cidr>', 'the VPC CIDR the proxy name must resolve into (default: any private range)')
      .option('--dns-server <ip[:port]>', 'ask this DNS server instead of the system resolver')
      .option('--ca-file <pem>', "extra trusted CA certificate(s) for the test URL's origin")
      .option('--timeout <ms>', 'per-step timeout in milliseconds', String(DEFAULT_TIMEOUT_MS));
  },
  run: async ({ printer }, opts) => {
    const str = (k: string) => (typeof opts[k] === 'string' ? opts[k] : undefined);
    if (str('noproxy') !== undefined) printer.warn('--noproxy is now spelled --no-proxy, as in client-env');
    const proxy = str('proxy');
    if (proxy !== undefined) parseFlagUrl('--proxy', proxy, ['http:']);
    const vpcCidr = str('vpcCidr');
    if (vpcCidr !== undefined && !isCidr4(vpcCidr))
      throw new UsageError(`--vpc-cidr: expected an IPv4 CIDR such as 10.0.0.0/16 (got ${vpcCidr})`);
    const dnsServer = str('dnsServer');
    if (dnsServer !== undefined && !isDnsServer(dnsServer)) {
      throw new UsageError(
        `--dns-server: expected an IP address with an optional port, such as 10.0.0.2 or 127.0.0.1:5353 (got ${dnsServer})`,
      );
    }
    const caFile = str('caFile');
    let ca: string[] | undefined;
    if (caFile !== undefined) ca = [readCaFile(caFile)];
    const [min, max] = TIMEOUT_RANGE_MS;
    const timeout = numberOption(str('timeout') ?? String(DEFAULT_TIMEOUT_MS), '--timeout', { min, max, integer: true }, '5000');

    const report = await diagnose({
      proxy,
      noProxy: str('noProxy') ?? str('noproxy'),
      testUrl: str('testUrl'),
      deniedUrl: str('deniedUrl'),
      vpcCidr,
      dnsServer,
      ca,
      timeoutMs: timeout,
    });
    printer.data(report);
    const mark = (v: string) => (v === 'pass' ? printer.ok('pass') : v === 'fail' ? printer.bad('FAIL') : printer.dim('skip'));
    printer.table(
      ['check', 'verdict', 'detail'],
      report.steps.map((s) => [s.title, mark(s.verdict), s.detail]),
    );
    for (const s of report.steps) if (s.fix) printer.line(`${printer.bad('fix')} ${s.title}: ${s.fix}`);
    const failed = report.steps.filter((s) => s.verdict === 'fail').length;
    printer.line(report.healthy ? printer.ok('healthy') : printer.bad(`unhealthy: ${failed} of ${report.steps.length} checks failed`));
    return report.healthy ? 0 : 1;
  },
};

function isDnsServer(value: string): boolean {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(value);
  if (!m) return isIP(value) === 6;
  const ip = m[1] ?? m[2] ?? '';
  return isIP(ip) !== 0 && (m[3] === undefined || Number(m[3]) <= 65535);
}

/** The PEM text of --ca-file, or one clear line saying why it cannot be used. */
function readCaFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : String(code ?? e);
    throw new UsageError(`--ca-file ${file}: cannot read it (${why}); pass a PEM certificate file`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new UsageError(`--ca-file ${file}: no PEM certificate in it (-----BEGIN CERTIFICATE-----); pass a PEM certificate file`);
  return text;
}
