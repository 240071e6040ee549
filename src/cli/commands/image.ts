// `egresshub image show|refresh`: the proxies' AMI is decided once — pinned by hub.proxy.image, or the
// newest Amazon Linux 2023 image looked up by the first `cdk synth` with credentials and recorded in
// cdk.context.json — so a deploy replaces proxies only when the operator moves it with `image refresh`.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PLACEHOLDER_IMAGE, proxyImageOf, recordedContext } from '../../app';
import { UsageError } from '../../config/errors';
import type { CommandSpec } from '../command';
import { addConfigOption, planFromOptions } from '../options';

const CONTEXT_FILE = 'cdk.context.json';

const show: CommandSpec = {
  name: 'show',
  summary: 'which AMI the proxies run: pinned in the config, or recorded in cdk.context.json',
  configure: (cmd) => addConfigOption(cmd),
  run: ({ printer }, opts) => {
    const image = proxyImageOf(planFromOptions(opts));
    if (image.lookup === undefined) {
      printer.data({ source: 'config', imageId: image.pinned });
      printer.line(`${image.pinned} (pinned by hub.proxy.image)`);
      return 0;
    }
    const { key, parameterName } = image.lookup;
    const recorded = recordedContext()[key];
    printer.data({ source: 'context', contextKey: key, parameterName, imageId: typeof recorded === 'string' ? recorded : null });
    if (typeof recorded === 'string') printer.line(`${recorded} (recorded in ${CONTEXT_FILE} from ${parameterName})`);
    else
      printer.line(
        `not recorded yet: the first \`npx cdk synth\` or \`npx cdk deploy\` with AWS credentials looks up ${parameterName} and records it in ${CONTEXT_FILE} (offline templates carry ${PLACEHOLDER_IMAGE})`,
      );
    return 0;
  },
};

const refresh: CommandSpec = {
  name: 'refresh',
  summary: 'forget the recorded AMI, so the next `npx cdk deploy` moves the proxies to the newest Amazon Linux 2023 image',
  configure: (cmd) => addConfigOption(cmd),
  run: ({ printer }, opts) => {
    const image = proxyImageOf(planFromOptions(opts));
    if (image.pinned)
      throw new UsageError(`the config pins the image (hub.proxy.image: ${image.pinned}): change that value to move the proxies`);
    const { key, parameterName } = image.lookup!;
    const file = resolve(CONTEXT_FILE);
    // The same reading as `image show` and synth: a truncated, `null` or directory file is one clear line.
    const recorded = { ...recordedContext() };
    const old = recorded[key];
    printer.data({ contextKey: key, removed: typeof old === 'string' ? old : null });
    if (old === undefined) {
      printer.line(`nothing recorded for ${parameterName} in ${CONTEXT_FILE}: the next \`npx cdk deploy\` looks it up anyway`);
      return 0;
    }
    delete recorded[key];
    try {
      writeFileSync(file, `${JSON.stringify(recorded, null, 2)}\n`);
    } catch (e) {
      throw new UsageError(
        `cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}; check its permissions and the free space`,
      );
    }
    printer.line(
      `removed ${typeof old === 'string' ? old : JSON.stringify(old)} from ${CONTEXT_FILE}. Next: \`npx cdk diff Hub\` then \`npx cdk deploy Hub\` (with credentials) looks up`,
    );
    printer.line(`the newest image, records it, and replaces the proxies one at a time (single mode: an interruption; docs/hub.md).`);
    printer.line(`Commit ${CONTEXT_FILE} so every deploy uses the same image.`);
    return 0;
  },
};

export const image: CommandSpec = {
  name: 'image',
  summary: "the proxies' AMI: show it, or refresh it to the newest Amazon Linux 2023 image (show | refresh)",
  subcommands: [show, refresh],
};
