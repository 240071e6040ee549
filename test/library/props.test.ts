// EgressHubConfig (typed props with TSDoc) and the schema's input type must be the same type: this file
// does not compile when a field is added, removed or retyped in one of them alone (npm test runs tsc).
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError, planEgress, type EgressConfigInput, type EgressHubConfig } from '../../src/config';
import { buildPlan, loadConfigFile } from '../../src/config';
import { join } from 'node:path';
import { TWO_TENANTS } from '../fixtures/two-tenants';

/** The props are readonly, CDK style; the schema's input is mutable. Compare them without that difference. */
type Writable<T> = T extends string | number | boolean | undefined
  ? T
  : T extends ReadonlyArray<infer E>
    ? Writable<E>[]
    : { -readonly [K in keyof T]: Writable<T[K]> };

describe('EgressHubConfig', () => {
  it('is exactly the shape the schema accepts', () => {
    expectTypeOf<Writable<EgressHubConfig>>().toEqualTypeOf<Writable<EgressConfigInput>>();
  });

  it('plans like the YAML file it mirrors', () => {
    const file = join(__dirname, '..', 'fixtures', 'two-tenants.yaml');
    const fromYaml = buildPlan(loadConfigFile(file));
    const fromProps = planEgress(TWO_TENANTS);
    expect(fromProps).toEqual(fromYaml);
  });

  it('is validated as the YAML file is, naming each bad field', () => {
    const bad = {
      ...TWO_TENANTS,
      hub: { ...TWO_TENANTS.hub, cidr: '8.8.0.0/16' },
      tenants: [{ ...TWO_TENANTS.tenants[0], port: 80, allow: [] }, TWO_TENANTS.tenants[1]],
    };
    let error: unknown;
    try {
      planEgress(bad as EgressHubConfig);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as ConfigError).problems.map((p) => p.path).sort();
    expect(paths).toEqual(['hub.cidr', 'tenants[0].allow', 'tenants[0].port']);
    // No file, so no line: each problem is named by its field path in the props.
    const lines = (error as ConfigError).message.split('\n');
    expect(lines[0]).toBe('invalid config: 3 problems');
    expect(lines.slice(1).every((l) => /^ {2}EgressHubConfig: (hub|tenants)[.[]/.test(l))).toBe(true);
  });
});
