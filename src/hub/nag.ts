// The constructs acknowledge their cdk-nag findings with aws-cdk-lib's `Validations.of(x).acknowledge`, which
// cdk-nag 3 reads (a policy validation plugin). cdk-nag 2 reads something else: a `cdk_nag` entry in each
// CloudFormation resource's metadata, `{ rules_to_suppress: [{ id, reason, applies_to? }] }` (its
// NagSuppressions.addResourceSuppressions), consulted when its pack, an Aspect, visits the resource.
// https://github.com/cdklabs/cdk-nag/blob/v2/README.md#suppressing-a-rule
// So each stack holding an egresshub construct gets an Aspect that, when a cdk-nag pack is applied to the stack
// or above it as an Aspect (cdk-nag 2's way), writes the stack's acknowledgements into that metadata before the
// pack visits a resource. Without such a pack it writes nothing: templates stay as they are.
import { AspectPriority, Aspects, CfnResource, Stack, type IAspect } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The metadata type aws-cdk-lib's `Validations.acknowledge` records: `{ [ruleId]: reason }`. */
const ACKNOWLEDGED = 'aws:cdk:acknowledged-rules';

/** One cdk-nag 2 suppression, in its metadata form. */
interface NagSuppression {
  id: string;
  reason: string;
  applies_to?: string[];
}

const mirrored = new WeakSet<Stack>();

/** Makes the acknowledgements in `scope`'s stack visible to cdk-nag 2 (once per stack). */
export function acknowledgeForCdkNag2(scope: IConstruct): void {
  const stack = Stack.of(scope);
  if (mirrored.has(stack)) return;
  mirrored.add(stack);
  Aspects.of(stack).add(new CdkNag2Acknowledgements(), { priority: AspectPriority.MUTATING });
}

class CdkNag2Acknowledgements implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof Stack) || !nagPackApplied(node)) return;
    for (const scope of node.node.findAll()) {
      const suppressions = suppressionsOf(scope);
      if (suppressions.length === 0) continue;
      for (const r of scope.node.findAll()) if (r instanceof CfnResource) addSuppressions(r, suppressions);
    }
  }
}

/** Whether a cdk-nag pack (an Aspect with `readPackName`) is applied to the stack or one of its scopes. */
function nagPackApplied(stack: Stack): boolean {
  for (let s: IConstruct | undefined = stack; s; s = s.node.scope) {
    if (Aspects.of(s).all.some((a) => 'readPackName' in a)) return true;
  }
  return false;
}

/** The acknowledgements made on `scope` itself, as cdk-nag 2 suppressions: `Rule[finding]` becomes `{ id: Rule, applies_to: [finding] }`. */
function suppressionsOf(scope: IConstruct): NagSuppression[] {
  const out: NagSuppression[] = [];
  for (const entry of scope.node.metadata) {
    if (entry.type !== ACKNOWLEDGED || typeof entry.data !== 'object' || entry.data === null) continue;
    for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
      // Recorded with the plugin's prefix, `Annotation::` when none was named: `Annotation::AwsSolutions-IAM5[Resource::*]`.
      const rule = /^(?:[A-Za-z0-9-]+::)?(?<rule>[A-Za-z0-9]+-[A-Za-z0-9]+)(?:\[(?<finding>.+)\])?$/.exec(id)?.groups;
      if (!rule?.rule) continue; // not a cdk-nag rule (a CloudFormation validation, an annotation)
      out.push({ id: rule.rule, reason, ...(rule.finding ? { applies_to: [rule.finding] } : {}) });
    }
  }
  return out;
}

/** Adds suppressions to a resource's `cdk_nag` metadata, merging the findings of one rule. */
function addSuppressions(resource: CfnResource, suppressions: readonly NagSuppression[]): void {
  const existing = (resource.getMetadata('cdk_nag') as { rules_to_suppress?: NagSuppression[] } | undefined)?.rules_to_suppress ?? [];
  const rules = existing.map((s) => ({ ...s }));
  for (const s of suppressions) {
    const same = rules.find((r) => r.id === s.id);
    if (!same) rules.push({ ...s });
    else if (same.applies_to && s.applies_to) same.applies_to = [...new Set([...same.applies_to, ...s.applies_to])];
    else delete same.applies_to; // one of them covers every finding of the rule
  }
  resource.addMetadata('cdk_nag', { rules_to_suppress: rules });
}
