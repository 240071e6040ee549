// The Squid fleet behind the resource gateway: today one self-healing instance (an Auto Scaling group
// of one) that carries a fixed ENI, whose IP is the resource configurations' stable target. Kept in its
// own construct because later HA modes (one proxy per AZ, NLB) replace what is inside, not the hub.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration, Lazy, Stack, Stage, Tags, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { renderProxyBootstrap, UserDataTooLargeError } from './user-data';

/** A TCP port, or a port range when from < to. */
export function tcpRange(from: number, to: number): ec2.Port {
  return from === to ? ec2.Port.tcp(from) : ec2.Port.tcpRange(from, to);
}

/** Writes squid.conf next to the cloud assembly and makes it a CDK asset. */
function squidConfAsset(scope: Construct, conf: string): s3assets.Asset {
  // Written into the cloud assembly's own directory (not a shared /tmp): it is the build's output anyway,
  // nothing is left behind elsewhere, and no other user can swap the policy before the CDK stages it.
  // The asset hash is of the content; the file name only has to be unique per fleet.
  const outdir = Stage.of(scope)?.outdir ?? mkdtempSync(join(tmpdir(), 'egresshub-squid-'));
  mkdirSync(outdir, { recursive: true });
  const file = join(outdir, `egresshub-squid-${scope.node.addr}.conf`);
  writeFileSync(file, conf, { mode: 0o600 });
  return new s3assets.Asset(scope, 'SquidConf', { path: file });
}

export interface ProxyFleetProps {
  readonly vpc: ec2.IVpc;
  /** The private subnet that holds the fixed ENI and the instance (an ENI cannot leave its subnet). */
  readonly subnet: ec2.ISubnet;
  readonly instanceType: string;
  readonly architecture: 'arm64' | 'x86_64';
  readonly squidConf: string;
  /** Tenant listener ports: opened on the ENI's security group and checked at boot. */
  readonly ports: readonly number[];
  /** Destination ports Squid connects to on the internet (tenants' CONNECT and HTTP ports). */
  readonly egressPorts: readonly number[];
  /**
   * The unified CloudWatch agent's JSON config (HubObservability's renderCloudWatchAgentConfig).
   * @default - no agent: Squid's logs stay on the instance
   */
  readonly cloudWatchAgentConfig?: string;
  /**
   * How long CloudFormation waits for the instance's success signal.
   * @default Duration.minutes(15)
   */
  readonly signalTimeout?: Duration;
  /**
   * Size of the encrypted gp3 root volume.
   * @default 16 GiB
   */
  readonly rootVolumeGiB?: number;
}

export class ProxyFleet extends Construct {
  static readonly DEFAULT_SIGNAL_TIMEOUT = Duration.minutes(15);
  static readonly DEFAULT_ROOT_VOLUME_GIB = 16;

  /** The fixed ENI: its primary private IP is what resource configurations point at. */
  readonly networkInterface: ec2.CfnNetworkInterface;
  /** Guards the fixed ENI: admits only what `allowFrom` grants. */
  readonly securityGroup: ec2.SecurityGroup;
  /** The instance's own primary ENI: admits nothing, egress only to the internet ports Squid needs. */
  readonly instanceSecurityGroup: ec2.SecurityGroup;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly role: iam.Role;
  /** The address the resource configurations target (the ENI's primary private IPv4 address). */
  readonly targetIp: string;
  /** Set when squid.conf is too large for user data and travels through S3 instead. */
  squidConfAsset?: s3assets.Asset;

  constructor(scope: Construct, id: string, props: ProxyFleetProps) {
    super(scope, id);
    const signalTimeout = props.signalTimeout ?? ProxyFleet.DEFAULT_SIGNAL_TIMEOUT;
    const rootVolumeGiB = props.rootVolumeGiB ?? ProxyFleet.DEFAULT_ROOT_VOLUME_GIB;
    const stack = Stack.of(this);

    this.securityGroup = new ec2.SecurityGroup(this, 'ListenerSecurityGroup', {
      vpc: props.vpc,
      description: 'egresshub proxy listener ENI: tenant ports from the resource gateway only',
      allowAllOutbound: false,
    });
    this.instanceSecurityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: props.vpc,
      description: 'egresshub proxy instance: no inbound; outbound to the internet ports Squid proxies to',
      allowAllOutbound: false,
    });
    // Squid's outbound connections leave through the primary ENI (main routing table); 443 also
    // carries SSM, dnf and cfn-signal traffic.
    for (const port of [...new Set([...props.egressPorts, 443])].sort((a, b) => a - b)) {
      this.instanceSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `internet port ${port}`);
    }

    this.networkInterface = new ec2.CfnNetworkInterface(this, 'ListenerInterface', {
      subnetId: props.subnet.subnetId,
      groupSet: [this.securityGroup.securityGroupId],
      description: 'egresshub proxy listener: stable target of the resource configurations',
    });
    this.targetIp = this.networkInterface.attrPrimaryPrivateIpAddress;

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'egresshub proxy: SSM management and claiming the fixed listener ENI',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason: 'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager access (no SSH on the proxies)',
    });
    const fleetTag = { key: 'egresshub:fleet', value: this.node.path };
    const instanceArn = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    const eniArn = stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: this.networkInterface.ref });
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
        conditions: { StringEquals: { [`aws:ResourceTag/${fleetTag.key}`]: fleetTag.value } },
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({ sid: 'SeeListenerInterface', actions: ['ec2:DescribeNetworkInterfaces'], resources: ['*'] }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ec2:DescribeNetworkInterfaces supports no resource-level permissions (it is read-only)',
    });
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${instanceArn}]`,
      reason: "the replacement instance ID is unknown in advance; attach/detach is limited to instances carrying this fleet's tag",
    });

    // The script names the group's logical ID (for cfn-signal), which exists only once the group does.
    const bootstrap: { script?: string } = {};
    const userData = ec2.UserData.custom(Lazy.string({ produce: () => bootstrap.script }));
    const machineImage = ec2.MachineImage.latestAmazonLinux2023({
      cpuType: props.architecture === 'arm64' ? ec2.AmazonLinuxCpuType.ARM_64 : ec2.AmazonLinuxCpuType.X86_64,
    });
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage,
      instanceType: new ec2.InstanceType(props.instanceType),
      userData,
      role: this.role,
      securityGroup: this.instanceSecurityGroup,
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
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

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: { subnets: [props.subnet] },
      launchTemplate,
      minCapacity: 1,
      maxCapacity: 1,
      signals: autoscaling.Signals.waitForAll({ timeout: signalTimeout }),
      // One instance holds the ENI: terminate the old one first, then wait for the new one's signal.
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({ maxBatchSize: 1, minInstancesInService: 0 }),
    });
    // ASG tags reach the instances at launch; the IAM condition on the fleet tag relies on that.
    Tags.of(this.autoScalingGroup).add(fleetTag.key, fleetTag.value, { applyToLaunchedInstances: true });
    Validations.of(this.autoScalingGroup).acknowledge({
      id: 'AwsSolutions-AS3',
      reason: 'scaling events are visible in CloudTrail and the CloudWatch dashboard (operations issue); no SNS topic is wanted per hub',
    });

    const cfnGroup = this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    const bootstrapProps = {
      squidConf: props.squidConf,
      ports: props.ports,
      networkInterfaceId: this.networkInterface.ref,
      networkInterfaceIp: this.targetIp,
      stackName: stack.stackName,
      signalResource: cfnGroup.logicalId,
      region: stack.region,
      cloudWatchAgentConfig: props.cloudWatchAgentConfig,
    };
    try {
      bootstrap.script = renderProxyBootstrap(bootstrapProps);
    } catch (e) {
      if (!(e instanceof UserDataTooLargeError)) throw e;
      // Too large for user data (many tenants): ship squid.conf as a CDK asset in the bootstrap bucket,
      // readable by this role only at that exact key. A changed policy is a new object, so a new launch
      // template version, as with the inline path.
      this.squidConfAsset = squidConfAsset(this, props.squidConf);
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadSquidConf',
          actions: ['s3:GetObject'],
          resources: [this.squidConfAsset.bucket.arnForObjects(this.squidConfAsset.s3ObjectKey)],
        }),
      );
      bootstrap.script = renderProxyBootstrap({
        ...bootstrapProps,
        squidConfObject: { bucket: this.squidConfAsset.s3BucketName, key: this.squidConfAsset.s3ObjectKey },
      });
    }
  }

  /** Admits `peer` to the listener ENI on the tenant port ranges (and nothing else). */
  allowFrom(peer: ec2.IPeer, ranges: readonly (readonly [number, number])[]): void {
    for (const [from, to] of ranges) {
      this.securityGroup.addIngressRule(peer, tcpRange(from, to), `tenant ports ${from}-${to}`);
    }
  }
}
