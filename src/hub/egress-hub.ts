// EgressHub: the hub VPC, its Squid fleet and the VPC Lattice resource gateway, read from the plan.
// The fleet mode decides what the resource configurations target: the single proxy's fixed address, a
// failover name over one fixed proxy per AZ (multi-az), or an internal NLB over a scaling group (nlb).
// The tenants' resource configurations live in stacks of their own (tenants-stack.ts), one per port
// block, so a hub scales to any number of tenants within CloudFormation's per-stack limits.
import { Annotations, ArnFormat, CfnOutput, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as lattice from 'aws-cdk-lib/aws-vpclattice';
import { Construct } from 'constructs';
import { UsageError } from '../config/errors';
import { planEgress } from '../config/load';
import type { EgressPlan } from '../config/plan';
import type { EgressHubConfig } from '../config/props';
import { egressPortsOf, renderSquidConf } from '../policy';
import { DomainVerification } from './domain-verification';
import type { FailoverDns } from './failover-dns';
import { fleetModeFor, type FleetMode } from './fleet-modes';
import type { NlbFront } from './nlb-front';
import { HubObservability, renderCloudWatchAgentConfig } from './observability';
import { ProxyPolicy } from './policy-rollout';
import { type FixedProxy, type ProxyFleet, tcpRange } from './proxy-fleet';
import { checkStackLimits } from './limits';
import { acknowledgeForCdkNag2 } from './nag';
import { broughtVpcSubnets } from './hub-vpc';
import { produceWeakly, referencedResources, weakReference } from './references';
import { denyDefaultEgress } from './security-group-rules';
import type { ProxyTarget } from './tenant-endpoints';

export { MATCH_NO_TRAFFIC } from './security-group-rules';

/** Properties of {@link EgressHub}: the system to build, as config (typed props) or as a plan. Give exactly one. */
export interface EgressHubProps {
  /**
   * The hub, its tenants and their spokes, with the fields of egresshub.yaml (docs/config.md). Validated as
   * the YAML file is (a ConfigError names each invalid field).
   * @default - none; give plan instead
   */
  readonly config?: EgressHubConfig;
  /**
   * A plan already made from a config (`planEgress`, or `buildPlan(loadConfigFile(file))`).
   * @default planEgress(config)
   */
  readonly plan?: EgressPlan;
  /**
   * The squid.conf the proxies run.
   * @default renderSquidConf(plan)
   */
  readonly squidConf?: string;
  /**
   * Where alarms notify, as a CDK topic (a topic of another stack of the app, or imported). Same as the config's
   * `hub.alarms.topicArn`, which may also be a token such as `topic.topicArn`.
   * @default - the config's hub.alarms (topicArn, or a new topic mailing its email; no topic without either)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The proxies' instance type, as a CDK InstanceType: the config's `hub.proxy.instanceType`, planned (and
   * priced, sized) as that field is. With `plan`, it must be the plan's.
   * @default - the config's hub.proxy.instanceType (the fleet mode's default)
   */
  readonly instanceType?: ec2.InstanceType;
  /**
   * The proxies' image as any CDK image (a golden image, your own lookup). Its architecture must be the instance
   * type's (arm64 for Graviton types): the proxies run the boot script of that architecture.
   * @default - the config's hub.proxy.image, or Amazon Linux 2023 looked up once and recorded in cdk.context.json
   */
  readonly machineImage?: ec2.IMachineImage;
  /**
   * A VPC of yours for the hub (one of your network stack, or imported with `ec2.Vpc.fromLookup`): the hub then
   * creates no VPC, subnets, NAT gateway or S3 endpoint, and runs in the VPC's subnets of the config's
   * hub.availabilityZones: private subnets with egress (a NAT route) for the proxies and the resource gateway; with
   * `egress: public`, public subnets for the proxies. The config's hub.cidr must be the VPC's CIDR. Checked at synth
   * (hub-vpc.ts).
   * @default - the hub creates its VPC from hub.cidr, hub.availabilityZones and the NAT settings
   */
  readonly vpc?: ec2.IVpc;
}

/** The plan an EgressHub builds: the one given, or the config's (with the typed props in it), validated. */
function planOf(scope: Construct, id: string, props: EgressHubProps): EgressPlan {
  const where = `${scope.node.path ? `${scope.node.path}/` : ''}${id}`;
  if (props.plan && props.config) throw new UsageError(`${where}: EgressHub: give either config or plan, not both`);
  if (props.plan) {
    const wanted = props.instanceType?.toString();
    if (wanted !== undefined && wanted !== props.plan.hub.proxy.instanceType) {
      throw new UsageError(
        `${where}: EgressHub: instanceType ${wanted} is not the plan's (${props.plan.hub.proxy.instanceType}); give it in the config the plan is made from (hub.proxy.instanceType)`,
      );
    }
    return props.plan;
  }
  if (props.config) return planEgress(withTypedProps(props.config, props));
  throw new UsageError(`${where}: EgressHub: give config (the fields of egresshub.yaml) or plan (from planEgress)`);
}

/**
 * The config with the typed props written into it, and a topic ARN that is a token (`topic.topicArn`) taken out
 * of validation: it is a deploy-time value, used as given (alarmTopicOf).
 */
function withTypedProps(config: EgressHubConfig, props: EgressHubProps): EgressHubConfig {
  const { hub } = config;
  const alarms = hub.alarms && Token.isUnresolved(hub.alarms.topicArn) ? { ...hub.alarms, topicArn: undefined } : hub.alarms;
  const proxy = props.instanceType ? { ...hub.proxy, instanceType: props.instanceType.toString() } : hub.proxy;
  if (alarms === hub.alarms && proxy === hub.proxy) return config;
  return { ...config, hub: { ...hub, ...(alarms ? { alarms } : {}), ...(proxy ? { proxy } : {}) } };
}

/** The topic alarms notify when the app gives one (alarmTopic, or a token topicArn); else the plan decides. */
function alarmTopicOf(scope: Construct, props: EgressHubProps): sns.ITopic | undefined {
  const arn = props.alarmTopic?.topicArn ?? props.config?.hub?.alarms?.topicArn;
  if (arn === undefined || !Token.isUnresolved(arn)) return props.alarmTopic;
  // A topic of another stack is read weakly, as everything the hub reads from other stacks (references.ts).
  const weak = weakReference(scope, arn);
  if (props.alarmTopic && weak === arn) return props.alarmTopic;
  return sns.Topic.fromTopicArn(scope, 'AlarmTopicRef', weak);
}

/** Inbound (and outbound) rules per security group without a quota increase. */
export const SECURITY_GROUP_RULES_DEFAULT = 60;

/**
 * An egress hub: the hub VPC with its NAT (or public) egress, the Squid proxy fleet of the configured mode,
 * the VPC Lattice resource gateway that publishes it, the proxy policy and its rollout, and the hub's logs,
 * metrics, alarms and dashboard. Tenants' resource configurations are EgressTenants'.
 *
 * @example
 * const hub = new EgressHub(hubStack, 'Hub', { config: { region: 'ap-northeast-1', account: '111111111111', hub: { availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c'] }, tenants: [...] } });
 */
export class EgressHub extends Construct implements ec2.IConnectable {
  /**
   * IN_VPC lets the gateway resolve DNS targets (multi-az failover name, NLB name) through the hub VPC's
   * resolver, which answers the private hosted zone. The setting is fixed at creation and replaces the gateway
   * (and with it every resource configuration's gateway reference) when changed, so every mode uses it, and
   * switching modes never touches the gateway. It has no effect on IP resources.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-vpclattice-resourcegateway.html
   */
  static readonly RESOURCE_CONFIG_DNS_RESOLUTION = 'IN_VPC';
  /** What this hub was built from: every derived name, port and stack (validated). */
  readonly plan: EgressPlan;
  /** The hub VPC: the one given (`vpc`), or the hub's own with public and private subnets in each of the plan's AZs. */
  readonly vpc: ec2.IVpc;
  /** The hub's proxy policy (squid.conf) and its rollout to running proxies. */
  readonly policy: ProxyPolicy;
  /** Every proxy fleet: one per fixed proxy (single, multi-az), or the scaling fleet (nlb). */
  readonly fleets: readonly ProxyFleet[];
  /** The fixed proxies by plan id (`ProxyA`); empty in nlb mode. */
  readonly fixedProxies: ReadonlyMap<string, FixedProxy>;
  /** What the resource configurations target (tenants-stack.ts). */
  readonly proxyTarget: ProxyTarget;
  /** multi-az: the private hosted zone with the failover records. */
  readonly failoverDns?: FailoverDns;
  /** nlb: the internal NLB in front of the scaling fleet. */
  readonly nlb?: NlbFront;
  readonly gateway: lattice.CfnResourceGateway;
  readonly gatewaySecurityGroup: ec2.SecurityGroup;
  readonly flowLogGroup: logs.LogGroup;
  /** Encrypts every hub log group (flow logs, Squid's logs) and the alarm topic. */
  readonly logKey: kms.Key;
  /** Squid's logs in CloudWatch, metrics and top-tenant rules, alarms and the dashboard (docs/operations.md). */
  readonly observability: HubObservability;
  /** Present when the config's dns section names a public hosted zone to verify the domain in. */
  readonly domainVerification?: DomainVerification;
  /**
   * The proxy instances' security groups, where the proxies' own connections start: let them reach something
   * of yours (`db.connections.allowFrom(hub, ec2.Port.tcp(5432))`; Squid's policy still decides what a tenant may
   * reach). Tenants reach the proxies only through the resource gateway; nothing else is admitted inbound.
   */
  readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, props: EgressHubProps) {
    const plan = planOf(scope, id, props);
    super(scope, id);
    this.plan = plan;
    sameEnvironment(this, plan);
    lookupNeedsEnvironment(this, plan, props);
    uniqueName(this, plan);
    const { hub } = plan;
    const { proxy } = hub;
    const squidConf = props.squidConf ?? renderSquidConf(plan);
    const ports = plan.tenants.map((t) => t.port);
    const portRanges = hub.listenerPortRanges;
    // Every destination port any tenant may reach through Squid (the policy's own definition).
    const egressPorts = [...new Set(plan.tenants.flatMap((t) => egressPortsOf(t)))].sort((a, b) => a - b);
    const publicEgress = hub.egress === 'public';

    this.vpc = props.vpc ?? this.hubVpc(plan);
    const brought = props.vpc ? broughtVpcSubnets(this, plan, props.vpc) : undefined;

    this.logKey = this.logKeyFor(hub.logGroups.prefix);
    this.flowLogGroup = this.flowLogs(hub.logGroups.flow, hub.logRetentionDays, brought !== undefined);

    const privateSubnets = brought?.privateSubnets ?? (publicEgress ? this.vpc.isolatedSubnets : this.vpc.privateSubnets);
    const proxySubnets = brought?.proxySubnets ?? (publicEgress ? this.vpc.publicSubnets : privateSubnets);
    const agentConfig = renderCloudWatchAgentConfig(hub.logGroups);

    // One policy for the hub, shared by its fleets: squid.conf in S3 + SSM parameter, applied to running proxies
    // by a State Manager association (policy-rollout.ts), draining each proxy first as the mode allows.
    const policy = ProxyPolicy.fromPlan(this, 'Policy', plan, squidConf, agentConfig);
    this.policy = policy;
    const common = {
      vpc: this.vpc,
      instanceType: proxy.instanceType,
      architecture: proxy.architecture,
      imageId: proxy.imageId,
      // The plan's Region: a stack whose Region is a token still finds its pinned image.
      imageRegion: plan.region,
      machineImage: props.machineImage,
      egressPorts,
      policy,
      cloudWatchAgentConfig: agentConfig,
    };

    // The fleet mode builds its proxies (and what fronts them) here; everything else is the same for every mode.
    const mode = fleetModeFor({ scope: this, plan, vpc: this.vpc, proxySubnets, privateSubnets, publicEgress, common }, proxy);
    this.fleets = mode.fleets;
    this.fixedProxies = mode.fixedProxies;
    this.nlb = mode.nlb;

    this.gatewaySecurityGroup = this.gatewaySecurity(mode, portRanges, ports.length);
    this.connections = new ec2.Connections({ securityGroups: this.fleets.map((f) => f.instanceSecurityGroup) });

    this.observability = new HubObservability(this, 'Observability', {
      plan,
      autoScalingGroups: this.fleets.map((f) => f.autoScalingGroup),
      instanceRoles: this.fleets.map((f) => f.role),
      encryptionKey: this.logKey,
      vpc: this.vpc,
      healthSignals: proxy.fixed.map((f) => f.id),
      fleetMode: mode,
      alarmTopic: alarmTopicOf(this, props),
    });

    this.proxyTarget = mode.target(this.observability);
    this.failoverDns = mode.failoverDns;

    this.gateway = this.resourceGateway(plan, privateSubnets);

    if (plan.dns?.publicHostedZoneId) {
      this.domainVerification = new DomainVerification(this, 'DomainVerification', {
        domainName: plan.dns.domain,
        publicHostedZoneId: plan.dns.publicHostedZoneId,
        logRetentionDays: hub.logRetentionDays,
      });
    }

    this.outputs(mode, publicEgress);
    checkStackLimits(this);
    // cdk-nag 2 reads acknowledgements from resource metadata, cdk-nag 3 from Validations (nag.ts).
    acknowledgeForCdkNag2(this);
    // What tenants stacks read: weak references for any stack that reads them, the app's own too (references.ts).
    const target = 'ip' in this.proxyTarget ? this.proxyTarget.ip : this.proxyTarget.dnsName;
    produceWeakly(this.gateway, this.domainVerification?.verification, ...referencedResources(target));
  }

  /** Public and private subnets in each AZ of the plan, NAT gateways as the egress says, an S3 gateway endpoint. */
  private hubVpc(plan: EgressPlan): ec2.Vpc {
    const { hub } = plan;
    const publicEgress = hub.egress === 'public';
    return new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(hub.cidr),
      // Explicit AZ names: no lookup at synth, and the plan already checked they are in the region.
      availabilityZones: [...hub.availabilityZones],
      // regional: one NAT gateway at VPC level that serves every AZ with subnets, so losing an AZ costs only that
      // AZ's traffic; every private subnet routes to it (aws-cdk-lib RegionalNatGatewayProvider, AvailabilityMode
      // regional; https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateways-regional.html). The public subnets
      // stay (their logical IDs and CIDRs do not move), empty of NAT gateways.
      ...(hub.natMode === 'regional' ? { natGatewayProvider: ec2.NatProvider.regionalGateway() } : { natGateways: hub.natGateways }),
      // The subnet names stay 'public' and 'private' whatever the egress: they make the subnets' logical IDs,
      // and the gateway's subnets must not change (that would replace it and every endpoint with it). With
      // public egress the private subnets have no route out (no NAT gateway): only the gateway lives there.
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: hub.subnetPrefix },
        {
          name: 'private',
          subnetType: publicEgress ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS,
          cidrMask: hub.subnetPrefix,
        },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      // Restricting the default SG needs a Lambda-backed custom resource; nothing here uses that SG.
      restrictDefaultSecurityGroup: false,
    });
  }

  /**
   * The gateway's group: egress to the proxies' listener groups (fixed) or the NLB's group (nlb) on the tenant
   * ports only, and a warning when the rules outgrow the default quota.
   */
  private gatewaySecurity(mode: FleetMode, portRanges: readonly (readonly [number, number])[], tenantPorts: number): ec2.SecurityGroup {
    const group = new ec2.SecurityGroup(this, 'GatewaySecurityGroup', {
      vpc: this.vpc,
      description: 'egresshub resource gateway: egress to the proxy listener on tenant ports only',
      allowAllOutbound: false,
    });
    // The gateway reaches the proxies' listener groups (fixed) or the NLB's group (nlb), on tenant ports only:
    // gateway SG -> listener SG, or gateway SG -> NLB SG -> instance SG (NlbFront.forwardTo).
    const gatewayTargets = mode.admitGateway(group, portRanges);
    for (const target of gatewayTargets) {
      for (const [from, to] of portRanges) {
        group.addEgressRule(target, tcpRange(from, to), `tenant ports ${from}-${to} to the proxy`);
      }
    }
    const gatewayRules = portRanges.length * gatewayTargets.length;
    if (portRanges.length > SECURITY_GROUP_RULES_DEFAULT || gatewayRules > SECURITY_GROUP_RULES_DEFAULT) {
      // https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups
      Annotations.of(this).addWarningV2(
        'egresshub:hub:securityGroupRules',
        `the tenants' ${tenantPorts} ports form ${portRanges.length} ranges, so the proxy listener security group needs ${portRanges.length} inbound rules ` +
          `and the gateway group ${gatewayRules} outbound rules (${gatewayTargets.length} target group(s)); ` +
          `the default quota is ${SECURITY_GROUP_RULES_DEFAULT} per group: request an increase, or give tenants contiguous ports`,
      );
    }
    denyDefaultEgress(group);
    return group;
  }

  private resourceGateway(plan: EgressPlan, privateSubnets: readonly ec2.ISubnet[]): lattice.CfnResourceGateway {
    // Spans every private subnet: a consumer endpoint needs an AZ in common with the gateway.
    // https://docs.aws.amazon.com/vpc/latest/privatelink/resource-gateway.html
    return new lattice.CfnResourceGateway(this, 'ResourceGateway', {
      name: plan.hub.resourceGatewayName,
      vpcIdentifier: this.vpc.vpcId,
      subnetIds: privateSubnets.map((s) => s.subnetId),
      securityGroupIds: [this.gatewaySecurityGroup.securityGroupId],
      ipAddressType: 'IPV4',
      resourceConfigDnsResolution: EgressHub.RESOURCE_CONFIG_DNS_RESOLUTION,
    });
  }

  /** What operators read from the hub stack: the proxies' addresses or target name, egress IPs, the gateway. */
  private outputs(mode: FleetMode, publicEgress: boolean): void {
    const { proxy } = this.plan.hub;
    for (const [proxyId, f] of this.fixedProxies) {
      new CfnOutput(this, proxy.fixed.length === 1 ? 'ProxyTargetIp' : `${proxyId}TargetIp`, {
        value: f.targetIp,
        description: `private IP of ${proxyId}'s listener ENI (${mode.targetDescription}; tenants never use it directly)`,
      });
    }
    if ('dnsName' in this.proxyTarget) {
      new CfnOutput(this, 'ProxyTargetName', {
        value: this.proxyTarget.dnsName,
        description: `the name the resource configurations target (${this.nlb ? 'the internal NLB' : 'the failover name'}), resolved by the resource gateway in the hub VPC`,
      });
    }
    if (publicEgress) {
      // The static addresses partners allowlist: every fixed proxy's Elastic IP (Ref = the address).
      new CfnOutput(this, 'EgressIps', {
        value: Fn.join(
          ', ',
          [...this.fixedProxies.values()].map((f) => {
            if (!f.elasticIp) throw new Error('public egress: every fixed proxy has an Elastic IP');
            return f.elasticIp.ref;
          }),
        ),
        description:
          "the hub's egress addresses (one Elastic IP per proxy, kept across instance replacements): give these to partners to allowlist",
      });
    }
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
  private flowLogs(logGroupName: string, retentionDays: number, broughtVpc: boolean): logs.LogGroup {
    const key = this.logKey;
    const group = new logs.LogGroup(this, 'FlowLogGroup', {
      logGroupName,
      retention: retentionDays as logs.RetentionDays,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const options = { destination: ec2.FlowLogDestination.toCloudWatchLogs(group), trafficType: ec2.FlowLogTrafficType.ALL };
    // A brought VPC's flow log is the hub's own construct: under the VPC (addFlowLog) it would live in the VPC's
    // stack, which would then read the hub's log group while the hub reads its subnets (a dependency cycle).
    if (broughtVpc) new ec2.FlowLog(this, 'FlowLog', { resourceType: ec2.FlowLogResourceType.fromVpc(this.vpc), ...options });
    else this.vpc.addFlowLog('FlowLog', options);
    return group;
  }
}

/**
 * The hub's stack must be in the config's account and region: names, AZs and the policy are decided for
 * them. A stack whose environment is not known at synth (tokens) is taken as given.
 */
function sameEnvironment(hub: Construct, plan: EgressPlan): void {
  const stack = Stack.of(hub);
  const clash = (
    [
      ['account', stack.account, plan.account],
      ['region', stack.region, plan.region],
    ] as const
  ).filter(([, actual, wanted]) => !Token.isUnresolved(actual) && actual !== wanted);
  if (clash.length === 0) return;
  const what = clash.map(([field, actual, wanted]) => `${field} ${actual} (the config says ${wanted})`).join(' and ');
  throw new UsageError(
    `${hub.node.path}: EgressHub: stack ${stack.stackName} is in ${what}; give the stack env { account: '${plan.account}', region: '${plan.region}' }, or change the config's account and region`,
  );
}

/**
 * The recorded image lookup (no image pinned or given) is keyed on the stack's account and Region, so a stack
 * without them (environment-agnostic) cannot make it: said here, in our words, rather than by the CDK's context
 * provider at synth.
 */
function lookupNeedsEnvironment(hub: Construct, plan: EgressPlan, props: EgressHubProps): void {
  if (props.machineImage || plan.hub.proxy.imageId) return;
  const stack = Stack.of(hub);
  if (!Token.isUnresolved(stack.account) && !Token.isUnresolved(stack.region)) return;
  throw new UsageError(
    `${hub.node.path}: stack ${stack.node.path} is environment-agnostic (no account or region), so the proxies' image cannot be looked up and recorded; ` +
      `give the stack env { account: '${plan.account}', region: '${plan.region}' }, or pin the image (hub.proxy.image: 'ami-…', or machineImage)`,
  );
}

const hubsByApp = new WeakMap<object, Map<string, string>>();

/**
 * The config's name makes the hub's physical names (resource gateway, log groups, parameters, configurations),
 * which are unique per account and Region: two hubs of one name there collide at deploy, the second failing
 * halfway. Two in one app (two Stages with one config, say) are refused here. Names stay the config's, never
 * derived from stage or stack: a deployed hub's names must not change under it.
 */
function uniqueName(hub: Construct, plan: EgressPlan): void {
  const stack = Stack.of(hub);
  const known = (v: string) => (Token.isUnresolved(v) ? undefined : v);
  const account = known(stack.account) ?? plan.account;
  const region = known(stack.region) ?? plan.region;
  const key = `${account}/${region}/${plan.name}`;
  let hubs = hubsByApp.get(hub.node.root);
  if (!hubs) hubsByApp.set(hub.node.root, (hubs = new Map<string, string>()));
  const other = hubs.get(key);
  if (other !== undefined) {
    throw new UsageError(
      `${hub.node.path}: another hub of this app, ${other}, has the same name "${plan.name}" in account ${account} and region ${region}; ` +
        `their resource gateways, log groups and parameters would collide at deploy: give each its own config name (e.g. "${plan.name}-dev" and "${plan.name}-prod")`,
    );
  }
  hubs.set(key, hub.node.path);
}
