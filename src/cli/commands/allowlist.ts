// `egresshub allowlist suggest`: a tenant's allowlist proposed from its own traffic (access-log files or the
// hub's CloudWatch Logs group), with the hosts, requests and bytes behind each entry, and what it would change.
import type { Command } from 'commander';
import { AllowlistLearner, diffAllowlist, renderSuggestion } from '../../allowlist/suggest';
import { UsageError } from '../../config/errors';
import { humanBytes, parseTime, readCloudWatch, readLogFiles } from '../../usage';
import { plural, terminalSafe } from '../../untrusted/text';
import { checkRegion } from '../../aws/errors';
import type { CommandSpec } from '../command';
import { jsonText } from '../printer';
import { addConfigOption, numberOption, planFromOptions } from '../options';

const suggest: CommandSpec = {
  name: 'suggest',
  summary: "propose a tenant's allowlist from its access-log lines (audit mode shows what enforcement would refuse)",
  configure: (cmd: Command) =>
    addConfigOption(cmd)
      .requiredOption('--tenant <name>', 'the tenant whose traffic to learn from')
      .option('--log <file...>', 'access-log files copied off the proxies (repeatable)')
      .option('--log-group <name>', "read CloudWatch Logs instead (the hub's access-log group: /egresshub/<stack>/squid/access)")
      .option('--since <time>', 'with --log-group: how far back, e.g. 7d, or an ISO 8601 time (default 7d)')
      .option('--region <region>', 'AWS region of the log group (default: the config region)')
      .option('--diff', "compare with the tenant's current allowlist: what would be added, what was never used")
      .option('--min-hosts <n>', 'hosts under one parent before they become *.parent (default 3)'),
  run: async ({ printer, global }, opts) => {
    const plan = planFromOptions(opts);
    const name = opts.tenant as string;
    const tenant = plan.tenants.find((t) => t.name === name);
    if (!tenant)
      throw new UsageError(`--tenant ${name}: no such tenant in the config; it has ${plan.tenants.map((t) => t.name).join(', ')}`);
    const files = (opts.log as string[] | undefined) ?? [];
    const group = opts.logGroup as string | undefined;
    if (files.length > 0 && group) throw new UsageError('pass either --log FILE... or --log-group NAME, not both');
    if (files.length === 0 && !group)
      throw new UsageError(`allowlist suggest needs traffic: --log access.log (repeatable) or --log-group ${plan.hub.logGroups.access}`);
    for (const [key, flag] of [
      ['since', '--since'],
      ['region', '--region'],
    ] as const)
      if (opts[key] !== undefined && !group) throw new UsageError(`${flag} applies to --log-group; log files are read whole`);
    const minHosts = numberOption((opts.minHosts as string | undefined) ?? '3', '--min-hosts', { min: 2, max: 1000, integer: true }, '3');

    const learner = new AllowlistLearner(name);
    if (group) {
      const startTime = parseTime((opts.since as string | undefined) ?? '7d', '--since');
      const { events } = await readCloudWatch(
        {
          logGroupName: group,
          startTime,
          region: opts.region === undefined ? plan.region : checkRegion(opts.region as string),
          flag: '--log-group',
          narrowWith: '--since',
        },
        learner,
        (page, n) => printer.step(`page ${page}: ${n} events so far`),
      );
      printer.step(`${plural(events, 'event')} from ${group}`);
    } else {
      await readLogFiles(files, learner, (f) => printer.step(`reading ${f}`));
    }
    const s = learner.suggestion({ minHostsPerWildcard: minHosts });
    if (s.malformed > 0) {
      printer.warn(
        `${s.malformed} of ${plural(s.lines, 'line')} ${s.malformed === 1 ? 'is not an egresshub access-log line and was' : 'are not egresshub access-log lines and were'} skipped:`,
      );
      for (const m of s.malformedSamples) printer.warn(`  ${terminalSafe(m.where)}: ${terminalSafe(m.reason)}`);
    }
    if (s.invalid > 0)
      printer.warn(
        `${plural(s.invalid, 'request')} named hosts that no allowlist entry may hold (as validate checks them) and were not proposed, e.g. ${s.invalidSamples.map((h) => `"${terminalSafe(h)}"`).join(', ')}`,
      );
    if (s.internal > 0) printer.step(`${plural(s.internal, 'request')} to internal addresses or IP literals: never proposed`);
    const diff = opts.diff ? diffAllowlist(tenant, s) : undefined;
    if (global.json) {
      printer.raw(jsonText({ ...s, diff }));
      return 0;
    }
    printer.raw(renderSuggestion(s, humanBytes));
    if (diff) {
      if (diff.any) printer.line(`${name} allows "*": every host above is already allowed; the proposal is what a narrower list needs`);
      else {
        printer.line(`would add (${diff.add.length}): ${diff.add.map((e) => e.pattern).join(', ') || 'nothing'}`);
        printer.line(`never used in these logs (${diff.unused.length}): ${diff.unused.join(', ') || 'none'}`);
      }
    }
    return 0;
  },
};

export const allowlist: CommandSpec = {
  name: 'allowlist',
  summary: 'allowlists learned from traffic (suggest)',
  subcommands: [suggest],
};
