// `egresshub squid-conf`: prints the squid.conf the hub's proxies run, byte for byte.
import { renderSquidConf } from '../../policy';
import type { CommandSpec } from '../command';
import { addConfigOption, planFromOptions } from '../options';

export const squidConf: CommandSpec = {
  name: 'squid-conf',
  summary: 'print the squid.conf the hub proxies run (generated from the config)',
  configure: (cmd) => addConfigOption(cmd),
  run: ({ printer }, opts) => {
    const plan = planFromOptions(opts);
    const conf = renderSquidConf(plan);
    // --json wraps the file with what a script needs next (ports per tenant), instead of ignoring the flag.
    if (printer.json) printer.data({ squidConf: conf, tenants: plan.tenants.map((t) => ({ name: t.name, port: t.port })) });
    else printer.raw(conf);
    return 0;
  },
};
