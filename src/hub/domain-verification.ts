// Proves to VPC Lattice that the organisation owns the proxies' public domain: a DomainVerification,
// its TXT record in the given public hosted zone, and a waiter that holds the hub stack until the
// domain reads VERIFIED, so spoke endpoints (deployed after the hub) never meet a pending domain.
import { CustomResource, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as lattice from 'aws-cdk-lib/aws-vpclattice';
import { Construct } from 'constructs';

/** Properties of {@link DomainVerification}. */
export interface DomainVerificationProps {
  /** The domain whose subdomains carry the tenants' proxy names (verification covers subdomains). */
  readonly domainName: string;
  /** Public Route 53 hosted zone of that domain (or a parent), where the TXT record goes. */
  readonly publicHostedZoneId: string;
  /** Retention of the waiter function's log group. */
  readonly logRetentionDays: number;
}

/** VPC Lattice's verification of the tenants' proxy domain: the TXT record in the public zone and a waiter. */
export class DomainVerification extends Construct {
  /**
   * How long the waiter polls. A Lambda runs at most 15 minutes; DNS verification normally completes
   * within minutes of the TXT record appearing. AWS publishes no upper bound (UNCONFIRMED).
   */
  static readonly WAIT = Duration.minutes(14);

  readonly verification: lattice.CfnDomainVerification;
  readonly txtRecord: route53.CfnRecordSet;
  /** Depend on this to run after the domain is verified. */
  readonly verified: CustomResource;

  constructor(scope: Construct, id: string, props: DomainVerificationProps) {
    super(scope, id);
    // https://docs.aws.amazon.com/vpc-lattice/latest/ug/resource-configuration.html#custom-domain-name-resource-providers
    this.verification = new lattice.CfnDomainVerification(this, 'Resource', { domainName: props.domainName });
    const logGroup = new logs.LogGroup(this, 'WaiterLogs', { retention: props.logRetentionDays as logs.RetentionDays });
    const role = new iam.Role(this, 'WaiterRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'egresshub: waits for the VPC Lattice domain verification',
      inlinePolicies: {
        waiter: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({ actions: ['vpc-lattice:GetDomainVerification'], resources: [this.verification.attrArn] }),
            new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.logGroupArn}:*`] }),
          ],
        }),
      },
    });
    const fn = new lambda.Function(this, 'Waiter', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline(WAITER_SOURCE),
      timeout: Duration.minutes(15),
      role,
      logGroup,
      description: `egresshub: waits until ${props.domainName} is verified for VPC Lattice`,
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup)}.Arn>:*]`,
      reason: 'log streams of the waiter are created at run time under its own log group',
    });
    // The TXT record's name and value are an object attribute (TxtMethodConfig) that CloudFormation's
    // GetAtt does not address field by field, so the same function reads them with GetDomainVerification.
    const txt = new CustomResource(this, 'TxtMethod', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::EgressHubDomainTxt',
      properties: { Mode: 'describe', DomainVerificationId: this.verification.attrId },
    });
    this.txtRecord = new route53.CfnRecordSet(this, 'TxtRecord', {
      hostedZoneId: props.publicHostedZoneId,
      name: txt.getAttString('Name'),
      type: 'TXT',
      ttl: '300',
      // TXT values are quoted strings in Route 53.
      resourceRecords: [Fn.join('', ['"', txt.getAttString('Value'), '"'])],
    });
    this.verified = new CustomResource(this, 'Verified', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::EgressHubDomainVerified',
      properties: { Mode: 'wait', DomainVerificationId: this.verification.attrId, WaitSeconds: DomainVerification.WAIT.toSeconds() },
    });
    this.verified.node.addDependency(this.txtRecord);
  }
}

/**
 * The waiter Lambda (inline, no asset: the hub deploys without an asset bucket). Mode `describe`
 * returns the TXT record to publish; mode `wait` polls GetDomainVerification until VERIFIED. It answers
 * CloudFormation itself. It relies on the runtime's bundled AWS SDK v3 having the VPC Lattice client
 * (UNCONFIRMED for every Region's runtime build); without it both modes fail loudly with the reason and the
 * manual way out, never SUCCESS: a waiter that cannot ask must not let spokes meet a pending domain.
 */
export const WAITER_SOURCE = `
const https = require('https');
const url = require('url');
function respond(event, status, reason, data) {
  const body = JSON.stringify({ Status: status, Reason: reason, PhysicalResourceId: event.ResourceProperties.DomainVerificationId,
    StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId, Data: data || {} });
  const u = url.parse(event.ResponseURL);
  return new Promise((resolve) => {
    const req = https.request({ hostname: u.hostname, path: u.path, method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) } }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', resolve);
    req.end(body);
  });
}
exports.handler = async (event) => {
  if (event.RequestType === 'Delete') return respond(event, 'SUCCESS', 'nothing to delete');
  const props = event.ResourceProperties;
  const id = props.DomainVerificationId;
  let sdk;
  try { sdk = require('@aws-sdk/client-vpc-lattice'); } catch (e) { sdk = undefined; }
  if (!sdk || !sdk.GetDomainVerificationCommand) {
    return respond(event, 'FAILED', 'cannot ask VPC Lattice: the Lambda runtime SDK has no GetDomainVerification (@aws-sdk/client-vpc-lattice); ' +
      'publish the TXT record from aws vpc-lattice get-domain-verification by hand, wait for VERIFIED, and remove dns.verify');
  }
  const client = new sdk.VPCLatticeClient({});
  if (props.Mode === 'describe') {
    try {
      const r = await client.send(new sdk.GetDomainVerificationCommand({ domainVerificationIdentifier: id }));
      return respond(event, 'SUCCESS', 'read', { Name: r.txtMethodConfig.name, Value: r.txtMethodConfig.value });
    } catch (e) { return respond(event, 'FAILED', 'GetDomainVerification failed: ' + (e && e.message)); }
  }
  const deadline = Date.now() + Number(props.WaitSeconds) * 1000;
  let status = 'PENDING';
  while (Date.now() < deadline) {
    try {
      const r = await client.send(new sdk.GetDomainVerificationCommand({ domainVerificationIdentifier: id }));
      status = r.status;
      if (status === 'VERIFIED') return respond(event, 'SUCCESS', 'verified', { Status: status });
      if (status === 'VERIFICATION_TIMED_OUT') break;
    } catch (e) { console.log('GetDomainVerification failed, retrying:', e && e.message); }
    await new Promise((r) => setTimeout(r, 15000));
  }
  return respond(event, 'FAILED', 'domain ' + id + ' is ' + status + ' after waiting; check the TXT record in the public hosted zone, then deploy again');
};
`;
