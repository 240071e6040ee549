// Facts about a synthesized template that a test states explicitly instead of keeping a whole-template
// snapshot: resources per type, output names, the logical IDs an upgrade must keep, IAM grants one line each,
// and which resources CloudFormation retains. Each fact is small enough to read in a review, so a template
// change that breaks one of them fails with a message that says what changed, not 2,000 lines of diff.
import type { Template } from 'aws-cdk-lib/assertions';
import { MAX_USER_DATA_BYTES, TOKEN_ALLOWANCE_BYTES } from '../../src/hub/user-data';

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

const resourcesOf = (t: Template) => (t.toJSON().Resources ?? {}) as Record<string, CfnResource>;

/** How many resources of each type the template has, by type (sorted). */
export function resourceCounts(t: Template): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of Object.values(resourcesOf(t))) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** The types whose count differs from `base` to `t`, with their count in `t` (0: none left). */
export function countChanges(base: Template, t: Template): Record<string, number> {
  const before = resourceCounts(base);
  const after = resourceCounts(t);
  const types = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return Object.fromEntries(types.filter((k) => before[k] !== after[k]).map((k) => [k, after[k] ?? 0]));
}

/** The template's output names (logical IDs), sorted: other stacks (Fn::GetStackOutput), users and scripts read them. */
export function outputNames(t: Template): string[] {
  return Object.keys((t.toJSON().Outputs ?? {}) as object).sort();
}

/**
 * Resource types whose logical ID is part of a deployed hub: a new ID makes CloudFormation create a new
 * resource and delete the old one, and these hold state, addresses or names that tenants, spokes or
 * allowlists elsewhere rely on (the VPC and subnets, the NAT and proxy addresses, the gateway, the
 * resource configurations and shares, the spoke endpoints, retained keys and log groups, the proxies).
 */
export const STATEFUL_TYPES = [
  'AWS::AutoScaling::AutoScalingGroup',
  'AWS::EC2::EIP',
  'AWS::EC2::InternetGateway',
  'AWS::EC2::NatGateway',
  'AWS::EC2::NetworkInterface',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::Subnet',
  'AWS::EC2::VPC',
  'AWS::EC2::VPCEndpoint',
  'AWS::ElasticLoadBalancingV2::Listener',
  'AWS::ElasticLoadBalancingV2::LoadBalancer',
  'AWS::ElasticLoadBalancingV2::TargetGroup',
  'AWS::KMS::Key',
  'AWS::Logs::LogGroup',
  'AWS::RAM::ResourceShare',
  'AWS::Route53::HealthCheck',
  'AWS::Route53::HostedZone',
  'AWS::Route53::RecordSet',
  'AWS::SSM::Document',
  'AWS::SSM::Parameter',
  'AWS::VpcLattice::ResourceConfiguration',
  'AWS::VpcLattice::ResourceGateway',
] as const;

/** Logical IDs of the template's resources of STATEFUL_TYPES, sorted. */
export function statefulIds(t: Template): string[] {
  const types: readonly string[] = STATEFUL_TYPES;
  return Object.entries(resourcesOf(t))
    .filter(([, r]) => types.includes(r.Type))
    .map(([id]) => id)
    .sort();
}

/** Logical IDs of the resources CloudFormation keeps on stack deletion and on replacement, sorted. */
export function retainedIds(t: Template): string[] {
  return Object.entries(resourcesOf(t))
    .filter(([, r]) => r.DeletionPolicy === 'Retain' && r.UpdateReplacePolicy === 'Retain')
    .map(([id]) => id)
    .sort();
}

/** A CloudFormation value as short text: `{Id}` for a Ref, `{Id.Attr}` for a GetAtt, joins concatenated, asset hashes as `<asset>`. */
export function valueText(v: unknown): string {
  if (typeof v === 'string') return v.replace(/[0-9a-f]{64}/g, '<asset>');
  if (Array.isArray(v)) return v.map(valueText).join(', ');
  const o = v as Record<string, unknown>;
  if ('Ref' in o) return `{${String(o.Ref)}}`;
  if ('Fn::GetAtt' in o) return `{${(o['Fn::GetAtt'] as string[]).join('.')}}`;
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(valueText).join(sep);
  }
  return JSON.stringify(v);
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const statementsOf = (t: Template, policyId: string): Statement[] => {
  const r = resourcesOf(t)[policyId];
  if (r?.Type !== 'AWS::IAM::Policy') throw new Error(`no AWS::IAM::Policy ${policyId} in the template`);
  return (r.Properties!.PolicyDocument as { Statement: Statement[] }).Statement;
};

/**
 * The statements of IAM policy `policyId`, one line each:
 * `<Sid or -> <Effect>: <actions> on <resource>[ if <operator> <key>=<value>]`.
 */
export function grantsOf(t: Template, policyId: string): string[] {
  return statementsOf(t, policyId).map((s) => {
    const actions = [s.Action].flat().join(' ');
    const condition = Object.entries(s.Condition ?? {})
      .flatMap(([op, kv]) => Object.entries(kv).map(([k, v]) => ` if ${op} ${k}=${valueText(v)}`))
      .join('');
    return `${s.Sid ?? '-'} ${s.Effect}: ${actions} on ${valueText(s.Resource)}${condition}`;
  });
}

/** Every action any IAM policy in the template allows on Resource "*" (with its condition, if any), sorted, once each. */
export function wildcardResourceGrants(t: Template): string[] {
  const grants = new Set<string>();
  for (const [id, r] of Object.entries(resourcesOf(t))) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    for (const line of grantsOf(t, id)) {
      const m = /^\S+ Allow: (.*) on \*( if .*)?$/.exec(line);
      if (m) for (const action of m[1]!.split(' ')) grants.add(`${action}${m[2] ?? ''}`);
    }
  }
  return [...grants].sort();
}

/** Every action in any IAM policy of the template, sorted, once each. */
export function allowedActions(t: Template): string[] {
  const actions = new Set<string>();
  for (const [id, r] of Object.entries(resourcesOf(t)))
    if (r.Type === 'AWS::IAM::Policy') for (const s of statementsOf(t, id)) for (const a of [s.Action].flat()) actions.add(a);
  return [...actions].sort();
}

/** What `after` adds to and removes from `before` (both sorted). */
export function listChanges(before: readonly string[], after: readonly string[]): { added: string[]; removed: string[] } {
  return {
    added: after.filter((x) => !before.includes(x)).sort(),
    removed: before.filter((x) => !after.includes(x)).sort(),
  };
}

/**
 * The least headroom every proxy's user data must keep under EC2's 16 KB limit (with the allowance for
 * deploy-time values). The largest today is a fixed proxy with public egress, about 2.9 KB below the limit;
 * the boot script must not grow (new boot logic goes to the policy apply document or an S3 asset).
 */
export const USER_DATA_HEADROOM_FLOOR = 2_800;

const userDataParts = (t: Template, launchTemplateId: string): unknown[] => {
  const lt = resourcesOf(t)[launchTemplateId];
  if (lt?.Type !== 'AWS::EC2::LaunchTemplate') throw new Error(`no AWS::EC2::LaunchTemplate ${launchTemplateId} in the template`);
  const ud = (lt.Properties!.LaunchTemplateData as { UserData: { 'Fn::Base64': unknown } }).UserData['Fn::Base64'];
  return typeof ud === 'string' ? [ud] : (ud as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
};

/** Bytes of EC2's 16 KB user data limit left for launch template `launchTemplateId`, less the allowance for deploy-time values. */
export function userDataHeadroom(t: Template, launchTemplateId: string): number {
  const script = userDataParts(t, launchTemplateId)
    .map((p) => (typeof p === 'string' ? p : ''))
    .join('');
  return MAX_USER_DATA_BYTES - Buffer.byteLength(script) - TOKEN_ALLOWANCE_BYTES;
}

/** The boot script's parameter lines (`KEY='value'` before its first function), deploy-time values as valueText. */
export function bootParameters(t: Template, launchTemplateId: string): Record<string, string> {
  const script = userDataParts(t, launchTemplateId).map(valueText).join('');
  const head = script.slice(0, script.search(/^\w+\(\) \{$/m));
  return Object.fromEntries([...head.matchAll(/^([A-Z_]+)='(.*)'$/gm)].map((m) => [m[1]!, m[2]!]));
}
