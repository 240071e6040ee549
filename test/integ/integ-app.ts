// Integration app a user with an AWS account can deploy: a hub, a spoke VPC that overlaps the hub's
// CIDR and has no internet route of its own, and a test instance that curls an allowed and a denied
// URL through the proxy. The instance signals CloudFormation, so the deploy succeeds only if the
// allowed URL answers 200 and the denied one is refused with 407 (a refused CONNECT, docs/policy.md "Tunnels"). See docs/hub.md ("Integration test").
// The same app checks, in an account, the UNCONFIRMED upgrade from strong references: deployed with
// `-c @aws-cdk/core:defaultCrossStackReferences=strong` (Fn::ImportValue, as before src/hub/references.ts), then with
// `=both` (Fn::GetStackOutput of the same values, exports kept), the configuration, endpoint and gateway must keep
// their physical IDs (docs/hub.md, "Upgrade from strong references").
import { App, CfnOutput, Fn, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { stringify } from 'yaml';
import { buildApp, tenantEndpoint } from '../../src/app';
import { buildPlan, parseConfig, PROXY_MODES, UsageError, type EgressPlan, type ProxyMode } from '../../src/config';
import { EgressSpoke } from '../../src/spoke';

export const INTEG_TENANT = 'integ';
/** The spoke VPC's CIDR on both days: the hub's on day 1 (overlapping VPCs), unchanged when the hub moves. */
export const SPOKE_CIDR = '10.0.0.0/16';
/**
 * Day 2 of the integration test: a change that replaces what the tenant's configuration and the spoke's
 * endpoint point at. The hub moves to another CIDR (its VPC, subnets, proxies, resource gateway — under a new
 * generation, so the replacement gets a new name — every resource configuration and spoke endpoint are new).
 */
export const DAY2 = { cidr: '10.1.0.0/16', gatewayGeneration: 2 } as const;
export const ALLOWED_URL = 'https://github.com/';
export const DENIED_URL = 'https://example.com/';

export interface IntegOptions {
  readonly account: string;
  readonly region: string;
  /** Two AZ names of the account (AZ availability differs between accounts). */
  readonly availabilityZones: readonly string[];
  /**
   * The fleet mode to prove live (`-c mode=single|multi-az|nlb`).
   * @default 'multi-az' (the product's default)
   */
  readonly mode?: ProxyMode;
  /**
   * The hub's way out (`-c egress=nat|public`).
   * @default 'nat'
   */
  readonly egress?: 'nat' | 'public';
  /**
   * 1: the first deploy; 2: the day-2 config (DAY2), deployed over day 1 (`-c day=2`). Day 2 has a new test
   * instance, so its deploy again succeeds only if egress works through everything the change replaced.
   * @default 1
   */
  readonly day?: 1 | 2;
}

/** The integration plan: one tenant whose allowlist covers the test URL and what the test instance needs. */
export function integPlan(opts: IntegOptions): EgressPlan {
  const config = {
    name: 'ehinteg',
    region: opts.region,
    account: opts.account,
    hub: {
      cidr: opts.day === 2 ? DAY2.cidr : SPOKE_CIDR,
      ...(opts.day === 2 ? { gatewayGeneration: DAY2.gatewayGeneration } : {}),
      availabilityZones: [...opts.availabilityZones],
      egress: opts.egress ?? 'nat',
      ...(opts.egress === 'public' ? {} : { natGateways: 'one' }),
      proxy: { mode: opts.mode ?? 'multi-az' },
      logRetentionDays: 7,
    },
    tenants: [
      {
        name: INTEG_TENANT,
        accounts: [opts.account],
        port: 3201,
        // github.com is the allowed test URL; AWS and Amazon Linux endpoints let the test instance install
        // cfn-bootstrap and signal CloudFormation through the proxy (its VPC has no other way out).
        allow: ['github.com', '*.github.com', '*.amazonaws.com', '*.amazonlinux.com'],
      },
    ],
  };
  return buildPlan(parseConfig(stringify(config), 'integ.yaml'));
}

interface IntegSpokeProps extends StackProps {
  readonly plan: EgressPlan;
  readonly resourceConfigurationArn: string;
  /** Which deploy this is: each day's test instance is a new one (its own construct ID), which must signal. */
  readonly day: 1 | 2;
}

/** A project VPC with the same CIDR as the hub, no NAT and no internet gateway: only the proxy leads out. */
export class IntegSpokeStack extends Stack {
  readonly spoke: EgressSpoke;
  readonly instance: ec2.Instance;

  constructor(scope: Construct, id: string, props: IntegSpokeProps) {
    super(scope, id, props);
    const tenant = props.plan.tenants.find((t) => t.name === INTEG_TENANT)!;
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(SPOKE_CIDR),
      availabilityZones: [...props.plan.hub.availabilityZones],
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 20 }],
      restrictDefaultSecurityGroup: false,
    });
    Validations.of(vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason: 'short-lived integration VPC without internet access; the hub keeps flow logs',
    });

    this.spoke = new EgressSpoke(this, 'Spoke', {
      tenant: tenant.name,
      port: tenant.port,
      resourceConfigurationArn: props.resourceConfigurationArn,
      vpcId: vpc.vpcId,
      vpcCidr: SPOKE_CIDR,
      subnetIds: vpc.isolatedSubnets.map((s) => s.subnetId),
    });

    const sg = new ec2.SecurityGroup(this, 'TestSecurityGroup', {
      vpc,
      description: 'egresshub integ test instance: out to the proxy endpoint only',
      allowAllOutbound: false,
    });
    sg.addEgressRule(ec2.Peer.ipv4(SPOKE_CIDR), ec2.Port.tcp(tenant.port), 'the proxy endpoint');

    const userData = ec2.UserData.forLinux();
    this.instance = new ec2.Instance(this, props.day === 2 ? 'TestInstanceDay2' : 'TestInstance', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      instanceType: new ec2.InstanceType('t4g.nano'),
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
      securityGroup: sg,
      requireImdsv2: true,
      userData,
      blockDevices: [
        { deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(8, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }) },
      ],
    });
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-EC28',
      reason: 'one-shot test instance: detailed monitoring adds nothing',
    });
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-EC29',
      reason: 'one-shot test instance, meant to be destroyed with the stack',
    });
    this.instance.instance.cfnOptions.creationPolicy = { resourceSignal: { count: 1, timeout: 'PT25M' } };
    const proxy = this.spoke.proxyUrl!;
    userData.addCommands(
      'set -uo pipefail',
      `PROXY='${proxy}'`,
      // Only the CONNECT answer matters: 200 from Squid for the allowed host, 407 (refused by policy) for the denied one.
      `allowed=$(curl -s -o /dev/null -w '%{http_connect}' --max-time 60 --retry 10 --retry-all-errors -x "$PROXY" ${ALLOWED_URL} || true)`,
      `denied=$(curl -s -o /dev/null -w '%{http_connect}' --max-time 60 -x "$PROXY" ${DENIED_URL} || true)`,
      'echo "egresshub-integ allowed=$allowed denied=$denied" | tee /dev/console',
      'rc=1; [ "$allowed" = 200 ] && [ "$denied" = 407 ] && rc=0',
      'echo "proxy=$PROXY" >> /etc/dnf/dnf.conf',
      'https_proxy="$PROXY" dnf install -y aws-cfn-bootstrap',
      `/opt/aws/bin/cfn-signal -e "$rc" --stack ${this.stackName} --resource ${this.getLogicalId(this.instance.instance)} --region ${this.region} --https-proxy "$PROXY"`,
    );
    new CfnOutput(this, 'ResultCommand', {
      value: Fn.join('', [
        'aws ec2 get-console-output --latest --output text --region ',
        this.region,
        ' --instance-id ',
        this.instance.instanceId,
        ' | grep egresshub-integ',
      ]),
      description: 'prints the test result line (allowed=200 denied=407 means the data path and the allowlist work)',
    });
  }
}

export function buildIntegApp(opts: IntegOptions & { readonly liveLookups?: boolean; readonly outdir?: string }): App {
  const plan = integPlan(opts);
  const root = buildApp(plan, { liveLookups: opts.liveLookups, outdir: opts.outdir });
  new IntegSpokeStack(root, 'IntegSpoke', {
    env: { account: opts.account, region: opts.region },
    stackName: 'ehinteg-spoke',
    plan,
    day: opts.day ?? 1,
    resourceConfigurationArn: tenantEndpoint(root, plan, INTEG_TENANT).resourceConfigurationArn,
  });
  return root;
}

if (require.main === module) {
  const probe = new App({ autoSynth: false });
  const region = process.env.CDK_DEFAULT_REGION ?? 'us-east-1';
  const azs = String(probe.node.tryGetContext('azs') ?? `${region}a,${region}b`).split(',');
  const mode = String(probe.node.tryGetContext('mode') ?? 'multi-az');
  const egress = String(probe.node.tryGetContext('egress') ?? 'nat');
  if (!(PROXY_MODES as readonly string[]).includes(mode))
    throw new UsageError(`-c mode=${mode}: expected one of ${PROXY_MODES.join(', ')}`);
  if (egress !== 'nat' && egress !== 'public') throw new UsageError(`-c egress=${egress}: expected nat or public`);
  const day = String(probe.node.tryGetContext('day') ?? '1');
  if (day !== '1' && day !== '2') throw new UsageError(`-c day=${day}: expected 1 (first deploy) or 2 (the day-2 change)`);
  buildIntegApp({
    day: day === '2' ? 2 : 1,
    // Deployed by the CDK CLI: it looks up the proxy image and records it in cdk.context.json.
    liveLookups: true,
    account: process.env.CDK_DEFAULT_ACCOUNT ?? '123456789012',
    region,
    availabilityZones: azs,
    mode: mode as ProxyMode,
    egress,
  }).synth();
}
