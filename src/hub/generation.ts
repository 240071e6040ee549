// Generation fingerprints: how a stack that reads values from another stack learns that they changed.
//
// Tenant stacks read the gateway ID and proxy target from the hub, and same-account spokes read a
// tenant's resource configuration ARN, through `Fn::GetStackOutput` (cdk.json's weak cross-stack
// references). CloudFormation resolves that function only when the consuming stack is created or updated:
// "If the referenced stack or output is later deleted or modified, the consuming stack is not automatically
// updated or notified."
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getstackoutput.html
// And `cdk deploy` skips a stack whose template and parameters are unchanged. So when a producer is replaced
// (a new gateway ID, a new ENI address) the consumer's own template must change too.
//
// The fingerprint is a short hash, computed at synth, of everything the consumed values derive from in
// the producer stack: each referenced resource's type and properties, and transitively those of the
// same-stack resources it references (a subnet replaced by a CIDR change keeps its logical ID, so the
// gateway's text does not change, but the subnet's CidrBlock in its closure does). Whatever may give the
// consumed value a new physical value changes the hash; a change outside that closure (a policy, an alarm)
// does not.
//
// It goes into a resource property of the consumer (a tag), not the template's Metadata section: "During a
// stack update, you cannot update the Metadata section by itself."
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/metadata-section-structure.html
// A changed property makes CloudFormation update that resource and resolve its `Fn::GetStackOutput` again,
// so the new value lands even if CloudFormation compared only property text (it is UNCONFIRMED whether an
// update re-resolves references in resources whose text did not change: this design does not rely on it).
import { createHash } from 'node:crypto';
import { CfnResource, Lazy, Stack } from 'aws-cdk-lib';

/** Tag carrying the fingerprint on consuming resources (resource configurations, spoke endpoints). */
export const GENERATION_TAG = 'egresshub:producers';
/** Hex digits of a fingerprint: 2^-48 chance that a real change leaves it equal. */
export const FINGERPRINT_LENGTH = 12;

const byStack = new WeakMap<Stack, Map<string, CfnResource>>();

/** The stack's CloudFormation resources by logical ID (built at synth time, when the tree is complete). */
function resourcesOf(stack: Stack): Map<string, CfnResource> {
  let map = byStack.get(stack);
  if (!map) {
    map = new Map();
    for (const c of stack.node.findAll()) {
      if (c instanceof CfnResource && Stack.of(c) === stack) map.set(stack.resolve(c.logicalId) as string, c);
    }
    byStack.set(stack, map);
  }
  return map;
}

/** Logical IDs referenced (Ref, Fn::GetAtt, ${Id} in Fn::Sub) anywhere in resolved template JSON. */
export function referencedIds(node: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) {
    for (const n of node) referencedIds(n, out);
  } else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if (k === 'Ref' && typeof v === 'string') out.add(v);
      else if (k === 'Fn::GetAtt') {
        const id: unknown = Array.isArray(v) ? (v as unknown[])[0] : typeof v === 'string' ? v.split('.')[0] : undefined;
        if (typeof id === 'string') out.add(id);
      } else if (k === 'Fn::Sub') {
        const text: unknown = Array.isArray(v) ? (v as unknown[])[0] : v;
        if (typeof text === 'string') for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}/g)) if (m[1]) out.add(m[1]);
        referencedIds(v, out);
      } else referencedIds(v, out);
    }
  }
  return out;
}

/** JSON with sorted keys, so the hash does not depend on property order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The resources of `producer` that `values` (tokens such as `gateway.attrId`) derive from, transitively
 * through same-stack references, as `logicalId → {Type, Properties}` (resolved). Resources in other stacks
 * appear as the cross-stack reference text, which is what their own fingerprints cover.
 */
export function closureOf(producer: Stack, values: readonly unknown[]): Map<string, unknown> {
  const resources = resourcesOf(producer);
  const closure = new Map<string, unknown>();
  const queue = [...referencedIds(producer.resolve(values))];
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    const resource = resources.get(id);
    if (closure.has(id) || !resource) continue;
    const rendered = (
      producer.resolve(resource._toCloudFormation()) as { Resources: Record<string, { Type: string; Properties?: unknown }> }
    ).Resources[id];
    if (!rendered) continue;
    // Type and properties decide replacement and the physical values; DependsOn, Metadata, policies and tags
    // do not (a subnet's tags change with the egress mode, its ID and CIDR do not).
    const properties = Object.entries((rendered.Properties ?? {}) as Record<string, unknown>).filter(([k]) => k !== 'Tags');
    closure.set(id, { Type: rendered.Type, Properties: Object.fromEntries(properties) });
    queue.push(...referencedIds(rendered.Properties));
  }
  return closure;
}

/** A short hash of strings and producer closures. */
export function fingerprint(parts: readonly unknown[]): string {
  return createHash('sha256').update(canonical(parts)).digest('hex').slice(0, FINGERPRINT_LENGTH);
}

/**
 * A string token that resolves, at synth, to the fingerprint of what `values` derive from in `producer`
 * (plus `extra` plain inputs). Safe to use in a consumer stack's resource properties.
 */
export function producerFingerprint(producer: Stack, values: readonly unknown[], extra: readonly unknown[] = []): string {
  return Lazy.string({ produce: () => fingerprint([...extra, producer.resolve(values), ...closureOf(producer, values)]) });
}
