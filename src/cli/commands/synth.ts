// `egresshub synth`: writes the hub's and spokes' CloudFormation templates into a directory, offline
// (no credentials, no lookups), and shows what it wrote.
import { PLACEHOLDER_IMAGE, proxyImageOf, recordedContext, synthesize } from '../../app';
import type { CommandSpec } from '../command';
import { plural } from '../../untrusted/text';
import { addConfigOption, planFromOptions } from '../options';
import { removeCreated, writableDir } from '../paths';

export const synth: CommandSpec = {
  name: 'synth',
  summary: 'write the hub and spoke CloudFormation templates (*.template.json) into a directory, offline',
  configure: (cmd) => addConfigOption(cmd).option('-o, --out <dir>', 'output directory (a CDK cloud assembly)', 'cdk.out'),
  run: ({ printer }, opts) => {
    const plan = planFromOptions(opts);
    const { abs: out, created } = writableDir('--out', typeof opts.out === 'string' ? opts.out : 'cdk.out');
    printer.step(
      `synthesizing hub ${plan.hub.stackName}, ${plural(plan.tenantStacks.length, 'tenant stack')} and ${plural(plan.spokes.length, 'spoke stack')} into ${out}`,
    );
    let stacks: ReturnType<typeof synthesize>['stacks'];
    try {
      ({ stacks } = synthesize(plan, out));
    } catch (e) {
      removeCreated(created);
      throw e;
    }
    printer.step(`wrote ${plural(stacks.length, 'template')}`);
    const image = proxyImageOf(plan);
    if (image.lookup && recordedContext()[image.lookup.key] === undefined) {
      printer.warn(
        `the proxy image is not recorded yet: the templates carry ${PLACEHOLDER_IMAGE}; the first \`npx cdk synth\` with AWS credentials records the newest Amazon Linux 2023 image in cdk.context.json (or set hub.proxy.image)`,
      );
    }
    printer.data({ outDir: out, stacks });
    printer.table(
      ['stack', 'resources', 'size', 'template'],
      stacks.map((s) => [s.stackName, s.resources, `${(s.bytes / 1024).toFixed(1)} KiB`, s.file]),
    );
    return 0;
  },
};
