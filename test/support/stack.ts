// Shared test fixtures: apps with the same feature flags as cdk.json, a fixed fake account/region,
// plans built from the example config (or variations of it), and per-scenario synthesized templates
// cached so a scenario is synthesized once however many assertions read it.
import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parse, stringify } from 'yaml';
import { buildApp, cdkJsonContext } from '../../src/app';
import { buildPlan, parseConfig, type EgressPlan } from '../../src/config';

export const FAKE_ENV = { account: '123456789012', region: 'ap-northeast-1' } as const;
export const EXAMPLE_CONFIG = 'examples/egresshub.yaml';

export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...cdkJsonContext(), ...context } });
}

export function testStack(app: App = testApp(), id = 'Test'): Stack {
  return new Stack(app, id, { env: FAKE_ENV });
}

/** The example config as a plain object, to derive edge-case configs from. */
export function exampleConfig(): Record<string, unknown> {
  return parse(readFileSync(EXAMPLE_CONFIG, 'utf8')) as Record<string, unknown>;
}

/** The example config without its dns section: spokes then look up the endpoint's generated name. */
export function exampleConfigWithoutDns(): Record<string, unknown> {
  const config = exampleConfig();
  delete config.dns;
  return config;
}

/** A plan from a config object, validated exactly like a config file. */
export function planOf(config: Record<string, unknown>): EgressPlan {
  return buildPlan(parseConfig(stringify(config), 'test.yaml'));
}

export interface Synthesized {
  readonly app: App;
  readonly plan: EgressPlan;
  /** Templates by stack construct ID (`Hub`, `Spoke-<tenant>-<vpc>`). */
  readonly templates: ReadonlyMap<string, Template>;
  readonly hub: Template;
}

const cache = new Map<string, Synthesized>();

/** Builds the app for `plan` once per key and keeps the synthesized templates. */
export function synthOnce(key: string, plan: () => EgressPlan, context: Record<string, unknown> = {}): Synthesized {
  let s = cache.get(key);
  if (!s) {
    const p = plan();
    const app = buildApp(p, { context });
    const templates = new Map(
      app.node.children.filter((c): c is Stack => c instanceof Stack).map((st) => [st.node.id, Template.fromStack(st)]),
    );
    s = { app, plan: p, templates, hub: templates.get('Hub')! };
    cache.set(key, s);
  }
  return s;
}

/**
 * A hub template for a snapshot: CDK asset hashes (the squid.conf object, owned by the policy module) become a
 * marker, and the boot script and the policy apply document (user-data.ts's and policy-rollout.ts's, tested
 * there) become their names, so policy or script changes do not churn hub snapshots.
 */
export function hubSnapshotOf(t: Template): unknown {
  type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const json = JSON.parse(JSON.stringify(t.toJSON()).replace(/[0-9a-f]{64}/g, '<asset-hash>')) as { Resources: Resources };
  for (const r of Object.values(json.Resources)) {
    if (r.Type === 'AWS::SSM::Document') r.Properties.Content = '<policy apply document: src/hub/policy-rollout.ts>';
    const data = r.Properties?.LaunchTemplateData as { UserData?: unknown } | undefined;
    if (r.Type === 'AWS::EC2::LaunchTemplate' && data?.UserData) data.UserData = '<boot script: src/hub/user-data.ts>';
  }
  return json;
}

/** Every fleet mode with each egress it allows (nlb runs with NAT only): the variants a template check covers. */
export const FLEET_VARIANTS = [
  ['single', 'nat'],
  ['multi-az', 'nat'],
  ['nlb', 'nat'],
  ['single', 'public'],
  ['multi-az', 'public'],
] as const;

/** The example config in one fleet mode and egress. */
export function variantConfig(mode: string, egress: 'nat' | 'public'): Record<string, unknown> {
  const config = exampleConfig() as { hub: Record<string, unknown> & { proxy: Record<string, unknown> } };
  config.hub.proxy = { ...config.hub.proxy, mode };
  config.hub.egress = egress;
  if (egress === 'public') delete config.hub.natGateways;
  return config;
}

/** The user data script of the proxy whose launch template's ID starts with `proxy`, deploy-time tokens as `<token>`. */
export function userDataOf(t: Template, proxy = 'HubProxyA'): string {
  const [, lt] = Object.entries(t.findResources('AWS::EC2::LaunchTemplate')).find(([k]) => k.startsWith(proxy))!;
  const ud = (lt.Properties as { LaunchTemplateData: { UserData: { 'Fn::Base64': unknown } } }).LaunchTemplateData.UserData['Fn::Base64'];
  if (typeof ud === 'string') return ud;
  const [sep, parts] = (ud as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts.map((p) => (typeof p === 'string' ? p : '<token>')).join(sep);
}

/** The body of shell function `name` in `script` (`name() {` … `}`, each at the start of a line). */
export function shellFunctionBody(script: string, name: string): string {
  const m = new RegExp(`^${name}\\(\\) \\{\\n([\\s\\S]*?)\\n\\}$`, 'm').exec(script);
  if (!m) throw new Error(`no function ${name} in the script`);
  return m[1]!;
}
