// `egresshub usage`: the charge-back report — per tenant requests, bytes, allowed/denied counts, top
// destinations and denials for a period — from access-log files or the hub's CloudWatch Logs group.
import { Option, type Command } from 'commander';
import { UsageError } from '../../config/errors';
import {
  checkPeriod,
  DEFAULT_TOP,
  denialRows,
  DENIALS_HEAD,
  humanBytes,
  parseTime,
  readCloudWatch,
  readLogFiles,
  TABLE_HEAD,
  tableRows,
  toCsv,
  UsageAccumulator,
  type UsageReport,
} from '../../usage';
import { plural, terminalSafe } from '../../untrusted/text';
import { checkRegion } from '../../aws/errors';
import type { CommandSpec } from '../command';
import { addConfigOption, numberOption, optionalPlanFromOptions } from '../options';
import { jsonText, type Printer } from '../printer';

function topOf(opts: Record<string, unknown>): number {
  const raw = opts.top as string | undefined;
  return raw === undefined ? DEFAULT_TOP : numberOption(raw, '--top', { min: 1, max: 100, integer: true }, '10');
}

function printReport(printer: Printer, r: UsageReport, format: string): void {
  if (format === 'json') {
    printer.raw(jsonText(r));
    return;
  }
  if (format === 'csv') {
    printer.raw(toCsv(r));
    return;
  }
  const period = `${r.from ?? 'start of log'} – ${r.to ?? 'end of log'}`;
  printer.line(
    `usage for ${period}: ${plural(r.requests, 'request')}, ${humanBytes(r.totals.bytes)} (first ${r.firstRequest ?? '-'}, last ${r.lastRequest ?? '-'})`,
  );
  printer.table(TABLE_HEAD, tableRows(r));
  const denials = denialRows(r);
  if (denials.length > 0) {
    printer.line('top denials');
    printer.table(DENIALS_HEAD, denials);
  }
}

export const usage: CommandSpec = {
  name: 'usage',
  summary: 'per-tenant requests, bytes and denials from the access log: the charge-back report',
  configure: (cmd: Command) =>
    addConfigOption(cmd, 'it names the log group and region for --from-cloudwatch')
      .option('--log <file...>', 'access-log files (as written by the proxies; several files are summed)')
      .option('--from <time>', 'start of the period (inclusive): ISO 8601, epoch seconds, or a span before now such as 7d')
      .option('--to <time>', 'end of the period (exclusive), same forms as --from')
      .addOption(
        new Option('--format <format>', 'table or csv (machine-readable JSON: the global --json)')
          .choices(['table', 'csv', 'json'])
          .default('table'),
      )
      .option('--top <n>', `destinations and denials listed per tenant (default ${DEFAULT_TOP})`)
      .option('--from-cloudwatch', "read the hub's access-log group in CloudWatch Logs instead of files")
      .option('--log-group <name>', 'the log group to read (default: the one the hub of --config writes)')
      .option('--region <region>', 'AWS region of the log group (default: the config region, else the SDK default)'),
  run: async ({ printer, global }, opts) => {
    const files = (opts.log as string[] | undefined) ?? [];
    const cloud = Boolean(opts.fromCloudwatch);
    if (cloud && files.length > 0) throw new UsageError('pass either --log FILE... or --from-cloudwatch, not both');
    if (!cloud && files.length === 0)
      throw new UsageError(
        'usage needs input: --log /var/log/squid/access.log (files copied off the proxies) or --from-cloudwatch --log-group NAME',
      );
    const cloudOnly = (['logGroup', 'region'] as const).filter((k) => opts[k] !== undefined);
    if (!cloud && cloudOnly.length > 0)
      throw new UsageError(
        `${cloudOnly.map((k) => (k === 'logGroup' ? '--log-group' : '--region')).join(' and ')} apply to --from-cloudwatch; --log files are read as they are: add --from-cloudwatch or drop them`,
      );
    const now = Date.now();
    const from = opts.from === undefined ? undefined : parseTime(opts.from as string, '--from', now);
    const to = opts.to === undefined ? undefined : parseTime(opts.to as string, '--to', now);
    checkPeriod(from, to);
    const acc = new UsageAccumulator({ from, to, top: topOf(opts) });
    if (opts.format === 'json' && !global.json)
      printer.warn('--format json is now the global --json (egresshub --json usage …); --format json still works for now');
    const format = global.json ? 'json' : (opts.format as string);

    if (cloud) {
      const plan = optionalPlanFromOptions(opts);
      const logGroupName = (opts.logGroup as string | undefined) ?? plan?.hub.logGroups.access;
      if (!logGroupName)
        throw new UsageError(
          '--from-cloudwatch needs the log group: pass --log-group NAME or --config FILE (the hub writes /egresshub/<stack>/squid/access)',
        );
      const { pages, events } = await readCloudWatch(
        {
          logGroupName,
          startTime: from,
          endTime: to,
          region: opts.region === undefined ? plan?.region : checkRegion(opts.region as string),
        },
        acc,
        (page, n) => printer.step(`page ${page}: ${n} events so far`),
      );
      printer.step(`${plural(events, 'event')} in ${plural(pages, 'page')} from ${logGroupName}`);
    } else {
      await readLogFiles(files, acc, (f) => printer.step(`reading ${f}`));
    }

    const report = acc.report();
    if (report.malformed > 0) {
      printer.warn(
        `${report.malformed} of ${plural(report.lines, 'line')} ${report.malformed === 1 ? 'is not an egresshub access-log line and was' : 'are not egresshub access-log lines and were'} skipped:`,
      );
      for (const m of report.malformedSamples)
        printer.warn(`  ${terminalSafe(m.where)}: ${terminalSafe(m.reason)}: ${terminalSafe(m.line)}`);
    }
    if (report.outsidePeriod > 0)
      printer.step(`${plural(report.outsidePeriod, 'request')} outside the period ${report.outsidePeriod === 1 ? 'was' : 'were'} left out`);
    if (report.unattributed.requests > 0)
      printer.step(
        `${plural(report.unattributed.requests, 'line')} without a tenant (connections closed before a request) ${report.unattributed.requests === 1 ? 'was' : 'were'} left out`,
      );
    printReport(printer, report, format);
    return 0;
  },
};
