// EgressHub: the hub VPC, its Squid fleet and the VPC Lattice resource gateway, read from the plan.
// The tenants' resource configurations live in stacks of their own (tenants-stack.ts), one per port
// block, so a hub scales to any number of tenants within CloudFormation's per-stack limits.
import { Annotations, ArnFormat, CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as lattice from 'aws-cdk-lib/aws-vpclattice';
import { Construct } from 'constructs';
import type { EgressPlan } from '../config/plan';
import { renderSquidConf, tunnelPortsOf } from '../policy';
import { DomainVerification } from './domain-verification';
import { HubObservability, renderCloudWatchAgentConfig } from './observability';
import { ProxyFleet, tcpRange } from './proxy-fleet';

export interface EgressHubProps {
  readonly plan: EgressPlan;
  /**
   * The squid.conf the proxies run.
   * @default renderSquidConf(plan)
   */
  readonly squidConf?: string;
}

/** Inbound (and outbound) rules per security group without a quota increase. */
export const SECURITY_GROUP_RULES_DEFAULT = 60;

export class EgressHub extends Construct {
  /**
   * IN_VPC lets a later multi-proxy mode point a DNS resource at a private hosted zone name. The
   * setting is fixed at creation and replaces the gateway (and with it every resource configuration's
   * gateway reference) when changed, so it is chosen now. It has no effect on IP resources.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-vpclattice-resourcegateway.html
   */
  static readonly RESOURCE_CONFIG_DNS_RESOLUTION = 'IN_VPC';
  readonly vpc: ec2.Vpc;
  readonly fleet: ProxyFleet;
  readonly gateway: lattice.CfnResourceGateway;
  readonly gatewaySecurityGroup: ec2.SecurityGroup;
  readonly flowLogGroup: logs.LogGroup;
  /** Encrypts every hub log group (flow logs, Squid's logs) and the alarm topic. */
  readonly logKey: kms.Key;
  /** Squid's logs in CloudWatch, per-tenant metrics, alarms and the dashboard (docs/operations.md). */
  readonly observability: HubObservability;
  /** Present when the config's dns section names a public hosted zone to verify the domain in. */
  readonly domainVerification?: DomainVerification;

  constructor(scope: Construct, id: string, props: EgressHubProps) {
    super(scope, id);
    const { plan } = props;
    const { hub } = plan;
    const squidConf = props.squidConf ?? renderSquidConf(plan);
    const ports = plan.tenants.map((t) => t.port);
    const portRanges = hub.listenerPortRanges;
    // Every destination port any tenant may reach through Squid (the policy's own definition).
    const egressPorts = [...new Set(plan.tenants.flatMap((t) => tunnelPortsOf(t)))].sort((a, b) => a - b);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(hub.cidr),
      // Explicit AZ names: no lookup at synth, and the plan already checked they are in the region.
      availabilityZones: [...hub.availabilityZones],
      natGateways: hub.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: hub.subnetPrefix },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: hub.subnetPrefix },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      // Restricting the default SG needs a Lambda-backed custom resource; nothing here uses that SG.
      restrictDefaultSecurityGroup: false,
    });

    this.logKey = this.logKeyFor(hub.logGroups.prefix);
    this.flowLogGroup = this.flowLogs(hub.logGroups.flow, hub.logRetentionDays);

    const privateSubnets = this.vpc.privateSubnets;
    this.fleet = new ProxyFleet(this, 'ProxyFleet', {
      vpc: this.vpc,
      subnet: privateSubnets[0]!,
      instanceType: hub.proxy.instanceType,
      architecture: hub.proxy.architecture,
      squidConf,
      ports,
      egressPorts,
      cloudWatchAgentConfig: renderCloudWatchAgentConfig(hub.logGroups),
    });
    this.observability = new HubObservability(this, 'Observability', {
      plan,
      autoScalingGroups: [this.fleet.autoScalingGroup],
      instanceRole: this.fleet.role,
      encryptionKey: this.logKey,
      vpc: this.vpc,
    });

    this.gatewaySecurityGroup = new ec2.SecurityGroup(this, 'GatewaySecurityGroup', {
      vpc: this.vpc,
      description: 'egresshub resource gateway: egress to the proxy listener on tenant ports only',
      allowAllOutbound: false,
    });
    for (const [from, to] of portRanges) {
      this.gatewaySecurityGroup.addEgressRule(this.fleet.securityGroup, tcpRange(from, to), `tenant ports ${from}-${to} to the proxy`);
    }
    this.fleet.allowFrom(this.gatewaySecurityGroup, portRanges);
    if (portRanges.length > SECURITY_GROUP_RULES_DEFAULT) {
      // https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups
      Annotations.of(this).addWarningV2(
        'egresshub:hub:securityGroupRules',
        `the tenants' ${ports.length} ports form ${portRanges.length} ranges, so the proxy listener security group needs ${portRanges.length} inbound rules; ` +
          `the default quota is ${SECURITY_GROUP_RULES_DEFAULT} per group: request an increase, or give tenants contiguous ports`,
      );
    }
    // Rules toward another group are separate AWS::EC2::SecurityGroupEgress resources, and a group created
    // without inline egress gets EC2's allow-all rule, which those resources do not remove. Keep an inline
    // rule that matches nothing so the allow-all rule is never created.
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-securitygroup.html
    (this.gatewaySecurityGroup.node.defaultChild as ec2.CfnSecurityGroup).addPropertyOverride('SecurityGroupEgress', [MATCH_NO_TRAFFIC]);

    // Spans every private subnet: a consumer endpoint needs an AZ in common with the gateway.
    // https://docs.aws.amazon.com/vpc/latest/privatelink/resource-gateway.html
    this.gateway = new lattice.CfnResourceGateway(this, 'ResourceGateway', {
      name: hub.resourceGatewayName,
      vpcIdentifier: this.vpc.vpcId,
      subnetIds: privateSubnets.map((s) => s.subnetId),
      securityGroupIds: [this.gatewaySecurityGroup.securityGroupId],
      ipAddressType: 'IPV4',
      resourceConfigDnsResolution: EgressHub.RESOURCE_CONFIG_DNS_RESOLUTION,
    });

    if (plan.dns?.publicHostedZoneId) {
      this.domainVerification = new DomainVerification(this, 'DomainVerification', {
        domainName: plan.dns.domain,
        publicHostedZoneId: plan.dns.publicHostedZoneId,
        logRetentionDays: hub.logRetentionDays,
      });
    }

    new CfnOutput(this, 'ProxyTargetIp', {
      value: this.fleet.targetIp,
      description: 'private IP of the proxy listener ENI (the resource configurations target it; tenants never use it directly)',
    });
    new CfnOutput(this, 'ResourceGatewayId', { value: this.gateway.attrId, description: 'VPC Lattice resource gateway of the hub' });
  }

  /** The hub's log key; it admits CloudWatch Logs for the hub's own `/egresshub/<stack>/…` groups only. */
  private logKeyFor(logGroupPrefix: string): kms.Key {
    const stack = Stack.of(this);
    const key = new kms.Key(this, 'LogKey', {
      description: 'egresshub hub logs (VPC flow logs, Squid access and cache logs)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: `${logGroupPrefix}*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    return key;
  }

  /** Flow logs to a KMS-encrypted log group. */
  private flowLogs(logGroupName: string, retentionDays: number): logs.LogGroup {
    const key = this.logKey;
    const group = new logs.LogGroup(this, 'FlowLogGroup', {
      logGroupName,
      retention: retentionDays as logs.RetentionDays,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(group),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    return group;
  }
}

/** The rule aws-cdk-lib itself uses for "no outbound traffic": ICMP type 252 code 86 to 255.255.255.255/32. */
export const MATCH_NO_TRAFFIC = {
  CidrIp: '255.255.255.255/32',
  Description: 'Disallow all traffic',
  IpProtocol: 'icmp',
  FromPort: 252,
  ToPort: 86,
};
