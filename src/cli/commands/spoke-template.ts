// `egresshub spoke-template`: the plain CloudFormation template a tenant deploys in its own VPC
// without CDK (parameters VpcId, SubnetIds, VpcCidr, ResourceConfigurationArn; the port baked in).
import { spokeTemplate as render } from '../../spoke';
import type { CommandSpec } from '../command';
import { addConfigOption, configFile, planFromOptions } from '../options';
import { writableFile, writeOutput } from '../paths';

export const spokeTemplate: CommandSpec = {
  name: 'spoke-template',
  summary: "print a tenant's standalone spoke CloudFormation template (JSON) for teams that don't use CDK",
  configure: (cmd) =>
    addConfigOption(cmd)
      .requiredOption('-t, --tenant <name>', 'the tenant whose spoke this is')
      .option('-o, --out <file>', 'write the template to FILE instead of stdout'),
  run: ({ printer }, opts) => {
    const out =
      typeof opts.out === 'string'
        ? writableFile('--out', opts.out, 'spoke.json', [{ option: '--config', path: configFile(opts) }])
        : undefined;
    const plan = planFromOptions(opts);
    const json = `${JSON.stringify(render(plan, String(opts.tenant)), null, 2)}\n`;
    if (out !== undefined) {
      writeOutput('--out', out, json);
      printer.step(`wrote ${String(opts.out)}`);
    } else {
      printer.raw(json);
    }
    return 0;
  },
};
