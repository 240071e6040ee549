// An independent judge of a deploy, for the change catalogue: from two synthesized apps and the
// CloudFormation registry's replacement data (`causesReplacement` in @aws-cdk/aws-service-spec), what the
// CDK and CloudFormation really do. It shares no code with src/diff, so the catalogue can check diff's
// predictions against it.
//
// Model: `cdk deploy` skips a stack whose template is unchanged (CloudFormation then resolves nothing
// again); in a deployed stack a resource is replaced when a property the registry marks as causing
// replacement ('yes' or 'maybe') changes its value, where a reference to a replaced resource, or to an
// output of another stack whose value changed, counts as a new value.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseBlock, relation } from '../../src/cidr/block';
import type { AppSnapshot, CfnResource, StackSnapshot } from '../../src/diff';

interface Db {
  readonly schema: {
    readonly resource: {
      readonly entities: Readonly<
        Record<string, { cloudFormationType?: string; properties: Record<string, { causesReplacement?: string }> }>
      >;
    };
  };
}

let replacing: Map<string, Set<string>> | undefined;

/** Properties whose change replaces a resource, by type, from the registry data. */
export function replacingProperties(type: string): ReadonlySet<string> {
  if (!replacing) {
    const db = JSON.parse(gunzipSync(readFileSync(require.resolve('@aws-cdk/aws-service-spec/db.json.gz'))).toString('utf8')) as Db;
    replacing = new Map();
    for (const e of Object.values(db.schema.resource.entities)) {
      if (!e.cloudFormationType) continue;
      const props = Object.entries(e.properties).filter(([, p]) => p.causesReplacement === 'yes' || p.causesReplacement === 'maybe');
      replacing.set(e.cloudFormationType, new Set(props.map(([k]) => k)));
    }
  }
  return replacing.get(type) ?? new Set();
}

export interface Judgement {
  /** `<stack name>/<logical ID>` of every replaced resource. */
  readonly replaced: ReadonlySet<string>;
  /** Stacks skipped (template unchanged) that read an output whose value changes. */
  readonly stale: readonly string[];
  /** Replaced resources that keep a literal physical name. */
  readonly fixedNames: readonly string[];
  /** Launch templates whose image, type or user data changes, and groups that are replaced or move subnets. */
  readonly proxiesReplaced: readonly string[];
  /** Stacks by name whose template changes (or that are new). */
  readonly deployed: ReadonlySet<string>;
  /** `<stack name>#<output>` of every output whose value changes (or that is new). */
  readonly changedOutputs: ReadonlySet<string>;
  /** New or replacing subnets that overlap a still-existing subnet of the same VPC (EC2 refuses them). */
  readonly subnetConflicts: readonly string[];
}

const canonical = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(',')}]`
    : v !== null && typeof v === 'object'
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${k}:${canonical((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : JSON.stringify(v);

/** The value as CloudFormation sees it at deploy time: references marked `new` where their target changes. */
function resolve(node: unknown, isNew: (ref: string) => boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => resolve(n, isNew));
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const [k] = keys as [string];
    const v = obj[k];
    if (k === 'Ref' && typeof v === 'string') return `<ref ${v}${isNew(v) ? ' new' : ''}>`;
    if (k === 'Fn::GetAtt') {
      const [id, attr] = Array.isArray(v) ? (v as string[]) : String(v).split('.');
      return `<att ${id}.${attr}${isNew(id!) || isNew(`${id}.${attr}`) ? ' new' : ''}>`;
    }
    if (k === 'Fn::GetStackOutput') {
      const o = v as { StackName: string; OutputName: string };
      const key = `${o.StackName}#${o.OutputName}`;
      return `<out ${key}${isNew(key) ? ' new' : ''}>`;
    }
  }
  return Object.fromEntries(keys.map((k) => [k, resolve(obj[k], isNew)]));
}

function outputsRead(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => outputsRead(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if (k === 'Fn::GetStackOutput') out.push(`${(v as { StackName: string }).StackName}#${(v as { OutputName: string }).OutputName}`);
      else outputsRead(v, out);
    }
  }
  return out;
}

const NAME_KEYS = (type: string) => ['Name', `${type.split('::').pop()}Name`, 'GroupName'];

export function judge(before: AppSnapshot, after: AppSnapshot): Judgement {
  const changedOutputs = new Set<string>();
  const replaced = new Set<string>();
  const stale: string[] = [];
  const fixedNames: string[] = [];
  const proxiesReplaced: string[] = [];
  const deployed = new Set<string>();
  const subnetConflicts: string[] = [];
  const same = (a: StackSnapshot, b: StackSnapshot) => a.stackName === b.stackName && a.environment === b.environment;

  for (const cur of after.stacks) {
    const old = before.stacks.find((s) => same(s, cur));
    const outputs = cur.template.Outputs ?? {};
    if (!old) {
      deployed.add(cur.stackName);
      for (const o of Object.keys(outputs)) changedOutputs.add(`${cur.stackName}#${o}`);
      continue;
    }
    if (canonical(old.template) === canonical(cur.template)) {
      const reads = outputsRead(cur.template.Resources).filter((o) => changedOutputs.has(o));
      if (reads.length > 0) stale.push(`${cur.stackName} reads ${[...new Set(reads)].join(', ')}`);
      continue;
    }
    deployed.add(cur.stackName);
    const oldRes = old.template.Resources ?? {};
    const newRes = cur.template.Resources ?? {};
    const local = new Set<string>();
    // A launch template whose data changes gets a new LatestVersionNumber.
    for (const [id, r] of Object.entries(newRes)) {
      const o = oldRes[id];
      if (r.Type === 'AWS::EC2::LaunchTemplate' && o && canonical(o.Properties) !== canonical(r.Properties))
        local.add(`${id}.LatestVersionNumber`);
    }
    const isNewRef = (ref: string) => local.has(ref) || changedOutputs.has(ref);
    for (let grew = true; grew;) {
      grew = false;
      for (const [id, r] of Object.entries(newRes)) {
        const o = oldRes[id];
        if (!o || local.has(id)) continue;
        const props = replacingProperties(r.Type);
        const differs = (p: string) =>
          canonical(resolve(o.Properties?.[p], () => false)) !== canonical(resolve(r.Properties?.[p], isNewRef));
        if (o.Type !== r.Type || [...props].some(differs)) {
          local.add(id);
          grew = true;
        }
      }
    }
    for (const id of local) {
      if (id.includes('.')) continue;
      replaced.add(`${cur.stackName}/${id}`);
      const [o, r] = [oldRes[id] as CfnResource, newRes[id] as CfnResource];
      for (const key of NAME_KEYS(r.Type)) {
        const a = o.Properties?.[key];
        if (typeof a === 'string' && a === r.Properties?.[key]) fixedNames.push(`${cur.stackName}/${id} ${key}=${a}`);
      }
    }
    for (const [id, r] of Object.entries(newRes)) {
      const o = oldRes[id];
      if (!o) continue;
      const data = (x: CfnResource, isNew: (ref: string) => boolean) => {
        const d = (x.Properties?.LaunchTemplateData ?? {}) as Record<string, unknown>;
        return canonical(resolve([d.ImageId, d.InstanceType, d.UserData], isNew));
      };
      if (r.Type === 'AWS::EC2::LaunchTemplate' && data(o, () => false) !== data(r, isNewRef))
        proxiesReplaced.push(`${cur.stackName}/${id}`);
      if (r.Type === 'AWS::AutoScaling::AutoScalingGroup') {
        const subnets = (x: CfnResource, isNew: (ref: string) => boolean) => canonical(resolve(x.Properties?.VPCZoneIdentifier, isNew));
        if (local.has(id) || subnets(o, () => false) !== subnets(r, isNewRef)) proxiesReplaced.push(`${cur.stackName}/${id}`);
      }
    }
    for (const [id, r] of Object.entries(newRes)) {
      if (r.Type !== 'AWS::EC2::Subnet' || (oldRes[id] && !local.has(id))) continue;
      const vpc = (r.Properties?.VpcId as { Ref?: string } | undefined)?.Ref;
      if (vpc && local.has(vpc)) continue;
      const block = parseBlock(String(r.Properties?.CidrBlock));
      for (const [oid, o] of Object.entries(oldRes)) {
        if (o.Type !== 'AWS::EC2::Subnet' || canonical(o.Properties?.VpcId) !== canonical(r.Properties?.VpcId)) continue;
        const other = parseBlock(String(o.Properties?.CidrBlock));
        if (block.ok && other.ok && relation(block.block, other.block) !== null)
          subnetConflicts.push(`${cur.stackName}/${id} overlaps ${oid}`);
      }
    }
    for (const [name, output] of Object.entries(outputs)) {
      const o = old.template.Outputs?.[name];
      if (!o || canonical(resolve(o.Value, () => false)) !== canonical(resolve(output.Value, isNewRef)))
        changedOutputs.add(`${cur.stackName}#${name}`);
    }
  }
  return { replaced, stale, fixedNames, proxiesReplaced, deployed, changedOutputs, subnetConflicts };
}
