// The "before" of `egresshub diff --deployed`: the templates CloudFormation holds now for the stacks of the new
// app, read with DescribeStacks (does it exist, in which account, in which state) and GetTemplate (the template
// as submitted, TemplateStage Original). Untested against AWS (no account here): the tests stub the client.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_GetTemplate.html
import { CloudFormationClient, DescribeStacksCommand, GetTemplateCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { parse as parseYaml } from 'yaml';
import { explainAwsError, quietSdkNodeWarning } from '../aws/errors';
import { UsageError } from '../config/errors';
import type { CfnTemplate, StackSnapshot } from './snapshot';

/** The permissions --deployed needs, named in its access-denied message. */
export const DEPLOYED_PERMISSIONS = 'cloudformation:DescribeStacks and cloudformation:GetTemplate';

export interface DeployedOptions {
  /** The CloudFormation client for a region (tests pass a stubbed one). @default a client with the default credentials */
  readonly clientFor?: (region: string) => CloudFormationClient;
}

export interface DeployedStacks {
  /** The deployed stacks found, as snapshots with the new app's construct IDs and dependencies. */
  readonly stacks: StackSnapshot[];
  /** Stacks of the new app with no deployed stack of that name: the diff shows them as new. */
  readonly notDeployed: readonly string[];
  /**
   * Stacks in another account than the hub's: the credentials that read the hub cannot read them. Their new
   * template stands in for the deployed one, so only what they are handed (a changed ARN parameter) shows.
   */
  readonly notRead: readonly { readonly stackName: string; readonly environment: string }[];
}

/** CloudFormation states in which the stack has no deployed template to compare with. */
const NOTHING_DEPLOYED = new Set(['REVIEW_IN_PROGRESS', 'DELETE_COMPLETE']);

/**
 * Reads the deployed template of every stack of `after` in the hub's account (`hubAccount`). The hub stack
 * must exist there, in that account; otherwise there is nothing to compare with (UsageError, exit 2).
 */
export async function readDeployed(
  after: readonly StackSnapshot[],
  hub: { readonly stackName: string; readonly account: string },
  opts: DeployedOptions = {},
): Promise<DeployedStacks> {
  quietSdkNodeWarning();
  const clients = new Map<string, CloudFormationClient>();
  const clientFor = (region: string) => {
    let c = clients.get(region);
    if (!c) {
      c = opts.clientFor?.(region) ?? new CloudFormationClient({ region });
      clients.set(region, c);
    }
    return c;
  };
  const stacks: StackSnapshot[] = [];
  const notDeployed: string[] = [];
  const notRead: { stackName: string; environment: string }[] = [];
  for (const cur of after) {
    const [account, region] = cur.environment.replace(/^aws:\/\//, '').split('/') as [string, string];
    if (account !== hub.account) {
      notRead.push({ stackName: cur.stackName, environment: cur.environment });
      stacks.push(cur);
      continue;
    }
    const where = `--deployed: stack ${cur.stackName} in ${region}`;
    const client = clientFor(region);
    const found = await describe(client, cur.stackName, where);
    if (!found || NOTHING_DEPLOYED.has(found.StackStatus ?? '')) {
      if (cur.stackName === hub.stackName)
        throw new UsageError(
          `${where}: the hub is not deployed there (with these credentials, account ${hub.account} expected); nothing to compare with. Check AWS_PROFILE and the region, or preview the first deploy with egresshub synth`,
        );
      notDeployed.push(cur.stackName);
      continue;
    }
    const deployedAccount = found.StackId?.split(':')[4];
    if (deployedAccount && deployedAccount !== account)
      throw new UsageError(
        `${where}: found in account ${deployedAccount}, but the config deploys it to account ${account}; use credentials of account ${account}`,
      );
    const template = await getTemplate(client, cur.stackName, where);
    stacks.push({ ...cur, template, paths: pathsOf(template, cur.paths) });
  }
  return { stacks, notDeployed, notRead };
}

async function describe(client: CloudFormationClient, stackName: string, where: string): Promise<Stack | undefined> {
  try {
    const out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    return out.Stacks?.[0];
  } catch (e) {
    // DescribeStacks answers a missing stack with a ValidationError "Stack with id NAME does not exist".
    if ((e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message)) return undefined;
    throw explainAwsError(e, where, DEPLOYED_PERMISSIONS);
  }
}

async function getTemplate(client: CloudFormationClient, stackName: string, where: string): Promise<CfnTemplate> {
  let body: string | undefined;
  try {
    body = (await client.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' }))).TemplateBody;
  } catch (e) {
    throw explainAwsError(e, where, DEPLOYED_PERMISSIONS);
  }
  if (!body) throw new UsageError(`${where}: CloudFormation returned no template body`);
  let template: unknown;
  try {
    template = JSON.parse(body);
  } catch {
    // A stack deployed by hand from a YAML template (the standalone spoke template is JSON; CDK deploys JSON).
    try {
      template = parseYaml(body);
    } catch (e) {
      throw new UsageError(`${where}: the deployed template is neither JSON nor plain YAML (${(e as Error).message.split('\n')[0]})`);
    }
  }
  if (typeof template !== 'object' || template === null || Array.isArray(template))
    throw new UsageError(`${where}: the deployed template is not a CloudFormation template (not an object)`);
  return template as CfnTemplate;
}

/**
 * Construct paths by logical ID: from the resources' `aws:cdk:path` metadata when the deployed template has it
 * (`cdk deploy` adds it), else the new app's (a logical ID is derived from its construct path).
 */
function pathsOf(template: CfnTemplate, fallback: ReadonlyMap<string, string>): Map<string, string> {
  const paths = new Map(fallback);
  for (const [id, r] of Object.entries(template.Resources ?? {})) {
    const path = (r?.Metadata as Record<string, unknown> | undefined)?.['aws:cdk:path'];
    if (typeof path === 'string') paths.set(id, `/${path}`);
  }
  return paths;
}
