// `egresshub validate`: checks the config and summarises what it would build.
import type { CommandSpec } from '../command';
import { addConfigOption, configFile, planFromOptions } from '../options';
import { planWarnings } from '../../config/warnings';
import { plural } from '../../untrusted/text';

/** Allow entries shown per tenant in the table: 50,000 of them in one cell made a 14 MB table nobody reads. */
const SHOWN_ENTRIES = 20;

function shortList(entries: readonly string[]): string {
  if (entries.length <= SHOWN_ENTRIES) return entries.join(', ');
  const more = entries.length - SHOWN_ENTRIES;
  return `${entries.slice(0, SHOWN_ENTRIES).join(', ')} … and ${plural(more, 'more entry', 'more entries')} (--json lists all)`;
}

export const validate: CommandSpec = {
  name: 'validate',
  summary: 'check the config file and show the tenants and spokes it describes',
  configure: (cmd) => addConfigOption(cmd),
  run: ({ printer }, opts) => {
    const plan = planFromOptions(opts);
    const warnings = planWarnings(plan);
    printer.data({ valid: true, warnings, plan });
    printer.line(
      `${printer.ok('✓')} ${configFile(opts)} is valid: hub ${plan.hub.cidr} in ${plan.hub.availabilityZones.join(', ')} (${plan.region}, account ${plan.account})`,
    );
    printer.table(
      ['tenant', 'port', 'allow', 'shared with'],
      plan.tenants.map((t) => [
        t.name,
        t.port,
        (t.allow.any ? '* (any public)' : shortList([...t.allow.exact, ...t.allow.suffixes.map((s) => `*.${s}`)])) +
          (t.mode === 'audit' ? ' (audit: logged, not enforced)' : ''),
        t.sharePrincipals.join(', ') || '(hub account)',
      ]),
    );
    if (plan.spokes.length > 0) {
      printer.table(
        ['spoke stack', 'tenant', 'account', 'vpc', 'cidr'],
        plan.spokes.map((s) => [s.stackName, s.tenant, s.account, s.vpcId, s.vpcCidr]),
      );
    }
    for (const w of warnings) printer.warn(w);
    return 0;
  },
};
