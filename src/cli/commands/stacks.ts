// `egresshub stacks --account ID`: the CDK stack IDs that deploy into one account, for
// `npx cdk deploy $(npx egresshub stacks --account …)`. A glob such as 'Spoke-*' would also pick spokes of
// other accounts, which cannot deploy with the hub account's credentials.
import { spokeStackId } from '../../app';
import { UsageError } from '../../config/errors';
import type { CommandSpec } from '../command';
import { addConfigOption, planFromOptions } from '../options';

const KINDS = ['hub', 'tenants', 'spokes'] as const;

export const stacks: CommandSpec = {
  name: 'stacks',
  summary: 'the CDK stack IDs that deploy into one account: npx cdk deploy $(npx egresshub stacks --account ID)',
  configure: (cmd) =>
    addConfigOption(cmd)
      .requiredOption('--account <id>', 'the AWS account whose stacks to list (the hub account, or a spoke account)')
      .option('--kind <kinds>', `only these kinds, comma-separated: ${KINDS.join(', ')} (default: all)`),
  run: ({ printer }, opts) => {
    const plan = planFromOptions(opts);
    const account = String(opts.account);
    if (!/^\d{12}$/.test(account)) throw new UsageError(`--account: expected a 12-digit AWS account ID (got ${account})`);
    const kinds = typeof opts.kind === 'string' ? opts.kind.split(',').map((k) => k.trim()) : [...KINDS];
    const unknown = kinds.filter((k) => !(KINDS as readonly string[]).includes(k));
    if (unknown.length > 0) throw new UsageError(`--kind: unknown kind ${unknown.join(', ')}; use ${KINDS.join(', ')}`);
    const hubAccount = plan.account === account;
    const ids = [
      ...(hubAccount && kinds.includes('hub') ? ['Hub'] : []),
      ...(hubAccount && kinds.includes('tenants') ? plan.tenantStacks.map((s) => s.id) : []),
      ...(kinds.includes('spokes') ? plan.spokes.filter((s) => s.account === account).map((s) => spokeStackId(s.id)) : []),
    ];
    if (ids.length === 0) {
      const accounts = [...new Set([plan.account, ...plan.spokes.map((s) => s.account)])];
      throw new UsageError(`no ${kinds.join('/')} stacks deploy into account ${account}; the config's accounts are ${accounts.join(', ')}`);
    }
    printer.data({ account, stacks: ids });
    for (const id of ids) printer.line(id);
    return 0;
  },
};
