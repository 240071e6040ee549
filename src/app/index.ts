// Assembles the CDK app from the plan (hub stack + one stack per spoke) and synthesizes it offline:
// the CLI `synth` command, `cdk synth` (bin/app.ts) and the lab all go through here.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { App, ContextProvider, Lazy, Stack, Tags } from 'aws-cdk-lib';
import * as cxschema from 'aws-cdk-lib/cloud-assembly-schema';
import { UsageError } from '../config/errors';
import type { EgressPlan } from '../config/plan';
import { findTenant } from '../config/plan';
import { fingerprint, GENERATION_TAG } from '../hub/generation';
import { EgressHubStack } from '../hub/hub-stack';
import { amazonLinuxImageParameter } from '../hub/proxy-fleet';
import type { TenantEndpoint } from '../hub/tenant-endpoints';
import { EgressTenantsStack } from '../hub/tenants-stack';
import type { EgressSpoke } from '../spoke/egress-spoke';
import { EgressSpokeStack } from '../spoke/spoke-stack';

/** Options of {@link buildApp} and {@link synthesize}. */
export interface BuildAppOptions {
  /** Cloud assembly directory. @default - a temporary directory chosen by the CDK */
  readonly outdir?: string;
  /**
   * Extra CDK context (e.g. `egresshub:resourceConfigurationArn:<tenant>` after the hub is deployed).
   * @default - cdk.json's feature flags and what cdk.context.json records
   */
  readonly context?: Record<string, unknown>;
  /**
   * Under the CDK CLI (`npx cdk synth|deploy`, bin/app.ts): lookups are the CLI's to make with credentials and
   * record in cdk.context.json. Offline (everything else: egresshub synth/diff, the lab, tests), the recorded
   * values are read from ./cdk.context.json and a proxy image not recorded yet becomes PLACEHOLDER_IMAGE.
   * @default false
   */
  readonly liveLookups?: boolean;
}

/**
 * The AMI ID offline templates carry while no image is recorded: the right shape (CloudFormation validation
 * checks it) for an image that does not exist, so such a template can never launch a proxy by mistake.
 */
export const PLACEHOLDER_IMAGE = 'ami-00000000000000000';

/** How the proxies' image is decided for a plan: pinned in the config, or a lookup recorded in context. */
export type ProxyImage =
  /** hub.proxy.image, when the config pins one. */
  | { readonly pinned: string; readonly lookup?: undefined }
  /** The recorded lookup: its context key (in cdk.context.json) and the public SSM parameter behind it. */
  | { readonly pinned?: undefined; readonly lookup: { readonly key: string; readonly parameterName: string } };

export function proxyImageOf(plan: EgressPlan): ProxyImage {
  if (plan.hub.proxy.imageId) return { pinned: plan.hub.proxy.imageId };
  const parameterName = amazonLinuxImageParameter(plan.hub.proxy.architecture);
  // The key the CDK computes for the lookup, so the value is found where `cdk synth` records it.
  const stack = new Stack(new App(), 'ImageKey', { env: { account: plan.account, region: plan.region } });
  const { key } = ContextProvider.getKey(stack, { provider: cxschema.ContextProvider.SSM_PARAMETER_PROVIDER, props: { parameterName } });
  return { lookup: { key, parameterName } };
}

/** The context recorded by earlier `cdk synth|deploy` runs in `dir` (cdk.context.json), or nothing. */
export function recordedContext(dir = process.cwd()): Record<string, unknown> {
  const file = join(dir, 'cdk.context.json');
  const fix = 'it is written by `npx cdk synth`: fix or delete it';
  if (!existsSync(file)) return {};
  let value: unknown;
  try {
    if (statSync(file).isDirectory()) throw new UsageError(`cannot read ${file}: it is a directory, not a file; ${fix}`);
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const why = e instanceof SyntaxError ? `not JSON (${e.message})` : ((e as NodeJS.ErrnoException).code ?? String(e));
    throw new UsageError(`cannot read ${file}: ${why}; ${fix}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError(
      `cannot read ${file}: it holds ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}, not a JSON object; ${fix}`,
    );
  return value as Record<string, unknown>;
}

/** Offline context: what is recorded, plus the placeholder image where nothing is (see `liveLookups`). */
function offlineContext(plan: EgressPlan): Record<string, unknown> {
  const recorded = recordedContext();
  const { lookup } = proxyImageOf(plan);
  return lookup && recorded[lookup.key] === undefined ? { ...recorded, [lookup.key]: PLACEHOLDER_IMAGE } : recorded;
}

/** One template synthesize() wrote: its stack, file, resource count and size. */
export interface SynthesizedStack {
  readonly stackName: string;
  readonly file: string;
  readonly resources: number;
  readonly bytes: number;
}

/** Construct ID of a spoke stack: stable per tenant and VPC, so adding spokes renames nothing. */
export function spokeStackId(spokeId: string): string {
  return `Spoke-${spokeId}`;
}

/** The CDK app the CLI deploys for a plan: the hub stack, one stack per block of tenants, one per spoke. */
export function buildApp(plan: EgressPlan, opts: BuildAppOptions = {}): App {
  const lookups = opts.liveLookups ? {} : offlineContext(plan);
  const app = new App({ outdir: opts.outdir, context: { ...cdkJsonContext(), ...lookups, ...seededContext(plan), ...opts.context } });
  const hub = new EgressHubStack(app, 'Hub', { plan });
  for (const shard of plan.tenantStacks) new EgressTenantsStack(app, shard.id, { plan, shard, hub: hub.hub });
  for (const spoke of plan.spokes) {
    // Same account and region as the hub: a direct cross-stack reference, which also orders the deploys.
    const local = !spoke.crossAccount && spoke.region === plan.region;
    const endpoint = local ? tenantEndpoint(app, plan, spoke.tenant) : undefined;
    const stack = new EgressSpokeStack(app, spokeStackId(spoke.id), {
      plan,
      spoke,
      resourceConfigurationArn: endpoint?.resourceConfigurationArn,
    });
    if (endpoint) followEndpoint(stack.spoke, endpoint);
  }
  return app;
}

/**
 * Makes a spoke in this app follow its tenant's resource configuration across replacements. The spoke reads
 * the configuration's ARN from another stack, a weak reference that CloudFormation does not update on its own,
 * so the spoke's endpoint carries a fingerprint of what the ARN depends on (hub/generation.ts): a replaced
 * configuration changes the spoke's template too. The ARN changes only when the configuration is replaced, and
 * its name is derived from exactly the inputs that replace it (EgressTenants), so the name is what is
 * fingerprinted: a port or target change that updates the configuration in place leaves the spoke as it is.
 * Spokes in other accounts get the ARN as a parameter instead; `egresshub diff` prints the command that rolls it.
 */
export function followEndpoint(spoke: EgressSpoke, endpoint: TenantEndpoint): void {
  const rcfg = endpoint.resourceConfiguration;
  const value = Lazy.string({ produce: () => fingerprint([Stack.of(rcfg).resolve(rcfg.name)]) });
  Tags.of(spoke.endpoint).add(GENERATION_TAG, value, { includeResourceTypes: ['AWS::EC2::VPCEndpoint'] });
}

/** The hub's endpoint for one tenant, in whichever tenants stack the plan put it. */
export function tenantEndpoint(app: App, plan: EgressPlan, tenant: string): TenantEndpoint {
  const t = findTenant(plan, tenant);
  const shard = plan.tenantStacks.find((s) => s.stackName === t.stack)!;
  return (app.node.findChild(shard.id) as EgressTenantsStack).tenants.endpoints.get(t.name)!;
}

/** Writes `<stack>.template.json` for every stack into outDir; no credentials, no lookups. */
export function synthesize(plan: EgressPlan, outDir: string, opts: Omit<BuildAppOptions, 'outdir'> = {}): { stacks: SynthesizedStack[] } {
  const assembly = buildApp(plan, { ...opts, outdir: outDir }).synth();
  // In deploy order, as people read it: the hub, its tenant stacks by port, then the spokes.
  const order = [plan.hub.stackName, ...plan.tenantStacks.map((t) => t.stackName), ...plan.spokes.map((s) => s.stackName)];
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  return {
    stacks: [...assembly.stacks]
      .sort((a, b) => rank(a.stackName) - rank(b.stackName))
      .map((s) => {
        const file = join(outDir, s.templateFile);
        const template = JSON.parse(readFileSync(file, 'utf8')) as { Resources?: Record<string, unknown> };
        return { stackName: s.stackName, file, resources: Object.keys(template.Resources ?? {}).length, bytes: statSync(file).size };
      }),
  };
}

/**
 * ec2.Vpc checks explicit AZs against the stack's AZ list, which would be a context lookup (AWS
 * credentials) for a stack with a concrete account. The plan already validated the AZ names, so
 * seed that lookup's answer with them: synth stays offline and `cdk synth` does not call AWS.
 */
export function seededContext(plan: EgressPlan): Record<string, unknown> {
  return { [`availability-zones:account=${plan.account}:region=${plan.region}`]: [...plan.hub.availabilityZones] };
}

/**
 * The context a first synth of a plan's stacks needs when the CDK may not look anything up (CI without AWS
 * credentials, a test): the hub's availability zones (`availability-zones:account=…:region=…`, the plan's own)
 * and the proxy image lookup (`ssm:account=…:parameterName=/aws/service/ami-amazon-linux-latest/…:region=…`),
 * answered with `image` (an AMI ID you choose), or PLACEHOLDER_IMAGE, which can never launch. Give it to
 * `new App({ context })`, or write it into cdk.context.json, where `cdk synth` with credentials records the same
 * keys. A config that pins hub.proxy.image needs only the zones.
 *
 * @example
 * const app = new App({ context: firstSynthContext(planEgress(config)) });
 */
export function firstSynthContext(plan: EgressPlan, image: string = PLACEHOLDER_IMAGE): Record<string, unknown> {
  const { lookup } = proxyImageOf(plan);
  return { ...seededContext(plan), ...(lookup ? { [lookup.key]: image } : {}) };
}

/** The feature flags in cdk.json, so apps built here behave exactly like `npx cdk synth`. */
export function cdkJsonContext(): Record<string, unknown> {
  const file = join(__dirname, '..', '..', 'cdk.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
}
