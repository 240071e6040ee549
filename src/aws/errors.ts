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
