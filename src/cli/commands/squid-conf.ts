// `egresshub squid-conf`: prints the squid.conf the hub's proxies run, byte for byte.
import { renderSquidConf } from '../../policy';
import type { CommandSpec } from '../command';
import { addConfigOption, planFromOptions } from '../options';

export const squidConf: CommandSpec = {
  name: 'squid-conf',
  summary: 'print the squid.conf the hub proxies run (generated from the config)',
  configure: (cmd) => addConfigOption(cmd),
  run: ({ printer }, opts) => {
    printer.raw(renderSquidConf(planFromOptions(opts)));
    return 0;
  },
};
