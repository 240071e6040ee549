// `egresshub client-env`: the proxy environment a project server needs, as shell lines or JSON.
import { clientEnv, toShell } from '../../client/env';
import { userDataScript } from '../../client/setup-script';
import { UsageError } from '../../config/errors';
import type { CommandSpec } from '../command';
import { addConfigOption, noProxyList, noProxyOption, planFromOptions } from '../options';

export const clientEnvCommand: CommandSpec = {
  name: 'client-env',
  summary: "print the HTTP(S)_PROXY / NO_PROXY lines for a tenant's servers",
  configure: (cmd) => {
    addConfigOption(cmd)
      .requiredOption('-t, --tenant <name>', 'the tenant whose proxy to use')
      .option('--vpc-cidr <cidr>', "the project VPC's CIDR (default: from the config's spokes of the tenant)")
      .option('--proxy-host <host>', 'proxy host name when the config has no dns section (the resource endpoint DNS name)')
      .option('--s3', 'keep S3 off the proxy (the VPC has an S3 gateway endpoint)', false)
      .addOption(noProxyOption('extra comma-separated NO_PROXY entries'))
      .option('--user-data', 'print a launch-template user-data script that configures the host at boot (docs/client.md)', false)
      .option('--remove', 'with --user-data: a script that removes the settings again', false);
  },
  run: ({ printer }, opts) => {
    const plan = planFromOptions(opts);
    const extra = noProxyList(opts);
    const env = clientEnv(plan, String(opts.tenant), {
      vpcCidr: opts.vpcCidr as string | undefined,
      proxyHost: opts.proxyHost as string | undefined,
      s3: opts.s3 === true,
      noProxy: extra,
    });
    if (opts.remove === true && opts.userData !== true) throw new UsageError('--remove only applies to --user-data; add --user-data');
    const action = opts.remove === true ? 'remove' : 'apply';
    if (opts.userData === true && printer.json) printer.data({ ...env, action, userData: userDataScript(env, action, env.tenant) });
    else if (opts.userData === true) printer.raw(userDataScript(env, action, env.tenant));
    else if (printer.json) printer.data(env);
    else printer.raw(toShell(env));
    return 0;
  },
};
