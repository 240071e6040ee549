// `egresshub diff OLD.yaml NEW.yaml`: synthesizes both configs offline and shows, per stack, what a
// `cdk deploy` of NEW over OLD adds, removes, replaces or updates, highlighting the resources users hold.
// `--from DIR` takes the old side from an earlier release's cloud assembly and `--deployed` from CloudFormation,
// so a release upgrade gets the same judgement as a config change.
// Exit 3 with --fail-on-replace when one of those would be replaced (docs/operations.md).
import { spokeStackId } from '../../app';
import { buildPlan, loadConfigFile, type EgressPlan } from '../../config';
import { ConfigError, UsageError } from '../../config/errors';
import { DEFAULT_CONFIG_FILE } from '../../config/load';
import {
  checkSameHub,
  DEPLOYED_PERMISSIONS,
  diffApps,
  handoffsOf,
  hubChangeWarnings,
  hubStacksOf,
  proxyReplacementWarning,
  readAssemblyFrom,
  readDeployed,
  refusedChanges,
  rolloutCommands,
  snapshotOf,
  type AppDiff,
  type AppSnapshot,
  type Impact,
  type ResourceChange,
  type StackSet,
  type StackDiff,
} from '../../diff';
import { bandwidthChanges, policyInAssembly } from '../../diff/policy';
import { renderSquidConf } from '../../policy';
import type { CommandSpec } from '../command';
import { plural } from '../../untrusted/text';
import type { Printer } from '../printer';

/** Exit code of `--fail-on-replace` when a resource users hold would be replaced. */
export const EXIT_REPLACES = 3;
/** Exit code when the deploy would go wrong: a consumer left stale, a replacement that keeps a fixed name. */
export const EXIT_PROBLEMS = 4;

export const diff: CommandSpec = {
  name: 'diff',
  summary:
    "show what deploying NEW over OLD (a config, an earlier release's cloud assembly or the deployed stacks) adds, removes, replaces or updates in every stack, and what users would lose",
  configure: (cmd) =>
    cmd
      .argument('[old]', 'the config that is deployed now (not with --from or --deployed)')
      .argument('[new]', `the config you mean to deploy (with --from or --deployed: the only argument, default ./${DEFAULT_CONFIG_FILE})`)
      .option(
        '--from <dir>',
        'compare with a cloud assembly instead of an OLD config: the cdk.out an earlier egresshub release synthesized (egresshub synth or cdk synth) for what is deployed, to preview a release upgrade',
      )
      .option(
        '--deployed',
        `compare with the templates deployed now in the hub's account (AWS credentials: ${DEPLOYED_PERMISSIONS}); stacks in other accounts are not read`,
      )
      .option(
        '--fail-on-replace',
        `exit ${EXIT_REPLACES} when a resource users hold would be replaced (resource gateway, resource configuration, spoke endpoint, RAM share, proxy ENI, Elastic IP, VPC, subnet)`,
      )
      .addHelpText(
        'after',
        [
          '',
          'Examples:',
          '  egresshub diff deployed.yaml egresshub.yaml            a config change, under this release',
          '  egresshub diff --from cdk.out.deployed egresshub.yaml  a release upgrade: the assembly the old release synthesized',
          '  egresshub diff --deployed egresshub.yaml               against what CloudFormation holds now (credentials)',
        ].join('\n'),
      ),
  run: async ({ printer }, opts, args) => {
    const source = sourceOf(opts, args);
    const { before, after, plan, oldLabel, oldPolicy, oldPlan } = await sides(printer, source);
    const newFile = source.newFile;
    const result = diffApps(before, after, handoffsOf(plan, spokeStackId));
    const failOnReplace = opts.failOnReplace === true;
    const code = result.problems.length > 0 ? EXIT_PROBLEMS : failOnReplace && result.replacedProtected.length > 0 ? EXIT_REPLACES : 0;
    const proxyWarning = result.proxies.length > 0 ? proxyReplacementWarning(plan.hub.proxy.mode) : undefined;
    // Hub changes the templates do not spell out (NAT mode): only between two configs, where the old plan is known.
    const hubWarnings = oldPlan ? hubChangeWarnings(oldPlan, plan) : [];
    const rollouts = result.rollouts.map((r) => ({ ...r, commands: rolloutCommands(r, newFile) }));

    const bandwidth = oldPolicy === undefined ? undefined : bandwidthChanges(oldPolicy, renderSquidConf(plan));

    printer.data({
      old: oldLabel,
      oldKind: source.kind,
      new: newFile,
      ...result,
      rollouts,
      proxyWarning,
      hubWarnings,
      bandwidth,
      exitCode: code,
    });
    render(printer, result);
    for (const w of hubWarnings) printer.warn(w);
    for (const l of bandwidth ?? []) printer.line(l);
    if (proxyWarning) {
      printer.warn(proxyWarning);
      for (const p of result.proxies) printer.line(printer.dim(`  ${p.stack} ${p.logicalId}: ${p.because.join('; ')}`));
    }
    for (const r of rollouts) {
      printer.warn(
        `${r.consumerStackName} (${r.environment}) is in another account: its ${r.parameter} changes (${r.producerStackName} output ${r.outputName}: ${r.why}). After deploying the hub, roll it there:`,
      );
      for (const c of r.commands) printer.line(`  ${c}`);
    }
    for (const p of result.problems) printer.error(p.message);
    if (result.problems.length > 0)
      printer.error(`${plural(result.problems.length, 'problem')}: this deploy would go wrong (exit ${EXIT_PROBLEMS})`);
    else if (code !== 0)
      printer.error(`${plural(result.replacedProtected.length, 'resource')} users hold would be replaced (--fail-on-replace)`);
    return code;
  },
};

type Source =
  | { readonly kind: 'configs'; readonly oldFile: string; readonly newFile: string }
  | { readonly kind: 'assembly'; readonly dir: string; readonly newFile: string }
  | { readonly kind: 'deployed'; readonly newFile: string };

const FORMS = 'egresshub diff OLD.yaml NEW.yaml, egresshub diff --from OLD_ASSEMBLY_DIR [NEW.yaml] or egresshub diff --deployed [NEW.yaml]';

/** Which "before" the command line asks for; one form at a time. */
function sourceOf(opts: Record<string, unknown>, args: readonly (string | undefined)[]): Source {
  const given = args.filter((a): a is string => a !== undefined);
  const from = typeof opts.from === 'string' ? opts.from : undefined;
  const deployed = opts.deployed === true;
  if (from !== undefined && deployed) throw new UsageError(`--from and --deployed are two sources of the old side: give one (${FORMS})`);
  if (from !== undefined || deployed) {
    const flag = from !== undefined ? `--from ${from}` : '--deployed';
    if (given.length > 1)
      throw new UsageError(`${flag} takes the place of OLD: give only the new config (${given.join(' ')} given); ${FORMS}`);
    const newFile = given[0] ?? DEFAULT_CONFIG_FILE;
    return from !== undefined ? { kind: 'assembly', dir: from, newFile } : { kind: 'deployed', newFile };
  }
  if (given.length < 2) throw new UsageError(`missing required argument '${given.length === 0 ? 'old' : 'new'}': ${FORMS}`);
  return { kind: 'configs', oldFile: given[0]!, newFile: given[1]! };
}

interface Sides {
  readonly before: StackSet;
  readonly after: AppSnapshot;
  /** The new config's plan. */
  readonly plan: EgressPlan;
  /** What the old side is, for --json: the OLD file, the --from directory or `deployed`. */
  readonly oldLabel: string;
  /** The running policy (squid.conf), where the old side has it: compared for what tenants' bandwidth does. */
  readonly oldPolicy?: string;
  /** The old config's plan, when the old side is a config. */
  readonly oldPlan?: EgressPlan;
}

/** Both sides of the diff, every input checked before anything is synthesized or read from AWS. */
async function sides(printer: Printer, source: Source): Promise<Sides> {
  if (source.kind === 'configs') {
    const [oldPlan, plan] = loadBoth(source.oldFile, source.newFile);
    const refused = refusedChanges(oldPlan, plan);
    if (refused.length > 0)
      throw new UsageError(`${source.newFile}: refused change(s) from ${source.oldFile}:\n${refused.map((r) => `  ${r}`).join('\n')}`);
    printer.step(`synthesizing ${source.oldFile} (old): ${plural(stackCount(oldPlan), 'stack')}`);
    const before = snapshotOf(oldPlan);
    printer.step(`synthesizing ${source.newFile} (new): ${plural(stackCount(plan), 'stack')}`);
    return { before, after: snapshotOf(plan), plan, oldLabel: source.oldFile, oldPolicy: renderSquidConf(oldPlan), oldPlan };
  }
  const plan = loadOne(source.newFile);
  if (source.kind === 'assembly') {
    const stacks = readAssemblyFrom(source.dir);
    checkSameHub(stacks, plan, `--from ${source.dir}`, source.newFile);
    const { stacks: ours, others } = hubStacksOf(stacks, plan);
    printer.step(`read ${source.dir} (old cloud assembly): ${plural(ours.length, 'stack')} of hub ${plan.name}`);
    if (others.length > 0) printer.step(`left out, not this hub's stacks: ${others.map((s) => s.stackName).join(', ')}`);
    printer.step(`synthesizing ${source.newFile} (new, this release): ${plural(stackCount(plan), 'stack')}`);
    const oldPolicy = policyInAssembly(source.dir, plan.name);
    if (oldPolicy === undefined)
      printer.warn(
        `${source.dir} holds no squid.conf of hub ${plan.name} (a trimmed assembly?): what the policy change does to tenants' bandwidth is not shown`,
      );
    return { before: { stacks: ours }, after: snapshotOf(plan), plan, oldLabel: source.dir, oldPolicy };
  }
  printer.step(`synthesizing ${source.newFile} (new, this release): ${plural(stackCount(plan), 'stack')}`);
  const after = snapshotOf(plan);
  printer.step(`reading the deployed templates in account ${plan.account} (DescribeStacks, GetTemplate)`);
  const deployed = await readDeployed(after.stacks, { stackName: plan.hub.stackName, account: plan.account });
  for (const name of deployed.notDeployed) printer.step(`${name} is not deployed: shown as a new stack`);
  for (const s of deployed.notRead)
    printer.warn(
      `${s.stackName} (${s.environment}) is in another account: its deployed template was not read, so only the values handed to it are compared; run egresshub diff --deployed with that account's credentials for the rest`,
    );
  return { before: { stacks: deployed.stacks }, after, plan, oldLabel: 'deployed' };
}

function loadOne(file: string): EgressPlan {
  try {
    return buildPlan(loadConfigFile(file, `diff needs the new config: ${FORMS}`));
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message.replace(/^invalid config/, `invalid config ${file}`));
    throw e;
  }
}

/** Both configs are checked before either is synthesized, and every problem in both is reported. */
function loadBoth(oldFile: string, newFile: string): [EgressPlan, EgressPlan] {
  const errors: string[] = [];
  const load = (file: string) => {
    try {
      return buildPlan(loadConfigFile(file, 'diff takes two config files: egresshub diff OLD.yaml NEW.yaml'));
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      errors.push(e instanceof ConfigError ? e.message.replace(/^invalid config/, `invalid config ${file}`) : e.message);
      return undefined;
    }
  };
  const plans = [load(oldFile), load(newFile)];
  if (errors.length > 0) throw new UsageError(errors.join('\n'));
  return plans as [EgressPlan, EgressPlan];
}

function stackCount(plan: EgressPlan): number {
  return 1 + plan.tenantStacks.length + plan.spokes.length;
}

/** Worst first: what users lose, then what goes away, what is new, what changes in place. */
const IMPACT_ORDER: readonly Impact[] = ['replace', 'may-replace', 'remove', 'add', 'update'];

function render(printer: Printer, result: AppDiff): void {
  for (const stack of result.stacks) {
    printer.line(printer.bold(`${stack.stackName}: ${stackLine(stack)}`));
    if (stack.resources.length === 0) continue;
    const rows = [...stack.resources].sort(
      (a, b) =>
        IMPACT_ORDER.indexOf(a.impact) - IMPACT_ORDER.indexOf(b.impact) ||
        a.type.localeCompare(b.type) ||
        a.logicalId.localeCompare(b.logicalId),
    );
    printer.table(
      ['impact', 'type', 'logical ID', 'properties'],
      rows.map((r) => [impactCell(printer, r), r.type, r.logicalId, propertiesCell(r)]),
    );
    // Why the resources users hold change when their own text does not say it (a value from another stack,
    // a replaced resource they reference), and instance roll-outs; --json has every reason.
    if (stack.status === 'changed') {
      for (const r of rows.filter((x) => x.protected || x.because.some((b) => b.includes('UpdatePolicy')))) {
        for (const why of r.because) printer.line(printer.dim(`  ${r.logicalId}: ${why}`));
      }
    }
  }
  if (result.replacedProtected.length > 0 || result.removedProtected.length > 0) {
    printer.line(printer.dim('! = a resource users hold (a spoke endpoint, an ARN, an allowlisted IP): replacing it breaks them'));
  }
  const c = result.counts;
  printer.line(
    `${c.add} to add, ${c.update} to update, ${c.replace + c['may-replace']} to replace${c['may-replace'] ? ` (${c['may-replace']} may)` : ''}, ${c.remove} to remove`,
  );
  const summary = result.replacedProtected.length > 0 ? printer.bad(result.summary) : printer.ok(result.summary);
  printer.line(summary);
}

function stackLine(stack: StackDiff): string {
  const n = (impact: Impact) => stack.resources.filter((r) => r.impact === impact).length;
  const counts = (['add', 'update', 'replace', 'may-replace', 'remove'] as const)
    .filter((i) => n(i) > 0)
    .map((i) => `${n(i)} ${i}`)
    .join(', ');
  switch (stack.status) {
    case 'unchanged':
      return stack.stale?.length
        ? `STALE: template unchanged, so cdk deploy skips it, but it reads values that change (${stack.stale.join('; ')})`
        : 'skipped (template and parameters unchanged)';
    case 'added':
      return `new stack (${counts})`;
    case 'removed':
      return `no longer in the app: cdk deploy leaves it running; delete it with aws cloudformation delete-stack --stack-name ${stack.stackName} (${counts})`;
    case 'renamed':
      return `new stack replacing ${stack.previousStackName ?? '?'}, which keeps running until deleted (${counts})`;
    default:
      return counts || 'outputs only';
  }
}

function impactCell(printer: Printer, r: ResourceChange): string {
  const hurts = r.protected && (r.impact === 'replace' || r.impact === 'may-replace' || r.impact === 'remove');
  if (!hurts) return r.impact;
  return r.impact === 'remove' ? printer.bold(`${r.impact} !`) : printer.bad(printer.bold(`${r.impact.toUpperCase()} !`));
}

function propertiesCell(r: ResourceChange): string {
  if (r.impact === 'replace' || r.impact === 'may-replace') return r.replacedBy.join(', ');
  if (r.impact === 'update') return r.changed.join(', ');
  return '';
}
