// Weak cross-stack references, whatever the app's feature flags.
//
// The hub's design follows replacements (generation.ts): a tenants stack reads the gateway ID and proxy target,
// a spoke reads its resource configuration's ARN, through `Fn::GetStackOutput`, and a replaced producer gives
// the consumer a new template. A strong reference (`Fn::ImportValue`) would instead make CloudFormation refuse to
// replace the producer while the export is in use. The CDK picks the strength from the consuming stack's context
// (`@aws-cdk/core:defaultCrossStackReferences`, strong when unset, with a warning), which egresshub's cdk.json sets
// but a platform team's app need not. So every value an egresshub construct reads from another stack passes through
// `weakReference`, which publishes it as an output of the producing stack and reads it with `Fn::GetStackOutput`:
// the same output and the same function the CDK writes under `defaultCrossStackReferences: weak` (so a hub
// deployed with egresshub's cdk.json keeps its templates), whether the app sets the flag or not, and without the
// CDK's app-wide warning for references that are not the app's own. Only an app that sets it to strong, on purpose,
// keeps strong references (and their "export in use" refusals).
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getstackoutput.html
import { CfnOutput, CfnResource, Fn, Reference, ReferenceStrength, Stack, Token, Tokenization } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';

/** The CDK's context key for the app's default reference strength (cx-api DEFAULT_CROSS_STACK_REFERENCES). */
const DEFAULT_CROSS_STACK_REFERENCES = '@aws-cdk/core:defaultCrossStackReferences';

/** The construct under a producing stack that holds published outputs: the CDK's own name for it, so both share it. */
const PUBLISH_SCOPE = 'Publish';

/**
 * `value` as `consumer` should read it: unchanged when it is a literal or comes from the consumer's own stack;
 * `Fn::GetStackOutput` of an output of the producing stack when it is one attribute of a resource in another
 * stack of the same account (any region). Values the CDK must carry itself (nested stacks, other accounts,
 * compound expressions) are asked of it as weak references (`Stack.consumeReference`).
 */
export function weakReference(consumer: IConstruct, value: string): string {
  if (!Token.isUnresolved(value)) return value;
  const consumerStack = Stack.of(consumer);
  // An app that chose strong references explicitly (the CDK's warning offers it "to lock in the current
  // producer-protecting behavior") keeps them: its deployed templates stay as they are.
  if (explicitlyStrong(consumerStack)) return value;
  const token = Tokenization.reverseCompleteString(value);
  if (!token || !Reference.isReference(token))
    return crossesStacks(consumerStack, value) ? Stack.consumeReference(value, ReferenceStrength.WEAK) : value;
  const producer = Stack.of(token.target);
  if (producer === consumerStack) return value;
  if (producer.nested || consumerStack.nested || !sameAccount(producer, consumerStack)) {
    return Stack.consumeReference(value, ReferenceStrength.WEAK);
  }
  const publish = producer.node.tryFindChild(PUBLISH_SCOPE) ?? new Construct(producer, PUBLISH_SCOPE);
  // The CDK's output ID for this reference, so a reference the CDK itself makes weak to the same value shares it.
  const outputId = `Output${JSON.stringify(producer.resolve(token))}`;
  const output = (publish.node.tryFindChild(outputId) as CfnOutput | undefined) ?? new CfnOutput(publish, outputId, { value });
  consumerStack.addStackDependency(
    producer,
    `${consumerStack.node.path} -> ${token.target.node.path}.${token.displayName} (egresshub weak reference)`,
  );
  keepExportForUpgrade(consumerStack, producer, value);
  return Fn.getStackOutput(producer.stackName, output.logicalId, producer.region);
}

/**
 * An app that does not set `@aws-cdk/core:defaultCrossStackReferences` to weak made strong references before
 * this release (`Export` in the producer, `Fn::ImportValue` in the consumer). Dropping the export while a deployed
 * consumer still imports it is refused by CloudFormation, and the producer deploys first. So the producer keeps
 * the export (the CDK's own, same name) beside the output the consumer now reads, as the CDK's transitional
 * "both" strength does; an app that sets the flag to weak, once every consumer is deployed, drops it. Nothing
 * imports it any more, so a replaced producer updates it freely.
 * https://github.com/aws/aws-cdk/blob/main/packages/aws-cdk-lib/README.md#reference-strength
 */
function keepExportForUpgrade(consumer: Stack, producer: Stack, value: string): void {
  if (consumer.node.tryGetContext(DEFAULT_CROSS_STACK_REFERENCES) === ReferenceStrength.WEAK) return;
  // Exports are per Region: a consumer elsewhere never imported one.
  if (Token.isUnresolved(producer.region) !== Token.isUnresolved(consumer.region) || producer.region !== consumer.region) return;
  producer.exportValue(value);
}

/**
 * Makes every reference another stack makes to these resources weak, whoever makes it (a platform team's own
 * stack reading `hub.gateway.attrId`): the CDK's per-resource override, which wins over the app's default.
 */
export function produceWeakly(...resources: readonly (IConstruct | undefined)[]): void {
  for (const r of resources) {
    if (r instanceof CfnResource && !explicitlyStrong(r)) r.applyCrossStackReferenceStrength(ReferenceStrength.WEAK);
  }
}

/** Whether the app (or the scope) sets `@aws-cdk/core:defaultCrossStackReferences` to strong. */
function explicitlyStrong(scope: IConstruct): boolean {
  return scope.node.tryGetContext(DEFAULT_CROSS_STACK_REFERENCES) === ReferenceStrength.STRONG;
}

/** The resources a value reads attributes of (for `produceWeakly`). */
export function referencedResources(value: string): IConstruct[] {
  return Tokenization.reverseString(value)
    .tokens.filter((t) => Reference.isReference(t))
    .map((t) => t.target);
}

/** Whether a compound value holds a reference to a resource outside the consumer's stack. */
function crossesStacks(consumer: Stack, value: string): boolean {
  return Tokenization.reverseString(value)
    .tokens.filter((t) => Reference.isReference(t))
    .some((t) => Stack.of(t.target) !== consumer);
}

/** Same account, or both unknown at synth (environment-agnostic stacks deploy into one account). */
function sameAccount(a: Stack, b: Stack): boolean {
  const known = (s: Stack) => (Token.isUnresolved(s.account) ? undefined : s.account);
  return known(a) === known(b);
}
