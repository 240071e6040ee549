// How the CLI reports AWS SDK failures: what the user can fix (no credentials, no region, access denied,
// a missing resource) is bad input (exit 2) with the fix; anything else is a failure (exit 1). Every
// command that talks to AWS goes through here, so the same mistake gets the same answer everywhere.
import { UsageError } from '../config/errors';

/** AWS refused or failed for a reason the user's input does not explain: exit code 1. */
export class AwsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AwsError';
  }
}

/**
 * The AWS SDK warns on Node 20 that its releases after January 2027 need Node 22. That is our support
 * policy's business (README "Node versions"), not the user's, and the warning would be printed before the
 * command's own output: call this before loading an SDK client.
 */
export function quietSdkNodeWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/**
 * The shape of every AWS Region name (`ap-northeast-1`, `us-gov-west-1`, `eu-central-2`): a typo such as `mars-1`
 * or `tokyo` is refused before any call, instead of ending as a DNS failure of a made-up endpoint name.
 * https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html
 */
const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** `value` when it is shaped like an AWS Region name; else UsageError naming the flag (exit 2). */
export function checkRegion(value: string, flag = '--region'): string {
  if (!REGION_RE.test(value))
    throw new UsageError(`${flag} ${value}: not an AWS Region name; write it as AWS does, e.g. ${flag} ap-northeast-1`);
  return value;
}

/** Network errors Node reports by code: the endpoint could not be reached at all. */
const UNREACHABLE: Readonly<Record<string, string>> = {
  ENOTFOUND: 'its name does not resolve',
  EAI_AGAIN: 'DNS did not answer',
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'the connection timed out',
  ENETUNREACH: 'the network is unreachable',
};

/**
 * Classifies an SDK error. `where` names the command's source (e.g. `--from-aws region ap-northeast-1`);
 * `needs` is the permission the call needs (e.g. `ec2:DescribeVpcs`).
 */
export function explainAwsError(
  e: unknown,
  where: string,
  needs: string,
  notFound = 'not found in this region; check the name and the region',
): Error {
  if (!(e instanceof Error)) return new AwsError(`${where}: ${String(e)}`);
  if (e instanceof UsageError || e instanceof AwsError) return e;
  const first = e.message.split('\n')[0];
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== undefined && UNREACHABLE[code]) {
    const host =
      (e as { hostname?: string }).hostname ?? /\b([a-z0-9.-]+\.amazonaws\.com(\.cn)?)\b/.exec(e.message)?.[1] ?? 'the AWS endpoint';
    return new AwsError(
      `${where}: cannot reach ${host} (${UNREACHABLE[code]}); check the network connection, any proxy (HTTPS_PROXY) and that the Region exists`,
    );
  }
  if (e.name === 'CredentialsProviderError' || /could not load credentials|credential/i.test(e.message))
    return new UsageError(`${where}: no AWS credentials found; set AWS_PROFILE or run \`aws sso login\` / \`aws configure\` (${first})`);
  if (/region is missing/i.test(e.message)) return new UsageError(`${where}: no AWS region; pass --region (or --regions) or --config FILE`);
  if (
    ['AccessDeniedException', 'UnauthorizedOperation', 'AccessDenied'].includes(e.name) ||
    /^(UnauthorizedOperation|AccessDenied)/.test(e.message)
  )
    return new UsageError(`${where}: access denied; the caller needs ${needs} (${first})`);
  if (e.name === 'ResourceNotFoundException') return new UsageError(`${where}: ${notFound} (${first})`);
  if (e.name === 'ExpiredTokenException' || e.name === 'ExpiredToken')
    return new UsageError(`${where}: the AWS session has expired; log in again (e.g. \`aws sso login\`) (${first})`);
  return new AwsError(`${where}: ${first}`);
}
