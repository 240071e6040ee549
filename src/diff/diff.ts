// What `cdk deploy` of a new config does to every stack of the old one: resources added, removed,
// replaced or updated. @aws-cdk/cloudformation-diff (the library behind `cdk diff`) knows from the
// CloudFormation registry which property changes replace a resource, and follows replacements inside a
// template; this module follows them across stacks too (a replaced gateway changes the hub output the
// tenant stacks read, a replaced configuration changes the ARN a spoke reads or is given as a parameter).
import { deepEqual, fullDiff, ResourceImpact, type ResourceDifference } from '@aws-cdk/cloudformation-diff';
import { parseBlock, relation } from '../cidr/block';
import { fleetModeNamed } from '../config/fleet-modes';
import { findTenant, type EgressPlan } from '../config/plan';
import { protectedReason } from './protected';
import type { AppSnapshot, CfnOutput, CfnResource, CfnTemplate, StackSnapshot } from './snapshot';

export type Impact = 'add' | 'remove' | 'replace' | 'may-replace' | 'update';

export interface ResourceChange {
  /** Name of the stack the resource is in (the new name when the stack was renamed). */
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  /** Construct path, e.g. `/Hub/Hub/ResourceGateway`. */
  readonly path?: string;
  readonly impact: Impact;
  /** The properties whose change replaces the resource (replace and may-replace only). */
  readonly replacedBy: readonly string[];
  /** Every changed property, dotted a few levels deep (`LaunchTemplateData.UserData`). */
  readonly changed: readonly string[];
  /** Why it changes when its own template text does not say it (a value from another stack, a new stack). */
  readonly because: readonly string[];
  /** Set for the resources users hold (protected.ts): what their replacement breaks. */
  readonly protected?: string;
  /** A removed resource whose construct reappears in another stack (where it is a replacement). */
  readonly movedTo?: string;
  /** A replaced resource that keeps its physical name (`Name=…`): the replacement fails. */
  readonly fixedName?: string;
}

/**
 * `unchanged`: template and parameters are the same, so `cdk deploy` skips the stack (and CloudFormation
 * does not resolve its references again).
 */
export type StackStatus = 'added' | 'removed' | 'renamed' | 'changed' | 'unchanged';

export interface StackDiff {
  /** Construct ID (`Hub`, `Tenants-3200`, `Spoke-…`). */
  readonly id: string;
  readonly stackName: string;
  /** For a renamed (or moved) stack: the stack it replaces. */
  readonly previousStackName?: string;
  readonly environment: string;
  readonly status: StackStatus;
  readonly resources: readonly ResourceChange[];
  readonly outputs: { readonly added: readonly string[]; readonly removed: readonly string[]; readonly changed: readonly string[] };
  /**
   * An unchanged (skipped) stack that reads values from other stacks which change: it would keep the old
   * values. Each entry says which value and why.
   */
  readonly stale?: readonly string[];
}

/** Something the deploy would get wrong: `egresshub diff` exits EXIT_PROBLEMS. */
export interface DiffProblem {
  readonly kind: 'stale-consumer' | 'fixed-name' | 'subnet-conflict';
  readonly stack: string;
  readonly logicalId?: string;
  readonly message: string;
}

/** Proxies the deploy replaces (a new launch template image, type or user data, new subnets). */
export interface ProxyReplacement {
  readonly stack: string;
  /** The launch template or Auto Scaling group that causes it. */
  readonly logicalId: string;
  readonly because: readonly string[];
}

/**
 * A value the operator hands to a stack in another account (a cross-account spoke's
 * `ResourceConfigurationArn` parameter): after the producer is deployed, roll it with rolloutCommands.
 */
export interface Rollout {
  readonly consumerStackId: string;
  readonly consumerStackName: string;
  /** `aws://<account>/<region>` of the consumer. */
  readonly environment: string;
  readonly parameter: string;
  readonly producerStackName: string;
  readonly producerRegion: string;
  readonly outputName: string;
  readonly why: string;
}

export interface AppDiff {
  readonly stacks: readonly StackDiff[];
  /** Resources users hold that are replaced (or may be): what `--fail-on-replace` exits 3 for. */
  readonly replacedProtected: readonly ResourceChange[];
  /** Resources users hold that are removed without a successor (a tenant or spoke left the config). */
  readonly removedProtected: readonly ResourceChange[];
  readonly counts: Readonly<Record<Impact, number>>;
  /** One line: "nothing users hold is replaced" or "REPLACES: …". */
  readonly summary: string;
  /** What the deploy would get wrong (stale consumers, a replacement that keeps a fixed name). */
  readonly problems: readonly DiffProblem[];
  /** Proxy instances the deploy replaces ("replaces proxies"); empty when every proxy stays. */
  readonly proxies: readonly ProxyReplacement[];
  /** Values to hand to stacks in other accounts, with rolloutCommands. */
  readonly rollouts: readonly Rollout[];
}

/**
 * A value an operator copies from one stack into another's parameter: a cross-account spoke gets its
 * tenant's resource configuration ARN as the `ResourceConfigurationArn` parameter (docs/hub.md).
 */
export interface Handoff {
  readonly consumerStackId: string;
  readonly parameter: string;
  /** The output feeding it, by construct path suffix (`/Tenants/<tenant>/ResourceConfigurationArn`). */
  readonly outputPathSuffix: string;
}

/** The parameters this app's spokes are handed by hand: every spoke without a direct reference. */
export function handoffsOf(plan: EgressPlan, stackIdOf: (spokeId: string) => string): Handoff[] {
  return plan.spokes
    .filter((s) => s.crossAccount || s.region !== plan.region)
    .map((s) => ({
      consumerStackId: stackIdOf(s.id),
      parameter: 'ResourceConfigurationArn',
      outputPathSuffix: `/Tenants/${findTenant(plan, s.tenant).name}/ResourceConfigurationArn`,
    }));
}

/**
 * Attributes that change on every update of their resource, so whatever reads them is updated too:
 * a launch template's new version rolls the Auto Scaling group that uses it.
 */
const VOLATILE_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  'AWS::EC2::LaunchTemplate': ['LatestVersionNumber'],
};

/** Marks a reference whose value changes at deploy time, so the template diff sees it change. */
const CHANGES = ' (changes at deploy)';
/** Key prefix of outputs in Marked.because (logical IDs never contain a slash). */
const OUTPUTS = 'Outputs/';

/**
 * The stacks on either side of a diff. `before` is a config's synth (`egresshub diff OLD NEW`), an earlier
 * release's cloud assembly (`--from`) or the templates deployed now (`--deployed`): one judgement, three sources.
 */
export type StackSet = Pick<AppSnapshot, 'stacks'>;

/**
 * What deploying `after` over stacks deployed from `before` does, stack by stack in deploy order (so a
 * producer's changed outputs are known before its consumers are diffed). `handoffs` names the parameters
 * an operator copies from one stack's outputs (handoffsOf).
 */
export function diffApps(before: StackSet, after: StackSet, handoffs: readonly Handoff[] = []): AppDiff {
  const pairs = pairStacks(before.stacks, after.stacks);
  // Outputs whose value changes, by `<region>/<stack name>` then output name: the reason.
  const changedOutputs = new Map<string, Map<string, string>>();
  const changedExports = new Map<string, string>();
  const stacks: StackDiff[] = [];
  const problems: DiffProblem[] = [];
  const rollouts: Rollout[] = [];

  for (const { old, cur } of pairs) {
    if (!cur) {
      stacks.push(removedStack(old!));
      continue;
    }
    const handed = handedParameters(cur, handoffs, after.stacks, changedOutputs);
    for (const h of handed.values()) rollouts.push({ ...h.rollout, consumerStackName: cur.stackName, environment: cur.environment });
    const result = !old
      ? addedStack(cur)
      : old.stackName !== cur.stackName || old.environment !== cur.environment
        ? renamedStack(old, cur)
        : changedStack(old, cur, { changedOutputs, changedExports, handed: new Map([...handed].map(([k, v]) => [k, v.why])) });
    stacks.push(result.diff);
    for (const why of result.diff.stale ?? []) {
      problems.push({
        kind: 'stale-consumer',
        stack: cur.stackName,
        message: `${cur.stackName} reads a value that changes, but its template does not change, so cdk deploy skips it and it keeps the old value (${why})`,
      });
    }
    if (old && old.stackName === cur.stackName && old.environment === cur.environment) {
      for (const message of subnetConflicts(old, cur, result.diff.resources))
        problems.push({ kind: 'subnet-conflict', stack: cur.stackName, message });
    }
    for (const r of result.diff.resources) {
      if (r.fixedName) {
        problems.push({
          kind: 'fixed-name',
          stack: r.stack,
          logicalId: r.logicalId,
          message: `${r.stack} ${r.logicalId} (${r.type}) is replaced but keeps its name ${r.fixedName}: CloudFormation creates the replacement before deleting the old one, so the deploy fails with a name clash${r.type === 'AWS::VpcLattice::ResourceGateway' ? '; raise hub.gatewayGeneration by one in the new config' : ''}`,
        });
      }
    }
    const outputs = changedOutputs.get(stackKey(cur)) ?? new Map<string, string>();
    for (const [name, why] of result.changedOutputs) outputs.set(name, why);
    changedOutputs.set(stackKey(cur), outputs);
    for (const [name, why] of result.changedOutputs) {
      const exportName = cur.template.Outputs?.[name]?.Export?.Name;
      if (typeof exportName === 'string') changedExports.set(exportName, why);
    }
  }

  const moved = markMoves(stacks);
  const all = moved.flatMap((s) => s.resources);
  const replacedProtected = all.filter((r) => r.protected && (r.impact === 'replace' || r.impact === 'may-replace'));
  const removedProtected = all.filter((r) => r.protected && r.impact === 'remove' && !r.movedTo);
  const counts = { add: 0, remove: 0, replace: 0, 'may-replace': 0, update: 0 };
  for (const r of all) counts[r.impact]++;
  return {
    stacks: moved,
    replacedProtected,
    removedProtected,
    counts,
    summary: summarize(all.length, replacedProtected, removedProtected),
    problems,
    proxies: all.flatMap((r) => proxyReplacement(r) ?? []),
    rollouts,
  };
}

/**
 * How long tenants lose the proxy when `single` mode replaces its only proxy (image, instance type, user
 * data, subnets): the Auto Scaling group keeps no instance in service, so the old proxy stops before the new
 * one has booted, installed Squid and taken over the fixed ENI. `seconds` is the lab's measurement
 * (docs/ha.md); until it is set, `estimate` is what diff prints, and says it is an estimate.
 */
export const SINGLE_MODE_REPLACEMENT_INTERRUPTION: { readonly seconds?: number; readonly estimate: string } = {
  estimate:
    'about 1.5-3 minutes on AWS (the new instance launches, boots and installs Squid: UNCONFIRMED, no account here); the lab measures the rest at 0.2 s (docs/ha.md)',
};

/** The warning `egresshub diff` prints when proxies are replaced, by fleet mode. */
export function proxyReplacementWarning(mode: string): string {
  if (fleetModeNamed(mode)?.replacement !== 'interruption') {
    return `replaces proxies: ${mode} replaces them one at a time with at least one in service (no interruption)`;
  }
  const { seconds, estimate } = SINGLE_MODE_REPLACEMENT_INTERRUPTION;
  const length = seconds === undefined ? estimate : `${seconds} s (measured in the lab: docs/ha.md)`;
  return `replaces proxies: single mode has one proxy, so every tenant loses the proxy for ${length}; schedule the deploy`;
}

/** Launch template data whose change gives the proxies a new instance: image, type, boot script. */
export const PROXY_REPLACING_DATA = ['LaunchTemplateData.ImageId', 'LaunchTemplateData.InstanceType', 'LaunchTemplateData.UserData'];

/**
 * Whether a change replaces proxy instances: a launch template whose image, instance type or user data
 * changes (any group using it starts new instances), or an Auto Scaling group that rolls or is replaced.
 */
function proxyReplacement(r: ResourceChange): ProxyReplacement | undefined {
  // A renamed stack's proxies are new ones beside the old stack's, which keeps running.
  if (r.replacedBy.includes('(new stack)')) return undefined;
  const base = { stack: r.stack, logicalId: r.logicalId };
  if (r.type === 'AWS::EC2::LaunchTemplate' && r.impact !== 'add' && r.impact !== 'remove') {
    const data = r.changed.filter((p) => PROXY_REPLACING_DATA.some((d) => p === d || p.startsWith(`${d}.`)));
    const whole = r.changed.includes('LaunchTemplateData') || r.impact === 'replace' || r.impact === 'may-replace';
    if (data.length > 0 || whole)
      return { ...base, because: [`new ${(data.length > 0 ? data : ['LaunchTemplateData']).map((p) => p.split('.').pop()).join(', ')}`] };
  }
  if (r.type === 'AWS::AutoScaling::AutoScalingGroup') {
    if (r.impact === 'replace' || r.impact === 'may-replace') return { ...base, because: ['the group is replaced'] };
    const rolls = r.because.filter((b) => b.includes('UpdatePolicy'));
    if (r.impact === 'update' && rolls.length > 0) return { ...base, because: [`${r.changed.join(', ')} changes: ${rolls[0]}`] };
  }
  return undefined;
}

/**
 * The commands that roll a handed-in value to its stack in another account: read the producer's output
 * (hub account credentials), then deploy the consumer with it (credentials of the consumer's account),
 * with the CDK app or with the standalone spoke template.
 */
export function rolloutCommands(r: Rollout, configFile: string): string[] {
  const [account, region] = r.environment.replace(/^aws:\/\//, '').split('/');
  const read =
    `VALUE=$(aws cloudformation describe-stacks --region ${r.producerRegion} --stack-name ${r.producerStackName} ` +
    `--query "Stacks[0].Outputs[?OutputKey=='${r.outputName}'].OutputValue" --output text)`;
  return [
    `${read}  # hub account`,
    `npx cdk deploy -c config=${configFile} ${r.consumerStackId} --parameters "${r.parameter}=$VALUE"  # account ${account}, ${region}`,
    `# or, with the standalone spoke template: aws cloudformation deploy --region ${region} --stack-name ${r.consumerStackName} --template-file spoke.json --parameter-overrides "${r.parameter}=$VALUE"`,
  ];
}

function summarize(changes: number, replaced: readonly ResourceChange[], removed: readonly ResourceChange[]): string {
  if (changes === 0) return 'no changes';
  const parts = [replaced.length === 0 ? 'nothing users hold is replaced' : `REPLACES: ${byType(replaced)}`];
  if (removed.length > 0) parts.push(`removes: ${byType(removed)}`);
  return parts.join('; ');
}

/** `ResourceGateway ×1, ResourceConfiguration ×2 (1 may)` in the order found. */
function byType(changes: readonly ResourceChange[]): string {
  const groups = new Map<string, { n: number; may: number }>();
  for (const r of changes) {
    const g = groups.get(r.type) ?? { n: 0, may: 0 };
    g.n++;
    if (r.impact === 'may-replace') g.may++;
    groups.set(r.type, g);
  }
  return [...groups].map(([type, g]) => `${type.split('::').pop()} ×${g.n}${g.may ? ` (${g.may} may)` : ''}`).join(', ');
}

/**
 * A construct that leaves one stack and appears in another (a tenant whose port moved to another block)
 * is a new physical resource: show it as replaced where it appears, and as moved where it leaves.
 */
function markMoves(stacks: readonly StackDiff[]): StackDiff[] {
  const relative = (r: ResourceChange) => r.path?.replace(/^\/[^/]+/, '');
  const removed = stacks.flatMap((s) => s.resources.filter((r) => r.impact === 'remove' && r.path));
  const movedTo = new Map<ResourceChange, string>();
  const result = stacks.map((s) => ({
    ...s,
    resources: s.resources.map((r) => {
      if (r.impact !== 'add' || !r.path) return r;
      const from = removed.find((x) => x.stack !== r.stack && x.type === r.type && relative(x) === relative(r) && !movedTo.has(x));
      if (!from) return r;
      movedTo.set(from, r.stack);
      return {
        ...r,
        impact: 'replace' as const,
        replacedBy: ['(moves stack)'],
        because: [...r.because, `moves here from stack ${from.stack}: a new resource`],
      };
    }),
  }));
  return result.map((s) => ({
    ...s,
    resources: s.resources.map((r) => {
      const to = movedTo.get(r);
      return to ? { ...r, movedTo: to, because: [...r.because, `moves to stack ${to} (replaced there)`] } : r;
    }),
  }));
}

interface StackPair {
  readonly old?: StackSnapshot;
  readonly cur?: StackSnapshot;
}

/**
 * CloudFormation identifies a stack by account, region and name; a stack whose construct ID stayed but
 * whose name or environment changed is a new stack (paired with the old one to show what it replaces).
 */
function pairStacks(before: readonly StackSnapshot[], after: readonly StackSnapshot[]): StackPair[] {
  const identity = (s: StackSnapshot) => `${s.environment}/${s.stackName}`;
  const afterIds = new Set(after.map(identity));
  const beforeById = new Map(before.filter((s) => !afterIds.has(identity(s))).map((s) => [s.id, s]));
  const used = new Set<StackSnapshot>();
  const pairs: StackPair[] = after.map((cur) => {
    const old = before.find((s) => identity(s) === identity(cur)) ?? beforeById.get(cur.id);
    if (old) used.add(old);
    return { old, cur };
  });
  return [...pairs, ...before.filter((s) => !used.has(s)).map((old) => ({ old }))];
}

interface StackResult {
  readonly diff: StackDiff;
  /** Output name → why its value changes. */
  readonly changedOutputs: ReadonlyMap<string, string>;
}

function addedStack(cur: StackSnapshot): StackResult {
  const resources = Object.entries(cur.template.Resources ?? {}).map(([id, r]) => change(cur, id, r, 'add'));
  const outputs = Object.keys(cur.template.Outputs ?? {});
  return {
    diff: { ...stackHead(cur, 'added'), resources, outputs: { added: outputs, removed: [], changed: [] } },
    changedOutputs: new Map(outputs.map((o) => [o, `new stack ${cur.stackName}`])),
  };
}

function removedStack(old: StackSnapshot): StackDiff {
  const because = [`stack ${old.stackName} left the app: cdk deploy does not delete it; delete it with aws cloudformation delete-stack`];
  const resources = Object.entries(old.template.Resources ?? {}).map(([id, r]) => change(old, id, r, 'remove', { because }));
  return { ...stackHead(old, 'removed'), resources, outputs: { added: [], removed: Object.keys(old.template.Outputs ?? {}), changed: [] } };
}

/** A new stack name (or account/region): every resource is created anew, the old stack runs until deleted. */
function renamedStack(old: StackSnapshot, cur: StackSnapshot): StackResult {
  const oldResources = old.template.Resources ?? {};
  const newResources = cur.template.Resources ?? {};
  const where = (s: StackSnapshot) => `${s.stackName} (${s.environment})`;
  const because = [`new stack ${where(cur)} instead of ${where(old)}: its resources are created anew`];
  const resources = [
    ...Object.entries(newResources).map(([id, r]) =>
      oldResources[id] ? change(cur, id, r, 'replace', { because, replacedBy: ['(new stack)'] }) : change(cur, id, r, 'add'),
    ),
    ...Object.entries(oldResources)
      .filter(([id]) => !newResources[id])
      .map(([id, r]) => change(old, id, r, 'remove', { because })),
  ];
  const outputs = Object.keys(cur.template.Outputs ?? {});
  const oldOutputs = Object.keys(old.template.Outputs ?? {});
  return {
    diff: {
      ...stackHead(cur, 'renamed'),
      previousStackName: old.stackName,
      resources,
      outputs: {
        added: outputs.filter((o) => !oldOutputs.includes(o)),
        removed: oldOutputs.filter((o) => !outputs.includes(o)),
        changed: outputs.filter((o) => oldOutputs.includes(o)),
      },
    },
    changedOutputs: new Map(outputs.map((o) => [o, `new stack ${cur.stackName}`])),
  };
}

interface Upstream {
  readonly changedOutputs: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly changedExports: ReadonlyMap<string, string>;
  /** Parameters of this stack whose handed-in value changes → why. */
  readonly handed: ReadonlyMap<string, string>;
}

function changedStack(old: StackSnapshot, cur: StackSnapshot, upstream: Upstream): StackResult {
  const region = regionOf(cur);
  // Same template, same parameters: `cdk deploy` skips the stack and CloudFormation resolves nothing again,
  // so whatever it reads from another stack stays at its old value.
  if (deepEqual(old.template, cur.template) && upstream.handed.size === 0) {
    const reads = markDeployTimeChanges(cur.template, region, upstream, new Map()).because;
    const stale = [...new Set([...reads.values()].flat())];
    return {
      diff: {
        ...stackHead(cur, 'unchanged'),
        resources: [],
        outputs: { added: [], removed: [], changed: [] },
        ...(stale.length ? { stale } : {}),
      },
      changedOutputs: new Map(),
    };
  }
  // `<id>` (a replaced resource: its Ref and every attribute) or `<id>.<attr>` → why its value changes.
  const volatile = new Map<string, string>();
  let marked: Marked;
  let diff;
  // Mark what changes at deploy time, diff, and repeat while replacements and updates change more values.
  for (;;) {
    marked = markDeployTimeChanges(cur.template, region, upstream, volatile);
    diff = fullDiff(old.template, marked.template);
    let grew = false;
    const add = (key: string, why: string) => {
      if (volatile.has(key)) return;
      volatile.set(key, why);
      grew = true;
    };
    diff.resources.forEachDifference((id, d) => {
      if (d.isAddition || d.isRemoval) return;
      if (d.changeImpact === ResourceImpact.WILL_REPLACE) add(id, `${id} is replaced`);
      else if (d.changeImpact === ResourceImpact.MAY_REPLACE) add(id, `${id} may be replaced`);
      else if (d.changeImpact === ResourceImpact.WILL_UPDATE) {
        for (const attr of VOLATILE_ATTRIBUTES[d.newResourceType ?? ''] ?? []) add(`${id}.${attr}`, `${id} is updated (new ${attr})`);
      }
    });
    if (!grew) break;
  }

  const oldResources = old.template.Resources ?? {};
  const newResources = cur.template.Resources ?? {};
  const resources: ResourceChange[] = [];
  diff.resources.forEachDifference((id, d) => {
    const r = resourceChange(cur, old, id, d, oldResources[id], newResources[id], marked.because.get(id) ?? []);
    if (r) resources.push(r);
  });

  // Outputs: their text changed, or they read a value that changes at deploy time.
  const oldOutputs = old.template.Outputs ?? {};
  const newOutputs = cur.template.Outputs ?? {};
  const changedOutputs = new Map<string, string>();
  for (const [name, output] of Object.entries(newOutputs)) {
    const before = oldOutputs[name];
    if (!before) continue;
    const why = !deepEqual(before.Value, output.Value) ? 'value changes' : marked.because.get(`${OUTPUTS}${name}`)?.[0];
    if (why) changedOutputs.set(name, why);
  }
  const added = Object.keys(newOutputs).filter((o) => !oldOutputs[o]);
  const removed = Object.keys(oldOutputs).filter((o) => !newOutputs[o]);
  // A parameter handed in from a new output (the tenant moved here from another stack) changes too.
  for (const o of added) changedOutputs.set(o, 'new output');
  const status = resources.length > 0 || added.length > 0 || removed.length > 0 || changedOutputs.size > 0 ? 'changed' : 'unchanged';
  return {
    diff: {
      ...stackHead(cur, status),
      resources,
      outputs: { added, removed, changed: [...changedOutputs.keys()].filter((o) => !added.includes(o)) },
    },
    changedOutputs,
  };
}

function resourceChange(
  cur: StackSnapshot,
  old: StackSnapshot,
  id: string,
  d: ResourceDifference,
  before: CfnResource | undefined,
  after: CfnResource | undefined,
  because: readonly string[],
): ResourceChange | undefined {
  if (d.isAddition) return change(cur, id, after!, 'add');
  if (d.isRemoval) {
    const retained =
      d.changeImpact === ResourceImpact.WILL_ORPHAN ? ['DeletionPolicy Retain: it stays in the account, outside the stack'] : [];
    return change(old, id, before!, 'remove', { because: retained });
  }
  const updates = d.propertyUpdates;
  const others = Object.keys(d.otherChanges).filter((k) => k !== 'Metadata');
  if (Object.keys(updates).length === 0 && others.length === 0) return undefined;

  const replacedBy = Object.entries(updates)
    .filter(([, p]) => p.changeImpact === ResourceImpact.WILL_REPLACE || p.changeImpact === ResourceImpact.MAY_REPLACE)
    .map(([name]) => name);
  // A property the registry does not describe: nobody can say whether it replaces the resource.
  const unknown = Object.entries(updates)
    .filter(([, p]) => p.changeImpact === undefined || p.changeImpact === ResourceImpact.NO_CHANGE)
    .map(([name]) => name);
  let impact: Impact =
    d.changeImpact === ResourceImpact.WILL_REPLACE ? 'replace' : d.changeImpact === ResourceImpact.MAY_REPLACE ? 'may-replace' : 'update';
  const notes = [...because];
  if (unknown.length > 0 && protectedReason(after) && impact === 'update') {
    impact = 'may-replace';
    replacedBy.push(...unknown);
    notes.push(`${unknown.join(', ')} not in the CloudFormation registry data: cannot tell whether it replaces`);
  }
  // Properties whose text is the same but whose deploy-time value changes (a value from another stack).
  const textual = changedPaths(before?.Properties ?? {}, after?.Properties ?? {});
  const viaReference = Object.keys(updates).filter((p) => deepEqual(before?.Properties?.[p], after?.Properties?.[p]));
  const changed = [...textual, ...viaReference, ...others];
  if (impact === 'update' && rollsInstances(after, changed))
    notes.push("the group's UpdatePolicy replaces its instances one by one (a new launch template version)");
  const fixed = impact === 'replace' || impact === 'may-replace' ? fixedNameOf(after!.Type, before, after) : undefined;
  return {
    ...change(cur, id, after!, impact, { replacedBy, changed, because: notes }),
    ...(fixed ? { fixedName: fixed } : {}),
  };
}

/**
 * A new or replacing subnet whose CIDR overlaps a subnet of the deployed template in the same VPC: the
 * new subnet is created while the old ones still exist (they go in the cleanup phase), and EC2 refuses
 * overlapping subnets in a VPC (InvalidSubnet.Conflict), so the deploy fails and rolls back.
 * https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html
 */
function subnetConflicts(old: StackSnapshot, cur: StackSnapshot, changes: readonly ResourceChange[]): string[] {
  const created = changes.filter((r) => r.type === 'AWS::EC2::Subnet' && (r.impact === 'add' || r.impact === 'replace'));
  const vpcReplaced = new Set(changes.filter((r) => r.type === 'AWS::EC2::VPC' && r.impact !== 'update').map((r) => r.logicalId));
  const messages: string[] = [];
  for (const r of created) {
    const subnet = cur.template.Resources?.[r.logicalId]?.Properties ?? {};
    const block = typeof subnet.CidrBlock === 'string' ? parseBlock(subnet.CidrBlock) : undefined;
    const vpc = JSON.stringify(subnet.VpcId);
    const vpcId = (subnet.VpcId as { Ref?: string } | undefined)?.Ref;
    if (!block?.ok || (vpcId && vpcReplaced.has(vpcId))) continue;
    for (const [id, o] of Object.entries(old.template.Resources ?? {})) {
      if (o.Type !== 'AWS::EC2::Subnet' || JSON.stringify(o.Properties?.VpcId) !== vpc || typeof o.Properties?.CidrBlock !== 'string')
        continue;
      const other = parseBlock(o.Properties.CidrBlock);
      if (other.ok && relation(block.block, other.block) !== null) {
        messages.push(
          `${cur.stackName} ${r.logicalId} (${String(subnet.CidrBlock)}) is created while ${id} (${o.Properties.CidrBlock}) still exists in the same VPC: EC2 refuses overlapping subnets, so the deploy fails and rolls back`,
        );
        break;
      }
    }
  }
  return messages;
}

/**
 * The physical name a replaced resource keeps: a literal `Name`, `<Type>Name` (LogGroupName,
 * LaunchTemplateName) or `GroupName` equal before and after. Names are unique per account (or VPC), and
 * CloudFormation creates the replacement first, so the replacement fails.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html
 */
export function fixedNameOf(type: string, before: CfnResource | undefined, after: CfnResource | undefined): string | undefined {
  const candidates = ['Name', `${type.split('::').pop()}Name`, 'GroupName'];
  for (const key of candidates) {
    const a = before?.Properties?.[key];
    const b = after?.Properties?.[key];
    if (typeof a === 'string' && a === b) return `${key}=${a}`;
  }
  return undefined;
}

/**
 * An Auto Scaling group with a rolling or replacing update policy replaces its instances when its launch
 * template (version), launch configuration or subnets change: the proxies restart even though the
 * group itself is only updated.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html
 */
function rollsInstances(resource: CfnResource | undefined, changed: readonly string[]): boolean {
  if (resource?.Type !== 'AWS::AutoScaling::AutoScalingGroup') return false;
  const policy = (resource.UpdatePolicy ?? {}) as Record<string, unknown>;
  if (!policy.AutoScalingRollingUpdate && !policy.AutoScalingReplacingUpdate) return false;
  const triggers = ['LaunchTemplate', 'LaunchConfigurationName', 'MixedInstancesPolicy', 'VPCZoneIdentifier'];
  return changed.some((p) => triggers.includes(p.split('.')[0]!));
}

function change(
  stack: StackSnapshot,
  logicalId: string,
  resource: CfnResource,
  impact: Impact,
  extra: { replacedBy?: string[]; changed?: string[]; because?: readonly string[] } = {},
): ResourceChange {
  const why = protectedReason(resource);
  return {
    stack: stack.stackName,
    logicalId,
    type: resource.Type,
    path: stack.paths.get(logicalId),
    impact,
    replacedBy: extra.replacedBy ?? [],
    changed: extra.changed ?? [],
    because: [...new Set(extra.because ?? [])],
    ...(why ? { protected: why } : {}),
  };
}

function stackHead(s: StackSnapshot, status: StackStatus) {
  return { id: s.id, stackName: s.stackName, environment: s.environment, status };
}

function regionOf(s: StackSnapshot): string {
  return s.environment.split('/').pop() ?? '';
}

function stackKey(s: StackSnapshot): string {
  return `${regionOf(s)}/${s.stackName}`;
}

/** Parameters of `cur` handed in from an output whose value changes. */
function handedParameters(
  cur: StackSnapshot,
  handoffs: readonly Handoff[],
  stacks: readonly StackSnapshot[],
  changedOutputs: ReadonlyMap<string, ReadonlyMap<string, string>>,
): Map<string, { why: string; rollout: Omit<Rollout, 'consumerStackName' | 'environment'> }> {
  const handed = new Map<string, { why: string; rollout: Omit<Rollout, 'consumerStackName' | 'environment'> }>();
  for (const h of handoffs.filter((x) => x.consumerStackId === cur.id)) {
    for (const producer of stacks) {
      for (const [logicalId, path] of producer.paths) {
        if (!path.endsWith(h.outputPathSuffix)) continue;
        const why = changedOutputs.get(stackKey(producer))?.get(logicalId);
        if (!why) continue;
        handed.set(h.parameter, {
          why: `parameter ${h.parameter} takes ${producer.stackName} output ${logicalId}: ${why}`,
          rollout: {
            consumerStackId: cur.id,
            parameter: h.parameter,
            producerStackName: producer.stackName,
            producerRegion: regionOf(producer),
            outputName: logicalId,
            why,
          },
        });
      }
    }
  }
  return handed;
}

interface Marked {
  readonly template: CfnTemplate;
  /** Logical ID → why a reference in it changes at deploy time. */
  readonly because: ReadonlyMap<string, readonly string[]>;
}

/**
 * A copy of the template in which every reference whose value changes at deploy time is renamed, so the
 * template diff sees (and rates) the change: outputs of other stacks, handed-in parameters, volatile attributes.
 */
function markDeployTimeChanges(template: CfnTemplate, region: string, upstream: Upstream, volatile: ReadonlyMap<string, string>): Marked {
  const because = new Map<string, string[]>();
  let current: string[] = [];
  const mark = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(mark);
    if (node === null || typeof node !== 'object') return node;
    const obj = node as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const value = obj[key];
      const why = deployTimeChange(key, value, region, upstream, volatile);
      if (why) {
        current.push(why);
        return markReference(key, value);
      }
    }
    return Object.fromEntries(keys.map((k) => [k, mark(obj[k])]));
  };
  const resources: Record<string, CfnResource> = {};
  for (const [id, r] of Object.entries(template.Resources ?? {})) {
    current = [];
    resources[id] = mark(r) as CfnResource;
    if (current.length > 0) because.set(id, current);
  }
  const outputs: Record<string, CfnOutput> = {};
  for (const [name, o] of Object.entries(template.Outputs ?? {})) {
    current = [];
    outputs[name] = mark(o) as CfnOutput;
    if (current.length > 0) because.set(`${OUTPUTS}${name}`, current);
  }
  return { template: { ...template, Resources: resources, Outputs: outputs }, because };
}

function deployTimeChange(
  key: string,
  value: unknown,
  region: string,
  upstream: Upstream,
  volatile: ReadonlyMap<string, string>,
): string | undefined {
  if (key === 'Fn::GetStackOutput' && value && typeof value === 'object') {
    const v = value as { StackName?: unknown; OutputName?: unknown; Region?: unknown };
    if (typeof v.StackName !== 'string' || typeof v.OutputName !== 'string') return undefined;
    const why = upstream.changedOutputs.get(`${typeof v.Region === 'string' ? v.Region : region}/${v.StackName}`)?.get(v.OutputName);
    return why && `${v.StackName} output ${v.OutputName}: ${why}`;
  }
  if (key === 'Fn::ImportValue' && typeof value === 'string') {
    const why = upstream.changedExports.get(value);
    return why && `export ${value}: ${why}`;
  }
  if (key === 'Ref' && typeof value === 'string') return upstream.handed.get(value) ?? volatile.get(value);
  if (key === 'Fn::GetAtt') {
    const [id, attr] = Array.isArray(value) ? (value as unknown[]) : typeof value === 'string' ? value.split('.') : [];
    return typeof id === 'string' && typeof attr === 'string' ? (volatile.get(id) ?? volatile.get(`${id}.${attr}`)) : undefined;
  }
  return undefined;
}

function markReference(key: string, value: unknown): unknown {
  if (key === 'Fn::GetStackOutput') {
    const v = value as { OutputName: string };
    return { [key]: { ...v, OutputName: `${v.OutputName}${CHANGES}` } };
  }
  if (key === 'Fn::GetAtt') {
    const [id, attr] = Array.isArray(value) ? (value as string[]) : (value as string).split('.');
    return { [key]: [id, `${attr}${CHANGES}`] };
  }
  return { [key]: `${String(value)}${CHANGES}` };
}

/** Dotted paths (objects only, up to `depth` levels) where two property maps differ. */
export function changedPaths(before: unknown, after: unknown, prefix = '', depth = 3): string[] {
  if (deepEqual(before, after)) return [];
  const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const intrinsic = (v: Record<string, unknown>) => Object.keys(v).some((k) => k === 'Ref' || k.startsWith('Fn::'));
  if (depth === 0 || !isMap(before) || !isMap(after) || intrinsic(before) || intrinsic(after)) return prefix ? [prefix] : [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.flatMap((k) => changedPaths(before[k], after[k], prefix ? `${prefix}.${k}` : k, depth - 1));
}
