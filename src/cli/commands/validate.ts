// `egresshub validate`: checks the config and summarises what it would build.
import type { CommandSpec } from '../command';
import { addConfigOption, planFromOptions } from '../options';

export const validate: CommandSpec = {
  name: 'validate',
  summary: 'check the config file and show the tenants and spokes it describes',
  configure: (cmd) => addConfigOption(cmd),
  run: ({ printer }, opts) => {
    const plan = planFromOptions(opts);
    printer.data({ valid: true, plan });
    printer.line(
      `${printer.ok('✓')} ${String(opts.config)} is valid: hub ${plan.hub.cidr} in ${plan.hub.availabilityZones.join(', ')} (${plan.region}, account ${plan.account})`,
    );
    printer.table(
      ['tenant', 'port', 'allow', 'shared with'],
      plan.tenants.map((t) => [
        t.name,
        t.port,
        (t.allow.any ? '* (any public)' : [...t.allow.exact, ...t.allow.suffixes.map((s) => `*.${s}`)].join(', ')) +
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
    return 0;
  },
};
