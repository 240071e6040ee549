// The "before" of `egresshub diff --from DIR`: a cloud assembly someone else synthesized (an earlier release's
// `egresshub synth` or `cdk synth`, kept from the last deploy). Unlike the assemblies diff synthesizes itself, it
// is input: every way it can be wrong (not a directory, not an assembly, a Stage's outer assembly, a template
// missing, another app's stacks) is one clear line, exit 2, before anything is synthesized or compared.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../config/errors';
import type { EgressPlan } from '../config/plan';
import { shown } from '../untrusted/text';
import { describeFsError } from '../cli/paths';
import { readAssembly, type CfnTemplate, type StackSnapshot } from './snapshot';

const MAKE_ONE =
  'give the cdk.out that the deployed release synthesized (`egresshub synth -o DIR` or `npx cdk synth` with that release and config)';

interface RawArtifact {
  readonly type?: unknown;
  readonly properties?: { readonly templateFile?: unknown; readonly directoryName?: unknown };
  readonly additionalMetadataFile?: unknown;
}

/**
 * The stacks of the cloud assembly in `dir`, checked as untrusted input: UsageError (exit 2) naming `flag`,
 * the file and the fix for anything that is not a readable cloud assembly with at least one stack.
 */
export function readAssemblyFrom(dir: string, flag = '--from'): StackSnapshot[] {
  const where = `${flag} ${shown(dir)}`;
  if (dir.trim() === '') throw new UsageError(`${flag} is empty; ${MAKE_ONE}`);
  const abs = resolve(dir);
  let stat;
  try {
    stat = statSync(abs, { throwIfNoEntry: false });
  } catch (e) {
    throw new UsageError(`${where}: ${describeFsError((e as NodeJS.ErrnoException).code)}`);
  }
  if (!stat) throw new UsageError(`${where}: no such directory; ${MAKE_ONE}`);
  if (!stat.isDirectory()) {
    const parent = abs.endsWith('/manifest.json') ? `: name its directory, ${flag} ${shown(abs.slice(0, -'/manifest.json'.length))}` : '';
    throw new UsageError(
      `${where}: a file, not a directory; a cloud assembly is a directory with manifest.json${parent || `; ${MAKE_ONE}`}`,
    );
  }
  const manifestFile = join(abs, 'manifest.json');
  if (!existsSync(manifestFile)) throw new UsageError(`${where}: not a cloud assembly (no manifest.json in it); ${MAKE_ONE}`);
  const manifest = readJsonFile(manifestFile, where) as { artifacts?: unknown };
  if (typeof manifest !== 'object' || manifest === null || typeof manifest.artifacts !== 'object' || manifest.artifacts === null)
    throw new UsageError(`${where}: not a cloud assembly (manifest.json has no "artifacts" object); ${MAKE_ONE}`);
  const artifacts = Object.entries(manifest.artifacts as Record<string, RawArtifact>);
  const stacks = artifacts.filter(([, a]) => a?.type === 'aws:cloudformation:stack');
  if (stacks.length === 0) {
    const nested = artifacts.filter(([, a]) => a?.type === 'cdk:cloud-assembly').map(([, a]) => a.properties?.directoryName);
    const inner = nested.filter((d): d is string => typeof d === 'string').map((d) => join(dir, d));
    throw new UsageError(
      inner.length > 0
        ? `${where}: holds no stack of its own, only nested assemblies (a CDK Stage): name the one with the hub, e.g. ${flag} ${shown(inner[0]!)}`
        : `${where}: a cloud assembly without any stack; ${MAKE_ONE}`,
    );
  }
  // Every file the manifest names must be there: a trimmed or half-written cdk.out would make its stacks
  // look removed (or their resources look new) instead of saying what is missing.
  for (const [id, a] of stacks) {
    const template = typeof a.properties?.templateFile === 'string' ? a.properties.templateFile : `${id}.template.json`;
    const file = join(abs, template);
    if (!existsSync(file))
      throw new UsageError(`${where}: stack ${shown(id)} is in manifest.json but its template ${shown(template)} is missing; ${MAKE_ONE}`);
    const parsed = readJsonFile(file, where) as CfnTemplate;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new UsageError(`${where}: ${shown(template)} is not a CloudFormation template (not a JSON object); ${MAKE_ONE}`);
    if (typeof a.additionalMetadataFile === 'string') {
      const meta = join(abs, a.additionalMetadataFile);
      if (!existsSync(meta))
        throw new UsageError(`${where}: stack ${shown(id)}'s metadata file ${shown(a.additionalMetadataFile)} is missing; ${MAKE_ONE}`);
      readJsonFile(meta, where);
    }
  }
  return readAssembly(abs);
}

/**
 * Checks that `before` (an assembly or the deployed stacks) holds the hub of `plan`: the same stack name in the
 * same account and region, with a resource gateway. Another app's assembly, another hub's (`name`) or one
 * synthesized for another account or region is refused, since every stack would show as new and the old ones
 * as left running.
 */
export function checkSameHub(before: readonly StackSnapshot[], plan: EgressPlan, source: string, configFile: string): void {
  const env = `aws://${plan.account}/${plan.region}`;
  const hub = before.find((s) => s.stackName === plan.hub.stackName && s.environment === env);
  const list = before.map((s) => `${s.stackName} (${s.environment})`);
  const listed = list.length > 6 ? `${list.slice(0, 6).join(', ')} and ${list.length - 6} more` : list.join(', ');
  if (!hub) {
    const sameName = before.find((s) => s.stackName === plan.hub.stackName);
    throw new UsageError(
      sameName
        ? `${source}: its hub stack ${plan.hub.stackName} is in ${sameName.environment}, but ${configFile} deploys it to ${env}; compare with the assembly of this account and region`
        : `${source}: not this hub's stacks: it has ${listed}, but ${configFile} deploys hub ${plan.hub.stackName} to ${env}. ` +
            `Give the assembly synthesized from this config (same name, account, region); to preview a change of name, diff the two configs: egresshub diff OLD.yaml NEW.yaml`,
    );
  }
  const types = Object.values(hub.template.Resources ?? {}).map((r) => r?.Type);
  if (!types.includes('AWS::VpcLattice::ResourceGateway'))
    throw new UsageError(
      `${source}: stack ${hub.stackName} has no resource gateway (AWS::VpcLattice::ResourceGateway), so it is not an egresshub hub; ${MAKE_ONE}`,
    );
}

/**
 * The stacks of `before` that belong to the hub of `plan` (its hub, tenant and spoke stacks, by the names the
 * plan gives them), and the others: an app that includes egresshub's templates beside its own stacks
 * (CfnInclude, README "From Python, Java, Go or .NET") has an assembly with both, and its own stacks are not
 * egresshub's to show as removed.
 */
export function hubStacksOf(
  before: readonly StackSnapshot[],
  plan: EgressPlan,
): { readonly stacks: StackSnapshot[]; readonly others: StackSnapshot[] } {
  const escaped = plan.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const ours = new RegExp(`^${escaped}-(hub|tenants-\\d+|spoke-.+)$`);
  return { stacks: before.filter((s) => ours.test(s.stackName)), others: before.filter((s) => !ours.test(s.stackName)) };
}

function readJsonFile(file: string, where: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${where}: cannot read ${shown(file)}: ${describeFsError((e as NodeJS.ErrnoException).code)}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${where}: ${shown(file)} is not JSON (${(e as Error).message}); ${MAKE_ONE}`);
  }
}
