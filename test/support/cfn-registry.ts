// Validates synthesized CloudFormation templates against the CloudFormation registry data shipped in
// @aws-cdk/aws-service-spec (db.json.gz): unknown resource types and properties, missing required
// properties, wrong primitive types and values outside allowedValues are reported with their path.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

interface TypeRef {
  readonly type: string;
  readonly allowedValues?: readonly string[];
  readonly element?: TypeRef;
  readonly types?: readonly TypeRef[];
  readonly reference?: { readonly $ref: string };
}
interface PropertySpec {
  readonly type: TypeRef;
  readonly required?: boolean;
  readonly previousTypes?: readonly TypeRef[];
}
interface Entity {
  readonly $id: string;
  readonly cloudFormationType?: string;
  readonly name?: string;
  readonly properties: Readonly<Record<string, PropertySpec>>;
}
interface Db {
  readonly schema: {
    readonly resource: { readonly entities: Readonly<Record<string, Entity>> };
    readonly typeDefinition: { readonly entities: Readonly<Record<string, Entity>> };
  };
}

export interface TemplateProblem {
  /** Where: `Resources.<LogicalId>.Properties.<Prop>[.<Nested>...]`. */
  readonly path: string;
  readonly message: string;
}

let cached: { resources: Map<string, Entity>; types: Map<string, Entity> } | undefined;

function registry(): { resources: Map<string, Entity>; types: Map<string, Entity> } {
  if (!cached) {
    const file = require.resolve('@aws-cdk/aws-service-spec/db.json.gz');
    const db = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as Db;
    const resources = new Map<string, Entity>();
    for (const e of Object.values(db.schema.resource.entities)) if (e.cloudFormationType) resources.set(e.cloudFormationType, e);
    const types = new Map<string, Entity>();
    for (const e of Object.values(db.schema.typeDefinition.entities)) types.set(e.$id, e);
    cached = { resources, types };
  }
  return cached;
}

/** An intrinsic function or Ref: its value is only known at deploy time, so its type is not checked. */
function isIntrinsic(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'));
}

export function validateTemplate(template: unknown): TemplateProblem[] {
  const { resources, types } = registry();
  const problems: TemplateProblem[] = [];
  const res = (template as { Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }> }).Resources ?? {};

  const checkValue = (value: unknown, type: TypeRef, path: string): void => {
    if (isIntrinsic(value)) return;
    switch (type.type) {
      case 'string':
        if (typeof value !== 'string' && typeof value !== 'number')
          problems.push({ path, message: `expected a string, got ${JSON.stringify(value)}` });
        else if (type.allowedValues && !type.allowedValues.includes(String(value)))
          problems.push({ path, message: `value ${JSON.stringify(value)} is not one of ${type.allowedValues.join(', ')}` });
        return;
      case 'integer':
      case 'number':
        // CloudFormation accepts numbers written as strings.
        if (!(typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))))
          problems.push({ path, message: `expected a number, got ${JSON.stringify(value)}` });
        else if (type.type === 'integer' && !Number.isInteger(Number(value)))
          problems.push({ path, message: `expected an integer, got ${JSON.stringify(value)}` });
        return;
      case 'boolean':
        if (!(typeof value === 'boolean' || value === 'true' || value === 'false'))
          problems.push({ path, message: `expected a boolean, got ${JSON.stringify(value)}` });
        return;
      case 'array':
        if (!Array.isArray(value)) problems.push({ path, message: `expected a list, got ${JSON.stringify(value)}` });
        else value.forEach((v, i) => checkValue(v, type.element!, `${path}[${i}]`));
        return;
      case 'map':
        if (typeof value !== 'object' || value === null || Array.isArray(value)) problems.push({ path, message: 'expected a map' });
        else for (const [k, v] of Object.entries(value)) checkValue(v, type.element!, `${path}.${k}`);
        return;
      case 'tag':
        if (typeof value !== 'object' || value === null || !('Key' in value) || !('Value' in value))
          problems.push({ path, message: 'expected a tag {Key, Value}' });
        return;
      case 'ref': {
        const def = types.get(type.reference!.$ref);
        if (!def) return;
        if (typeof value !== 'object' || value === null || Array.isArray(value))
          problems.push({ path, message: `expected an object (${def.name})` });
        else checkObject(value as Record<string, unknown>, def.properties, path);
        return;
      }
      case 'union': {
        // Accept the value if any branch accepts it.
        const before = problems.length;
        for (const t of type.types ?? []) {
          const mark = problems.length;
          checkValue(value, t, path);
          if (problems.length === mark) {
            problems.length = before;
            return;
          }
          problems.length = mark;
        }
        problems.push({ path, message: `value ${JSON.stringify(value)} matches none of the allowed types` });
        return;
      }
      default:
        return; // json, date-time: free-form
    }
  };

  const checkObject = (obj: Record<string, unknown>, props: Readonly<Record<string, PropertySpec>>, path: string): void => {
    for (const [name, spec] of Object.entries(props)) {
      if (spec.required && !(name in obj)) problems.push({ path: `${path}.${name}`, message: 'required property is missing' });
    }
    for (const [name, value] of Object.entries(obj)) {
      const spec = props[name];
      if (!spec) {
        problems.push({ path: `${path}.${name}`, message: `unknown property (known: ${Object.keys(props).sort().join(', ')})` });
        continue;
      }
      // The registry keeps earlier shapes of a property; a value matching any of them is accepted.
      const mark = problems.length;
      checkValue(value, spec.type, `${path}.${name}`);
      if (problems.length > mark && spec.previousTypes?.length) {
        const failed = problems.splice(mark);
        const ok = spec.previousTypes.some((t) => {
          const m = problems.length;
          checkValue(value, t, `${path}.${name}`);
          const passed = problems.length === m;
          problems.length = m;
          return passed;
        });
        if (!ok) problems.push(...failed);
      }
    }
  };

  for (const [logicalId, resource] of Object.entries(res)) {
    const path = `Resources.${logicalId}`;
    if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource') continue;
    const entity = resources.get(resource.Type);
    if (!entity) {
      problems.push({ path, message: `unknown resource type ${resource.Type}` });
      continue;
    }
    checkObject(resource.Properties ?? {}, entity.properties, `${path}.Properties`);
  }
  return problems;
}
