// The inventory straight from AWS: DescribeVpcs (paginated) with the AWS SDK v3 for every
// profile × region asked for. Only this module talks to AWS; tests replace the client's transport
// with recorded responses.
import type { EC2Client, Vpc } from '@aws-sdk/client-ec2';
import { explainAwsError, quietSdkNodeWarning } from '../aws/errors';
import { UsageError } from '../config/errors';
import { fromEc2Vpc, mergeInventories, toRecords, type VpcRecord } from './inventory';

export interface AwsTarget {
  /** Named profile from the shared AWS config; undefined uses the default credential chain. */
  readonly profile?: string;
  readonly region: string;
}

export interface FetchOptions {
  readonly targets: readonly AwsTarget[];
  /** Makes the client for a target (tests inject clients whose `send` is mocked). */
  readonly clientFor?: (t: AwsTarget) => EC2Client;
  /** Called before each target, for progress output. */
  readonly onTarget?: (t: AwsTarget) => void;
}

/** Every combination of the given profiles (none = default credentials) and regions. */
export function awsTargets(profiles: readonly string[], regions: readonly string[]): AwsTarget[] {
  if (regions.length === 0) {
    throw new UsageError('--from-aws needs at least one region: pass --regions ap-northeast-1[,us-east-1…]');
  }
  const ps: (string | undefined)[] = profiles.length > 0 ? [...profiles] : [undefined];
  return ps.flatMap((profile) => regions.map((region) => (profile ? { profile, region } : { region })));
}

/** The EC2 SDK takes ~200 ms to load: only `--from-aws` pays for it, not every CLI command. */
function sdk(): typeof import('@aws-sdk/client-ec2') {
  quietSdkNodeWarning();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2');
}

const defaultClient = (t: AwsTarget): EC2Client =>
  new (sdk().EC2Client)({ region: t.region, ...(t.profile ? { profile: t.profile } : {}) });

export async function fetchInventory(opts: FetchOptions): Promise<VpcRecord[]> {
  const clientFor = opts.clientFor ?? defaultClient;
  const lists: VpcRecord[][] = [];
  for (const t of opts.targets) {
    opts.onTarget?.(t);
    const client = clientFor(t);
    const vpcs: Vpc[] = [];
    try {
      for await (const page of sdk().paginateDescribeVpcs({ client, pageSize: 1000 }, {})) vpcs.push(...(page.Vpcs ?? []));
    } catch (e) {
      throw explainAwsError(
        e,
        `--from-aws DescribeVpcs (${t.profile ? `profile ${t.profile}, ` : ''}region ${t.region})`,
        'ec2:DescribeVpcs',
      );
    } finally {
      client.destroy();
    }
    lists.push(
      toRecords(
        vpcs.map((v) => fromEc2Vpc(v, t.region)),
        (i) => `DescribeVpcs ${t.region} [${i}]`,
      ),
    );
  }
  // A VPC shared through RAM shows up under its owner's account in every participant's listing: merge them.
  return mergeInventories(...lists);
}

export { AwsError } from '../aws/errors';
