// EgressSpoke: what a project VPC needs to use the hub: a Resource VPC endpoint for its tenant's
// resource configuration, a security group admitting the VPC's own CIDR on the tenant port only, and
// the proxy URL (in an SSM parameter, so instances can configure themselves).
import { Annotations, Aws, CfnOutput, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as lattice from 'aws-cdk-lib/aws-vpclattice';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { UsageError } from '../config/errors';
import { checkStackLimits } from '../hub/limits';
import { acknowledgeForCdkNag2 } from '../hub/nag';
import { referencedResources, weakReference } from '../hub/references';

/** Properties of {@link EgressSpoke}. */
export interface EgressSpokeProps {
  /** The tenant's name: used in descriptions and the default parameter name. */
  readonly tenant: string;
  /** The tenant's proxy port (the only port its resource configuration carries). */
  readonly port: number;
  /** ARN of the tenant's resource configuration in the hub account (shared via RAM when cross-account). */
  readonly resourceConfigurationArn: string;
  /** The project VPC's ID. */
  readonly vpcId: string;
  /** CIDR of the spoke VPC (its primary block): admitted to the endpoint. */
  readonly vpcCidr: string;
  /**
   * The VPC's secondary CIDR blocks, admitted too (servers there use the proxy as well). Entries that are
   * empty strings are skipped, so a template can pass optional parameters.
   * @default - none: only vpcCidr
   */
  readonly additionalVpcCidrs?: readonly string[];
  /** Subnets for the endpoint's ENIs, in at least two AZs. */
  readonly subnetIds: readonly string[];
  /**
   * SSM parameter that receives the proxy URL.
   * @default `/egresshub/<tenant>/<vpcId>/proxy-url` (`/egresshub/<tenant>/proxy-url` when the VPC ID is a token)
   */
  readonly proxyUrlParameterName?: string;
  /**
   * Look up the endpoint's DNS name at deploy time (DescribeVpcEndpointAssociations through a
   * CDK-managed Lambda) and store `http://<name>:<port>` in the SSM parameter. Without it the
   * template holds no Lambda and the name is looked up by the command in the `ProxyHostCommand` output.
   * @default true
   */
  readonly resolveProxyName?: boolean;
  /**
   * The tenant's stable proxy name (the custom domain name of its resource configuration). With it the
   * endpoint gets private DNS for exactly that name, the proxy URL is `http://<proxyHost>:<port>` in
   * every VPC of the tenant, and no deploy-time lookup is needed.
   * @default - no private DNS; the endpoint's generated name is looked up (see resolveProxyName)
   */
  readonly proxyHost?: string;
  /**
   * Whether proxyHost lies under a domain verified by the hub (dns.verify). Verified names are served by
   * the default private DNS preference; unverified ones must be named in PrivateDnsSpecifiedDomains.
   * @default false
   */
  readonly verifiedDomain?: boolean;
}

/** An EgressSpoke given props it cannot build (exit code 2). */
export class SpokeError extends UsageError {}

/**
 * A project VPC's way to the hub: a resource VPC endpoint for the tenant's resource configuration, a security
 * group that admits the VPC's blocks on the tenant's port, and the proxy URL in an SSM parameter.
 */
export class EgressSpoke extends Construct implements ec2.IConnectable {
  static readonly MIN_SUBNETS = 2;

  readonly endpoint: ec2.CfnVPCEndpoint;
  readonly securityGroup: ec2.CfnSecurityGroup;
  /** `http://<endpoint DNS name>:<port>`, or undefined when `resolveProxyName` is false. */
  readonly proxyUrl?: string;
  readonly proxyUrlParameter?: ssm.StringParameter;
  /**
   * The endpoint's security group, default port the tenant's: admit your clients by group as well as by CIDR
   * (`spoke.connections.allowDefaultPortFrom(asg)`).
   */
  readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, props: EgressSpokeProps) {
    super(scope, id);
    const resolveProxyName = props.proxyHost === undefined && (props.resolveProxyName ?? true);
    // Keyed by VPC too: one tenant may have spokes in several VPCs of the same account.
    const parameterName =
      props.proxyUrlParameterName ??
      // A deploy-time VPC ID (the standalone template's parameter) still keys the name, so a tenant can
      // deploy the template into several VPCs of one account.
      (Token.isUnresolved(props.vpcId)
        ? Fn.join('', ['/egresshub/', props.tenant, '/', props.vpcId, '/proxy-url'])
        : `/egresshub/${props.tenant}/${props.vpcId}/proxy-url`);
    if (
      !Token.isUnresolved([...props.subnetIds]) &&
      !props.subnetIds.some((s) => Token.isUnresolved(s)) &&
      props.subnetIds.length < EgressSpoke.MIN_SUBNETS
    ) {
      throw new SpokeError(
        `spoke for tenant "${props.tenant}": a resource endpoint needs subnets in at least ${EgressSpoke.MIN_SUBNETS} AZs (got ${props.subnetIds.length}: ${props.subnetIds.join(', ') || 'none'}); list one subnet per AZ`,
      );
    }
    if (!Token.isUnresolved(props.resourceConfigurationArn) && !RCFG_ARN_RE.test(props.resourceConfigurationArn)) {
      throw new SpokeError(
        `spoke for tenant "${props.tenant}": "${props.resourceConfigurationArn}" is not a resource configuration ARN; copy the ResourceConfigurationArn output of the tenant's stack, <name>-tenants-<port block> (arn:aws:vpc-lattice:<region>:<account>:resourceconfiguration/rcfg-…)`,
      );
    }

    checkAgainstTenant(this, props);
    checkStackLimits(this);
    // cdk-nag 2 reads acknowledgements from resource metadata, cdk-nag 3 from Validations (nag.ts).
    acknowledgeForCdkNag2(this);

    // L1 on purpose: the standalone template passes VpcId as a parameter, and an L2 group would need an IVpc.
    this.securityGroup = new ec2.CfnSecurityGroup(this, 'SecurityGroup', {
      vpcId: props.vpcId,
      groupDescription: `egresshub ${props.tenant}: proxy port ${props.port} from this VPC only`,
      // The primary block's rule comes first and never changes, so adding secondary blocks updates the group in place.
      securityGroupIngress: [
        {
          ipProtocol: 'tcp',
          fromPort: props.port,
          toPort: props.port,
          cidrIp: props.vpcCidr,
          description: 'servers in this VPC to the proxy',
        },
        ...(props.additionalVpcCidrs ?? []).map((cidrIp) => ({
          ipProtocol: 'tcp',
          fromPort: props.port,
          toPort: props.port,
          cidrIp,
          description: "servers in this VPC's secondary CIDR block to the proxy",
        })),
      ],
    });

    this.connections = new ec2.Connections({
      securityGroups: [
        ec2.SecurityGroup.fromSecurityGroupId(this, 'SecurityGroupRef', this.securityGroup.attrGroupId, { allowAllOutbound: false }),
      ],
      defaultPort: ec2.Port.tcp(props.port),
    });

    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-vpcendpoint.html
    this.endpoint = new ec2.CfnVPCEndpoint(this, 'Endpoint', {
      vpcEndpointType: 'Resource',
      vpcId: props.vpcId,
      // From a tenants stack of this app: read weakly whatever the app's flags, so a replaced configuration
      // never meets "export in use" (hub/references.ts).
      resourceConfigurationArn: weakReference(this, props.resourceConfigurationArn),
      subnetIds: [...props.subnetIds],
      securityGroupIds: [this.securityGroup.attrGroupId],
      ...(props.proxyHost !== undefined ? privateDns(props.proxyHost, props.verifiedDomain ?? false) : {}),
    });

    // A Resource endpoint's DNS name is not a template attribute (DnsEntries is documented for
    // interface endpoints only); DescribeVpcEndpointAssociations is the documented way to read it.
    new CfnOutput(this, 'ProxyHostCommand', {
      value: Fn.join('', [
        'aws ec2 describe-vpc-endpoint-associations --region ',
        Aws.REGION,
        ' --vpc-endpoint-ids ',
        this.endpoint.ref,
        " --query 'VpcEndpointAssociations[0].DnsEntry.DnsName' --output text",
      ]),
      description: `prints the endpoint's DNS name; the proxy is http://<that name>:${props.port}`,
    });
    new CfnOutput(this, 'EndpointId', { value: this.endpoint.ref, description: `resource endpoint of tenant ${props.tenant}` });

    // The same URL in every VPC of the tenant when it has a custom domain: AWS serves the name from a
    // managed private hosted zone in this VPC (needs enableDnsSupport and enableDnsHostnames on the VPC).
    // https://docs.aws.amazon.com/vpc/latest/privatelink/use-resource-endpoint.html
    let proxyUrl = props.proxyHost !== undefined ? `http://${props.proxyHost}:${props.port}` : undefined;
    if (resolveProxyName) {
      const lookup = new cr.AwsCustomResource(this, 'ProxyName', {
        onUpdate: {
          service: 'EC2',
          action: 'describeVpcEndpointAssociations',
          parameters: { VpcEndpointIds: [this.endpoint.ref] },
          physicalResourceId: cr.PhysicalResourceId.of(this.endpoint.ref),
          outputPaths: ['VpcEndpointAssociations.0.DnsEntry.DnsName'],
        },
        // DescribeVpcEndpointAssociations has no resource-level permissions.
        policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
        installLatestAwsSdk: false,
      });
      Validations.of(lookup).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ec2:DescribeVpcEndpointAssociations is a read-only call without resource-level permissions',
      });
      proxyUrl = Fn.join('', ['http://', lookup.getResponseField('VpcEndpointAssociations.0.DnsEntry.DnsName'), `:${props.port}`]);
      acknowledgeCustomResourceProvider(Stack.of(this));
    }

    if (proxyUrl !== undefined) {
      this.proxyUrl = proxyUrl;
      this.proxyUrlParameter = new ssm.StringParameter(this, 'ProxyUrl', {
        parameterName,
        // A name with slashes; said explicitly because a deploy-time name cannot be inspected.
        simpleName: false,
        stringValue: proxyUrl,
        description: `egresshub proxy URL for tenant ${props.tenant} (HTTP_PROXY / HTTPS_PROXY)`,
      });
      new CfnOutput(this, 'ProxyUrlOutput', { value: proxyUrl, description: `proxy URL of tenant ${props.tenant}` });
    }
  }
}

/**
 * Private DNS for the tenant's custom domain. PrivateDnsEnabled and the preference cannot change after
 * creation (they replace the endpoint), so they are set only when the config names a domain. An
 * unverified name (e.g. proxy names under egress.internal) gets a zone only when it is listed in
 * PrivateDnsSpecifiedDomains; SPECIFIED_DOMAINS_ONLY keeps every other name out of this VPC.
 * https://docs.aws.amazon.com/vpc-lattice/latest/ug/resource-configuration.html#custom-domain-name-resource-consumers
 */
export function privateDns(host: string, verified: boolean): Pick<ec2.CfnVPCEndpointProps, 'privateDnsEnabled' | 'dnsOptions'> {
  return {
    privateDnsEnabled: true,
    dnsOptions: verified
      ? { privateDnsPreference: 'VERIFIED_DOMAINS_ONLY' }
      : { privateDnsPreference: 'SPECIFIED_DOMAINS_ONLY', privateDnsSpecifiedDomains: [host] },
  };
}

/**
 * When the ARN comes from a resource configuration in this app (EgressTenants), the spoke must use its port,
 * the only one it carries (a spoke on another port synthesizes and deploys, and never connects), and sit in its
 * Region (AWS documents resource endpoints for configurations of their own Region only).
 */
function checkAgainstTenant(spoke: EgressSpoke, props: EgressSpokeProps): void {
  const rcfg = referencedResources(props.resourceConfigurationArn).find((r) => r instanceof lattice.CfnResourceConfiguration);
  if (!rcfg) return;
  const where = `${spoke.node.path} (spoke for tenant "${props.tenant}")`;
  const ports = rcfg.portRanges;
  if (
    ports !== undefined &&
    !Token.isUnresolved(ports) &&
    !ports.some((p) => Token.isUnresolved(p)) &&
    !ports.includes(String(props.port))
  ) {
    throw new SpokeError(
      `${where}: port ${props.port} is not the port of its resource configuration ${rcfg.node.path} (${ports.join(', ')}); ` +
        `give the tenant's port, e.g. \`port: tenants.endpoint('${props.tenant}').tenant.port\``,
    );
  }
  const [mine, theirs] = [Stack.of(spoke).region, Stack.of(rcfg).region];
  if (!Token.isUnresolved(mine) && !Token.isUnresolved(theirs) && mine !== theirs) {
    // AWS documents resource endpoints and RAM shares of resource configurations within one Region and says nothing
    // of other Regions (UNCONFIRMED either way): a warning to acknowledge, not a refusal.
    // https://docs.aws.amazon.com/vpc/latest/privatelink/use-resource-endpoint.html
    Annotations.of(spoke).addWarningV2(
      'egresshub:spoke:region',
      `${where}: stack ${Stack.of(spoke).node.path} is in ${mine}, its resource configuration ${rcfg.node.path} in ${theirs}; ` +
        `AWS documents resource endpoints for configurations of their own Region only: put the spoke's stack in ${theirs}, or run a hub in ${mine}`,
    );
  }
}

export const RCFG_ARN_PATTERN = '^arn:aws[a-z-]*:vpc-lattice:[a-z0-9-]+:\\d{12}:resourceconfiguration/rcfg-[0-9a-z]+$';
const RCFG_ARN_RE = new RegExp(RCFG_ARN_PATTERN);

/** The AwsCustomResource Lambda is a stack-wide singleton; acknowledge its findings once, on it. */
function acknowledgeCustomResourceProvider(stack: Stack): void {
  const provider = stack.node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER_ID);
  if (!provider) return;
  Validations.of(provider).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'CDK AwsCustomResource provider: AWSLambdaBasicExecutionRole only lets it write its own logs',
  });
}

/** Construct ID of the singleton AwsCustomResource function: aws-cdk-lib names it 'AWS' + its UUID without dashes. */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`;
