// A Squid fleet behind the resource gateway, in two shapes over one base (ProxyFleet: the instances' group, launch
// template, role, boot script and rights). FixedProxy: one self-healing instance (an Auto Scaling group of one)
// that carries a fixed ENI, whose IP is a stable target (single mode; one per AZ in multi-az mode).
// ScalingProxyFleet: a group of min..max instances behind an NLB (nlb mode). Policy changes reach running instances
// through the hub's ProxyPolicy (policy-rollout.ts), never through the launch template.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArnFormat, Duration, Lazy, Stack, Stage, Tags, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { UsageError } from '../config/errors';
import type { EgressPlan } from '../config/plan';
import type { ProxyPolicy } from './policy-rollout';
import { renderHealthPublisher, renderProxyBootstrap } from './user-data';

/** A TCP port, or a port range when from < to. */
export function tcpRange(from: number, to: number): ec2.Port {
  return from === to ? ec2.Port.tcp(from) : ec2.Port.tcpRange(from, to);
}

/** Properties every proxy fleet shares (EgressHub makes them from the plan): {@link FixedProxyProps}, {@link ScalingProxyFleetProps}. */
export interface ProxyFleetProps {
  /** The hub VPC. */
  readonly vpc: ec2.IVpc;
  /**
   * Where the instances run. FixedProxy: exactly one (the fixed ENI cannot leave its subnet); ScalingProxyFleet:
   * one per AZ. With FixedProxy's `publicEgress`, public subnets.
   */
  readonly subnets: readonly ec2.ISubnet[];
  /** The instances' type (plan.hub.proxy.instanceType). */
  readonly instanceType: string;
  /** The instance type's architecture: picks the image and the boot script's binaries. */
  readonly architecture: 'arm64' | 'x86_64';
  /**
   * The AMI. An ID pins it; without one, the newest Amazon Linux 2023 image for `architecture` is looked up
   * once and recorded in cdk.context.json (CDK context), so a deploy replaces proxies only when the operator
   * moves the record (`egresshub image refresh`) — never because AWS published a new image.
   * @default - Amazon Linux 2023, looked up once and recorded
   */
  readonly imageId?: string;
  /**
   * The Region `imageId` is an image of: the plan's. The image is keyed on it, so a stack whose Region is known
   * only at deploy (environment-agnostic) can carry a pinned image.
   * @default - the stack's Region
   */
  readonly imageRegion?: string;
  /**
   * The proxies' image as any CDK image (a platform team's golden image, a lookup of its own); its architecture
   * must be the instance type's. Overrides imageId.
   * @default - imageId, or the recorded Amazon Linux 2023 lookup
   */
  readonly machineImage?: ec2.IMachineImage;
  /** Destination ports Squid connects to on the internet (tenants' CONNECT and HTTP ports). */
  readonly egressPorts: readonly number[];
  /**
   * The hub's policy and its rollout (ProxyPolicy.fromPlan, one per hub, shared by its fleets). The fleet tags its
   * instances as the policy's rollout targets and lets them read the policy. The listener ports come from the
   * policy's `http_port` lines at boot.
   */
  readonly policy: ProxyPolicy;
  /**
   * FixedProxy: publish the proxy's health (plan.hub.proxyHealth.metricName, 1 or 0, dimension = `id`) every
   * interval, for the multi-az alarms and failover records, and its egress check's result (publish-health.sh).
   * ScalingProxyFleet (behind an NLB, `nlbHealthPort` required): publish the egress check's result, and refuse
   * the target groups' health check on `nlbHealthPort` while withdrawn for egress.
   * @default - no health metric, no egress check
   */
  readonly health?: {
    readonly id: string;
    readonly settings: EgressPlan['hub']['proxyHealth'];
    readonly nlbHealthPort?: number;
  };
  /**
   * The unified CloudWatch agent's JSON config (renderCloudWatchAgentConfig, src/hub/observability/agent-config.ts).
   * @default - no agent: Squid's logs stay on the instance
   */
  readonly cloudWatchAgentConfig?: string;
  /**
   * How long CloudFormation waits for an instance's success signal.
   * @default Duration.minutes(15)
   */
  readonly signalTimeout?: Duration;
  /**
   * Size of the encrypted gp3 root volume.
   * @default 16 GiB
   */
  readonly rootVolumeGiB?: number;
}

/** Properties of {@link FixedProxy}. */
export interface FixedProxyProps extends ProxyFleetProps {
  /**
   * Egress from an Elastic IP of the proxy's own, with no NAT gateway. The instance launches with an ephemeral
   * public IP (to reach the EC2 API), associates the Elastic IP to itself first thing at boot, and keeps it across
   * replacements. `subnets` are then public subnets.
   * @default false
   */
  readonly publicEgress?: boolean;
  /**
   * Hold a terminating instance for DRAIN_BEFORE_TERMINATION_SECONDS while its health reads 0, so that a failover
   * name moves away first (multi-az: another proxy takes its connections).
   * @default false
   */
  readonly drainBeforeTermination?: boolean;
}

/** Properties of {@link ScalingProxyFleet}. */
export interface ScalingProxyFleetProps extends ProxyFleetProps {
  /** The group's bounds. */
  readonly capacity: { readonly min: number; readonly max: number };
  /**
   * The egress check, and the NLB health-check port the proxies refuse while withdrawn for egress.
   * @default - no egress check
   */
  readonly health?: ProxyFleetProps['health'] & { readonly nlbHealthPort: number };
}

/** What a fleet's shape decides in the shared construction (FixedProxy and ScalingProxyFleet each make one). */
interface FleetShape {
  /** The instances' group's description. */
  readonly instanceGroupDescription: string;
  readonly roleDescription: string;
  /** A listener ENI in the (only) subnet, whose IP is the stable target. */
  readonly listenerInterface: boolean;
  readonly capacity: { readonly min: number; readonly max: number };
  readonly signals: (timeout: Duration) => autoscaling.Signals;
  readonly minInstancesInService: number;
  readonly drainBeforeTermination: boolean;
  readonly publicEgress: boolean;
}

/**
 * One proxy fleet of a hub: the Squid instances, their launch template, group, role and (FixedProxy) listener ENI.
 * Build a {@link FixedProxy} or a {@link ScalingProxyFleet}.
 */
export abstract class ProxyFleet extends Construct {
  static readonly DEFAULT_SIGNAL_TIMEOUT = Duration.minutes(15);
  static readonly DEFAULT_ROOT_VOLUME_GIB = 16;
  /**
   * multi-az: how long a terminating proxy keeps serving while the failover name moves away from it: the AWS
   * failover budget (health metric every 20 s, the alarm, Route 53's health check and the 10 s TTL: ~1-3 min,
   * docs/ha.md) plus a minute for requests in flight.
   */
  static readonly DRAIN_BEFORE_TERMINATION_SECONDS = 240;

  /** FixedProxy: the ENI whose primary private IP the resource configurations (or failover records) point at. */
  readonly networkInterface?: ec2.CfnNetworkInterface;
  /**
   * The group that admits tenant ports (`allowFrom`): the fixed ENI's group (FixedProxy), or the instances' group
   * (ScalingProxyFleet: Squid listens on the primary ENI).
   */
  readonly securityGroup: ec2.SecurityGroup;
  /** The instances' primary ENI group: egress only to the internet ports Squid needs (plus tenant ports when scaling). */
  readonly instanceSecurityGroup: ec2.SecurityGroup;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The group's L1, e.g. to chain several fixed fleets' rolling updates with addDependency. */
  readonly cfnAutoScalingGroup: autoscaling.CfnAutoScalingGroup;
  readonly role: iam.Role;
  protected readonly fixedIp?: string;
  /** FixedProxy with publicEgress: the fleet's static egress address. */
  readonly elasticIp?: ec2.CfnEIP;
  readonly policy: ProxyPolicy;
  /** The tag every instance of this fleet carries (the IAM conditions on ENI, EIP and detach rely on it). */
  readonly fleetTag: { readonly key: string; readonly value: string };

  protected constructor(scope: Construct, id: string, props: ProxyFleetProps, shape: FleetShape) {
    super(scope, id);
    const subnets = props.subnets;
    this.policy = props.policy;

    this.instanceSecurityGroup = this.instanceSecurity(props, shape);
    const [firstSubnet] = subnets;
    const listener = shape.listenerInterface && firstSubnet ? this.listener(props, firstSubnet) : undefined;
    this.securityGroup = listener?.securityGroup ?? this.instanceSecurityGroup;
    this.networkInterface = listener?.networkInterface;
    this.fixedIp = this.networkInterface?.attrPrimaryPrivateIpAddress;

    this.role = this.proxyRole(shape);
    this.fleetTag = { key: 'egresshub:fleet', value: this.node.path };
    this.elasticIp = this.grantFleetRights(props, shape);

    // The script names the group's logical ID (for cfn-signal), which exists only once the group does.
    const bootstrap: { script?: string } = {};
    const userData = ec2.UserData.custom(Lazy.string({ produce: () => bootstrap.script }));
    this.autoScalingGroup = this.group(props, shape, this.launchTemplate(props, shape, userData));
    this.cfnAutoScalingGroup = this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup;

    const stack = Stack.of(this);
    bootstrap.script = renderProxyBootstrap({
      policyParameter: this.policy.parameter.parameterName,
      stackName: stack.stackName,
      signalResource: this.cfnAutoScalingGroup.logicalId,
      region: stack.region,
      networkInterface:
        this.networkInterface && this.fixedIp !== undefined ? { id: this.networkInterface.ref, ip: this.fixedIp } : undefined,
      elasticIpAllocationId: this.elasticIp?.attrAllocationId,
      health: props.health && {
        id: props.health.id,
        ...props.health.settings,
        publisherObject: this.healthPublisher(props.health.settings, props.health.nlbHealthPort).s3ObjectUrl,
      },
      cloudWatchAgentConfig: props.cloudWatchAgentConfig,
    });
  }

  /** The instances' primary ENI group: outbound to the internet ports Squid proxies to, nothing else. */
  private instanceSecurity(props: ProxyFleetProps, shape: FleetShape): ec2.SecurityGroup {
    const group = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: props.vpc,
      description: shape.instanceGroupDescription,
      allowAllOutbound: false,
    });
    // Squid's outbound connections leave through the primary ENI (main routing table); 443 also
    // carries SSM, dnf, S3 and cfn-signal traffic.
    for (const port of [...new Set([...props.egressPorts, 443])].sort((a, b) => a - b)) {
      group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `internet port ${port}`);
    }
    return group;
  }

  /** FixedProxy: the listener ENI (its IP is the stable target) and its group, which admits the tenant ports. */
  private listener(props: ProxyFleetProps, subnet: ec2.ISubnet) {
    const securityGroup = new ec2.SecurityGroup(this, 'ListenerSecurityGroup', {
      vpc: props.vpc,
      description: 'egresshub proxy listener ENI: tenant ports from the resource gateway only',
      allowAllOutbound: false,
    });
    const networkInterface = new ec2.CfnNetworkInterface(this, 'ListenerInterface', {
      subnetId: subnet.subnetId,
      groupSet: [securityGroup.securityGroupId],
      description: 'egresshub proxy listener: stable target of the resource configurations',
    });
    return { securityGroup, networkInterface };
  }

  private proxyRole(shape: FleetShape): iam.Role {
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: shape.roleDescription,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason: 'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager access (no SSH on the proxies)',
    });
    return role;
  }

  /**
   * What the instances may do beyond SSM: claim the listener ENI (FixedProxy), associate the fleet's Elastic IP
   * (public egress, which this creates and returns), publish health, mark a failed boot unhealthy, read the policy.
   * Each grant on instances is limited to this fleet's tag.
   */
  private grantFleetRights(props: ProxyFleetProps, shape: FleetShape): ec2.CfnEIP | undefined {
    const instanceArn = Stack.of(this).formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    const onlyFleetInstances = { StringEquals: { [`aws:ResourceTag/${this.fleetTag.key}`]: this.fleetTag.value } };
    if (this.networkInterface) this.grantListenerClaim(this.networkInterface, instanceArn, onlyFleetInstances);
    const elasticIp = shape.publicEgress ? this.publicEgressAddress(instanceArn, onlyFleetInstances) : undefined;
    if (this.networkInterface || elasticIp) this.grantSeeAddresses(instanceArn, elasticIp !== undefined);
    if (props.health) this.grantHealthPublishing(props.health.settings.namespace);
    this.grantFailedBootReplacement();
    this.policy.grantRead(this.role);
    return elasticIp;
  }

  /** FixedProxy: attach the listener ENI to itself (and detach it), on this fleet's instances only. */
  private grantListenerClaim(eni: ec2.CfnNetworkInterface, instanceArn: string, onlyFleetInstances: object): void {
    const eniArn = Stack.of(this).formatArn({ service: 'ec2', resource: 'network-interface', resourceName: eni.ref });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ClaimListenerInterface',
        actions: ['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface'],
        resources: [eniArn],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'OnlyFleetInstances',
        actions: ['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface'],
        resources: [instanceArn],
        conditions: onlyFleetInstances,
      }),
    );
  }

  /** Public egress: the fleet's Elastic IP, which its instances associate to themselves at boot. */
  private publicEgressAddress(instanceArn: string, onlyFleetInstances: object): ec2.CfnEIP {
    // https://docs.aws.amazon.com/vpc/latest/userguide/vpc-eips.html
    const elasticIp = new ec2.CfnEIP(this, 'ElasticIp', {
      domain: 'vpc',
      tags: [{ key: 'Name', value: `${this.node.path} egress` }],
    });
    // AssociateAddress authorizes the elastic-ip and the instance resource types.
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AssociateFleetElasticIp',
        actions: ['ec2:AssociateAddress'],
        resources: [Stack.of(this).formatArn({ service: 'ec2', resource: 'elastic-ip', resourceName: elasticIp.attrAllocationId })],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AssociateToFleetInstances',
        actions: ['ec2:AssociateAddress'],
        resources: [instanceArn],
        conditions: onlyFleetInstances,
      }),
    );
    return elasticIp;
  }

  /** The boot script looks at the ENI (and the Elastic IP) before claiming them: read-only, no resource-level permissions. */
  private grantSeeAddresses(instanceArn: string, elasticIp: boolean): void {
    const describe = ['ec2:DescribeNetworkInterfaces', ...(elasticIp ? ['ec2:DescribeAddresses'] : [])];
    this.role.addToPolicy(new iam.PolicyStatement({ sid: 'SeeListenerInterface', actions: describe, resources: ['*'] }));
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ec2:DescribeNetworkInterfaces and ec2:DescribeAddresses support no resource-level permissions (they are read-only)',
    });
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${reportedArn(Stack.of(this), instanceArn)}]`,
      reason:
        "the replacement instance ID is unknown in advance; attach/detach/associate is limited to instances carrying this fleet's tag",
    });
  }

  /**
   * The health publisher (with the hub's egress check) as an S3 asset the boot script downloads: user data is
   * limited to 16 KB. Its key is its content's hash, so a changed publisher changes the user data (replacing the
   * proxies, as a change to the script embedded before did); the instances may read it.
   */
  private healthPublisher(settings: EgressPlan['hub']['proxyHealth'], nlbHealthPort?: number): s3assets.Asset {
    // Written into the cloud assembly's own directory, as the policy is (policy-rollout.ts, squidConfAsset).
    const outdir = Stage.of(this)?.outdir ?? mkdtempSync(join(tmpdir(), 'egresshub-health-'));
    mkdirSync(outdir, { recursive: true });
    const file = join(outdir, `egresshub-health-${this.node.addr}.sh`);
    writeFileSync(file, renderHealthPublisher(settings.egress, nlbHealthPort), { mode: 0o600 });
    const asset = new s3assets.Asset(this, 'HealthPublisher', { path: file });
    // The exact object only (the asset bucket holds every asset of the account and Region), as for the policy.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadHealthPublisher',
        actions: ['s3:GetObject'],
        resources: [asset.bucket.arnForObjects(asset.s3ObjectKey)],
      }),
    );
    return asset;
  }

  /** The proxy's health metric, in the hub's namespace only; the hub's egress series read back (fail open). */
  private grantHealthPublishing(namespace: string): void {
    // PutMetricData has no resources; the namespace condition keeps the proxy to its own metrics.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PublishProxyHealth',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': namespace } },
      }),
    );
    // Whether any other proxy's egress works (publish-health.sh, fail open): a read of one series.
    this.role.addToPolicy(
      new iam.PolicyStatement({ sid: 'ReadFleetEgress', actions: ['cloudwatch:GetMetricStatistics'], resources: ['*'] }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:PutMetricData and GetMetricStatistics support no resource-level permissions; PutMetricData is limited to the hub namespace by condition, GetMetricStatistics reads metrics only',
    });
  }

  /**
   * A boot that fails marks its instance Unhealthy so that the group replaces it (user-data.ts, give_up). The
   * group's name is CloudFormation's, and naming the group here would make a cycle (group → launch template →
   * role → policy → group): the group's own fleet tag scopes the grant instead. SetInstanceHealth authorizes the
   * autoScalingGroup resource type and takes autoscaling:ResourceTag/<key>
   * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html).
   */
  private grantFailedBootReplacement(): void {
    const stack = Stack.of(this);
    const groupArn = stack.formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: '*:autoScalingGroupName/*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReplaceFailedBoot',
        actions: ['autoscaling:SetInstanceHealth'],
        resources: [groupArn],
        conditions: { StringEquals: { [`autoscaling:ResourceTag/${this.fleetTag.key}`]: this.fleetTag.value } },
      }),
    );
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${reportedArn(stack, groupArn)}]`,
      reason:
        "the group's name is generated by CloudFormation (naming it here would be a dependency cycle); the grant is limited to the group carrying this fleet's tag",
    });
  }

  private launchTemplate(props: ProxyFleetProps, shape: FleetShape, userData: ec2.UserData): ec2.LaunchTemplate {
    const stack = Stack.of(this);
    const rootVolumeGiB = props.rootVolumeGiB ?? ProxyFleet.DEFAULT_ROOT_VOLUME_GIB;
    // An SSM "latest" parameter resolved at every deploy would replace every proxy whenever Amazon Linux ships
    // an image; a context lookup is resolved once and recorded (cdk.context.json), like ec2.Vpc.fromLookup.
    // https://docs.aws.amazon.com/cdk/v2/guide/context.html
    const machineImage =
      props.machineImage ??
      (props.imageId
        ? ec2.MachineImage.genericLinux({ [props.imageRegion ?? stack.region]: props.imageId })
        : ec2.MachineImage.fromSsmParameter(amazonLinuxImageParameter(props.architecture), { cachedInContext: true }));
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage,
      instanceType: new ec2.InstanceType(props.instanceType),
      userData,
      role: this.role,
      securityGroup: this.instanceSecurityGroup,
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
      // Public egress: an ephemeral public IP until the boot script swaps in the Elastic IP.
      associatePublicIpAddress: shape.publicEgress ? true : undefined,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(rootVolumeGiB, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });
    // Under the CDK CLI an image not recorded yet synthesizes as the CDK's lookup placeholder; the CLI then
    // looks it up, records it and synthesizes again. Template validation must not stop that first pass.
    // (Asked of the lookup only: a pinned image in a stack whose Region is a token adds a mapping at each getImage.)
    if (!props.machineImage && !props.imageId && machineImage.getImage(this).imageId.startsWith('dummy-value-for-')) {
      Validations.of(launchTemplate).acknowledge({
        id: 'CloudFormation-Validate::E1152',
        reason: 'the proxy image is being looked up by the CDK CLI (recorded in cdk.context.json, then synthesized again)',
      });
    }
    return launchTemplate;
  }

  /** The Auto Scaling group, its rolling update, the drain hook (multi-az) and the tags its instances carry. */
  private group(props: ProxyFleetProps, shape: FleetShape, launchTemplate: ec2.LaunchTemplate): autoscaling.AutoScalingGroup {
    const signalTimeout = props.signalTimeout ?? ProxyFleet.DEFAULT_SIGNAL_TIMEOUT;
    const subnets = props.subnets;
    const { min, max } = shape.capacity;
    const group = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: { subnets: [...subnets] },
      launchTemplate,
      minCapacity: min,
      maxCapacity: max,
      signals: shape.signals(signalTimeout),
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({ maxBatchSize: 1, minInstancesInService: shape.minInstancesInService }),
    });
    // multi-az: a replaced proxy (new image, instance type, boot script) must leave the failover name before it
    // goes. The termination hook keeps the instance (still serving) for the failover budget while its health
    // publisher, seeing target-lifecycle-state "Terminated" in IMDS, reads 0 (user-data.ts); then it terminates.
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/retrieving-target-lifecycle-state-through-imds.html
    if (shape.drainBeforeTermination) {
      group.addLifecycleHook('DrainBeforeTermination', {
        lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
        heartbeatTimeout: Duration.seconds(ProxyFleet.DRAIN_BEFORE_TERMINATION_SECONDS),
        defaultResult: autoscaling.DefaultResult.CONTINUE,
      });
    }
    // Instances boot only once their subnet reaches the internet (the NAT route, or the internet gateway's
    // with public egress): on a first deploy the boot script installs packages before anything else.
    for (const subnet of subnets) group.node.addDependency(subnet.internetConnectivityEstablished);
    // ASG tags reach the instances at launch; the IAM conditions on the fleet tag and the policy rollout's
    // target rely on that.
    Tags.of(group).add(this.fleetTag.key, this.fleetTag.value, { applyToLaunchedInstances: true });
    Tags.of(group).add(this.policy.instanceTag.key, this.policy.instanceTag.value, { applyToLaunchedInstances: true });
    Validations.of(group).acknowledge({
      id: 'AwsSolutions-AS3',
      reason: 'scaling events are visible in CloudTrail and the CloudWatch dashboard (operations issue); no SNS topic is wanted per hub',
    });
    return group;
  }

  /** Admits `peer` on the tenant port ranges (and nothing else) to `securityGroup`. */
  allowFrom(peer: ec2.IPeer, ranges: readonly (readonly [number, number])[]): void {
    for (const [from, to] of ranges) {
      this.securityGroup.addIngressRule(peer, tcpRange(from, to), `tenant ports ${from}-${to}`);
    }
  }
}

/**
 * One self-healing proxy: an Auto Scaling group of one whose instance claims a fixed listener ENI at boot, so the
 * ENI's IP is a stable target (single mode; one per AZ in multi-az mode). A replacement terminates the old instance
 * first (one instance holds the ENI), then waits for the new one's signal.
 */
export class FixedProxy extends ProxyFleet {
  declare readonly networkInterface: ec2.CfnNetworkInterface;
  /** The address the resource configurations (or failover records) target: the ENI's primary private IPv4 address. */
  readonly targetIp: string;

  constructor(scope: Construct, id: string, props: FixedProxyProps) {
    super(scope, id, props, fixedShape(props));
    if (this.fixedIp === undefined) throw new ProxyFleetError(`${this.node.path}: a fixed proxy has a listener ENI`);
    this.targetIp = this.fixedIp;
  }
}

/**
 * A group of min..max proxies with Squid on their primary ENI, for an NLB in front (nlb mode). A rolling update
 * replaces one at a time and keeps `min` in service.
 */
export class ScalingProxyFleet extends ProxyFleet {
  constructor(scope: Construct, id: string, props: ScalingProxyFleetProps) {
    super(scope, id, props, scalingShape(props));
  }

  /** Lets the instances take themselves out of `targetGroupArns` while the policy is applied. */
  allowNlbDrain(targetGroupArns: readonly string[]): void {
    this.policy.grantNlbDrain(this.role, targetGroupArns);
  }
}

function fixedShape(props: FixedProxyProps): FleetShape {
  if (props.subnets.length !== 1) {
    throw new ProxyFleetError(`a fixed proxy fleet needs exactly one subnet, the one its ENI lives in (got ${props.subnets.length})`);
  }
  if ((props as { capacity?: unknown }).capacity)
    throw new ProxyFleetError('capacity applies to scaling fleets only; a fixed fleet is one instance');
  return {
    instanceGroupDescription: 'egresshub proxy instance: no inbound; outbound to the internet ports Squid proxies to',
    roleDescription: 'egresshub proxy: SSM management, reading the policy and claiming the fixed listener ENI',
    listenerInterface: true,
    capacity: { min: 1, max: 1 },
    signals: (timeout) => autoscaling.Signals.waitForAll({ timeout }),
    // One instance holds the ENI: terminate the old one first, then wait for the new one's signal.
    minInstancesInService: 0,
    drainBeforeTermination: props.drainBeforeTermination ?? false,
    publicEgress: props.publicEgress ?? false,
  };
}

function scalingShape(props: ScalingProxyFleetProps): FleetShape {
  if (props.subnets.length === 0) throw new ProxyFleetError('a scaling proxy fleet needs one subnet per AZ (got none)');
  // Checked at run time too, for callers without the types (JavaScript).
  const c = props.capacity as ScalingProxyFleetProps['capacity'] | undefined;
  if (!c) throw new ProxyFleetError('a scaling proxy fleet needs capacity { min, max }');
  if (!(Number.isInteger(c.min) && Number.isInteger(c.max) && c.min >= 1 && c.max >= c.min)) {
    throw new ProxyFleetError(`capacity needs whole numbers with 1 <= min <= max (got min ${c.min}, max ${c.max})`);
  }
  if ((props as { publicEgress?: boolean }).publicEgress)
    throw new ProxyFleetError('publicEgress applies to fixed fleets only (one Elastic IP per instance)');
  if (props.health && (props.health as { nlbHealthPort?: number }).nlbHealthPort === undefined)
    throw new ProxyFleetError('a scaling fleet publishes no health metric (the NLB health-checks it): give health.nlbHealthPort');
  return {
    instanceGroupDescription:
      'egresshub proxy instance: tenant ports from the load balancer only; outbound to the internet ports Squid proxies to',
    roleDescription: 'egresshub proxy: SSM management and reading the policy',
    listenerInterface: false,
    capacity: { min: c.min, max: c.max },
    signals: (timeout) => autoscaling.Signals.waitForMinCapacity({ timeout }),
    // Replace one at a time and keep `min` in service (CloudFormation needs MinInstancesInService below MaxSize,
    // so a group with min = max keeps max - 1).
    minInstancesInService: Math.min(c.min, c.max - 1),
    drainBeforeTermination: false,
    publicEgress: false,
  };
}

/**
 * The public SSM parameter naming the newest Amazon Linux 2023 AMI with the default kernel.
 * https://docs.aws.amazon.com/linux/al2023/ug/ec2.html#launch-via-aws-cli
 */
export function amazonLinuxImageParameter(architecture: 'arm64' | 'x86_64'): string {
  return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${architecture}`;
}

/** A ProxyFleet given props it cannot build (exit code 2). */
export class ProxyFleetError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'ProxyFleetError';
  }
}

/**
 * An ARN as validation findings name it: literal, with each reference written `<Name>` (`arn:<AWS::Partition>:…`
 * in an app without the `@aws-cdk/core:enablePartitionLiterals` feature flag). An acknowledgement's ID is a
 * plain string, so it cannot hold the token itself.
 */
function reportedArn(stack: Stack, arn: string): string {
  const resolved: unknown = stack.resolve(arn);
  if (typeof resolved === 'string') return resolved;
  const [separator, parts] = (resolved as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts.map((p) => (typeof p === 'string' ? p : `<${(p as { Ref: string }).Ref}>`)).join(separator);
}
