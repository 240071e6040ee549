// `egresshub diff OLD.yaml NEW.yaml`: synthesizes both configs offline and shows, per stack, what a
// `cdk deploy` of NEW over OLD adds, removes, replaces or updates, highlighting the resources users hold.
// Exit 3 with --fail-on-replace when one of those would be replaced (docs/operations.md).
import { spokeStackId } from '../../app';
import { buildPlan, loadConfigFile, type EgressPlan } from '../../config';
import { ConfigError, UsageError } from '../../config/errors';
import {
  diffApps,
  handoffsOf,
  hubChangeWarnings,
  proxyReplacementWarning,
  refusedChanges,
  rolloutCommands,
  snapshotOf,
  type AppDiff,
  type Impact,
  type ResourceChange,
  type StackDiff,
} from '../../diff';
import type { CommandSpec } from '../command';
import { plural } from '../../untrusted/text';
import type { Printer } from '../printer';

/** Exit code of `--fail-on-replace` when a resource users hold would be replaced. */
export const EXIT_REPLACES = 3;
/** Exit code when the deploy would go wrong: a consumer left stale, a replacement that keeps a fixed name. */
export const EXIT_PROBLEMS = 4;

export const diff: CommandSpec = {
  name: 'diff',
  summary: 'show what deploying NEW over OLD adds, removes, replaces or updates in every stack (offline), and what users would lose',
  configure: (cmd) =>
    cmd
      .argument('<old>', 'the config that is deployed now')
      .argument('<new>', 'the config you mean to deploy')
      .option(
        '--fail-on-replace',
        `exit ${EXIT_REPLACES} when a resource users hold would be replaced (resource gateway, resource configuration, spoke endpoint, RAM share, proxy ENI, Elastic IP, VPC, subnet)`,
      ),
  run: ({ printer }, opts, args) => {
    const [oldFile, newFile] = args as [string, string];
    const [oldPlan, newPlan] = loadBoth(oldFile, newFile);
    const refused = refusedChanges(oldPlan, newPlan);
    if (refused.length > 0)
      throw new UsageError(`${newFile}: refused change(s) from ${oldFile}:\n${refused.map((r) => `  ${r}`).join('\n')}`);
    printer.step(`synthesizing ${oldFile} (old): ${plural(stackCount(oldPlan), 'stack')}`);
    const before = snapshotOf(oldPlan);
    printer.step(`synthesizing ${newFile} (new): ${plural(stackCount(newPlan), 'stack')}`);
    const after = snapshotOf(newPlan);
    const result = diffApps(before, after, handoffsOf(newPlan, spokeStackId));
    const failOnReplace = opts.failOnReplace === true;
    const code = result.problems.length > 0 ? EXIT_PROBLEMS : failOnReplace && result.replacedProtected.length > 0 ? EXIT_REPLACES : 0;
    const proxyWarning = result.proxies.length > 0 ? proxyReplacementWarning(newPlan.hub.proxy.mode) : undefined;
    const hubWarnings = hubChangeWarnings(oldPlan, newPlan);
    const rollouts = result.rollouts.map((r) => ({ ...r, commands: rolloutCommands(r, newFile) }));

    printer.data({ old: oldFile, new: newFile, ...result, rollouts, proxyWarning, hubWarnings, exitCode: code });
    render(printer, result);
    for (const w of hubWarnings) printer.warn(w);
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
