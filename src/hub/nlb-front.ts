// nlb mode: an internal Network Load Balancer in front of a scaling proxy fleet, one TCP listener and target
// group per tenant port (the port stays the tenant's identity at Squid). The resource configurations target
// the NLB's DNS name; every address it resolves to is a healthy, cross-zone NLB node.
import { Duration, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { NLB_HEALTH_PORT, NLB_MAX_LISTENERS } from '../config/schema';
import { UsageError } from '../config/errors';
import { type ProxyFleet, tcpRange } from './proxy-fleet';
import { denyDefaultEgress } from './security-group-rules';

/** Properties of {@link NlbFront}. */
export interface NlbFrontProps {
  /** The hub VPC. */
  readonly vpc: ec2.IVpc;
  /** One subnet per AZ (the hub's private subnets). */
  readonly subnets: readonly ec2.ISubnet[];
  /** Tenant ports: one listener and target group each. */
  readonly ports: readonly number[];
  /**
   * How long a deregistered proxy keeps its open connections before the group lets it go (scale-in, rolling
   * update).
   * @default NlbFront.DEFAULT_DEREGISTRATION_DELAY
   */
  readonly deregistrationDelay?: Duration;
  /**
   * The port every target group health-checks: a listener every proxy has whatever its policy (renderSquidConf
   * adds it in nlb mode), never a tenant port.
   * @default NLB_HEALTH_PORT
   */
  readonly healthCheckPort?: number;
}

/** nlb mode: the internal Network Load Balancer in front of the scaling fleet, one listener per tenant port. */
export class NlbFront extends Construct {
  /**
   * Long enough for requests in flight (API calls, package downloads) to finish, short enough that a scale-in
   * or a rolling update does not wait the default 300 s per instance. Longer tunnels are cut when the proxy
   * is terminated.
   */
  static readonly DEFAULT_DEREGISTRATION_DELAY = Duration.seconds(120);
  /**
   * TCP health check (a real accept by Squid) on one fixed port for every target group, not each group's traffic
   * port: the group uses ELB health checks, and an instance is unhealthy as soon as any of its target groups says
   * so (https://docs.aws.amazon.com/autoscaling/ec2/userguide/healthcheck.html). A new tenant's target group is
   * attached before the policy rollout reaches the instances one at a time, so a check on its traffic port would
   * have Auto Scaling replace every instance the rollout has not reached yet.
   */
  static readonly HEALTH_CHECK_INTERVAL = Duration.seconds(10);
  static readonly HEALTH_CHECK_THRESHOLD = 2;
  /** A new proxy installs Squid and the agent before it listens: ELB health is ignored that long. */
  static readonly HEALTH_CHECK_GRACE = Duration.minutes(5);

  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** The NLB's own group: admits what `allowFrom` grants, sends only to the proxies' group (`forwardTo`). */
  readonly securityGroup: ec2.SecurityGroup;
  /** Listener and target group per tenant port. */
  readonly targetGroups: ReadonlyMap<number, elbv2.NetworkTargetGroup>;
  readonly listeners: ReadonlyMap<number, elbv2.NetworkListener>;
  /** What the resource configurations target (resolved IN_VPC by the gateway). */
  readonly dnsName: string;
  /** The port every target group health-checks (TCP). */
  readonly healthCheckPort: number;

  constructor(scope: Construct, id: string, props: NlbFrontProps) {
    super(scope, id);
    const deregistrationDelay = props.deregistrationDelay ?? NlbFront.DEFAULT_DEREGISTRATION_DELAY;
    this.healthCheckPort = props.healthCheckPort ?? NLB_HEALTH_PORT;
    if (props.ports.includes(this.healthCheckPort)) {
      // The config schema reserves NLB_HEALTH_PORT; kept for direct users of the construct.
      throw new NlbFrontError(
        `port ${this.healthCheckPort} is the target groups' health-check port (a listener that serves no tenant); it cannot be a tenant port`,
      );
    }
    if (props.ports.length > NLB_MAX_LISTENERS) {
      // The config schema already refuses this; kept for direct users of the construct.
      throw new NlbFrontError(
        `an NLB holds at most ${NLB_MAX_LISTENERS} listeners and each tenant port needs one (got ${props.ports.length} ports); use proxy mode multi-az or split the tenants across hubs`,
      );
    }

    // An NLB gets security groups only at creation (they cannot be added later). With client IP preservation off
    // (below) the proxies see the NLB's own private addresses, which the NLB's group covers, so the instances'
    // rule that references this group admits the traffic and the health checks.
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-security-groups.html
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      // The description predates the health port (NLB_HEALTH_PORT, also allowed to the proxies); it stays as it is,
      // because a group's description cannot change without replacing the group.
      description: 'egresshub proxy NLB: tenant ports from the resource gateway, to the proxies on tenant ports only',
      allowAllOutbound: false,
    });
    denyDefaultEgress(this.securityGroup);

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'Resource', {
      vpc: props.vpc,
      vpcSubnets: { subnets: [...props.subnets] },
      internetFacing: false,
      // Every node reaches every proxy: an AZ with no healthy proxy still answers.
      crossZoneEnabled: true,
      securityGroups: [this.securityGroup],
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason:
        'NLB access logs exist only for TLS listeners (these are TCP); per-request records are Squid access logs in CloudWatch Logs (docs/operations.md). https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-access-logs.html',
    });
    this.dnsName = this.loadBalancer.loadBalancerDnsName;

    const groups = new Map<number, elbv2.NetworkTargetGroup>();
    const listeners = new Map<number, elbv2.NetworkListener>();
    for (const port of [...props.ports].sort((a, b) => a - b)) {
      const group = new elbv2.NetworkTargetGroup(this, `Port${port}Targets`, {
        vpc: props.vpc,
        port,
        protocol: elbv2.Protocol.TCP,
        targetType: elbv2.TargetType.INSTANCE,
        deregistrationDelay,
        healthCheck: {
          enabled: true,
          protocol: elbv2.Protocol.TCP,
          port: String(this.healthCheckPort),
          interval: NlbFront.HEALTH_CHECK_INTERVAL,
          healthyThresholdCount: NlbFront.HEALTH_CHECK_THRESHOLD,
          unhealthyThresholdCount: NlbFront.HEALTH_CHECK_THRESHOLD,
        },
      });
      // A proxy that fails its check because it is busy keeps its open tunnels: cutting them all at once would
      // start a reconnect storm on the others. New connections go elsewhere either way.
      // https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health.html#unhealthy-target-connection-termination
      group.setAttribute('target_health_state.unhealthy.connection_termination.enabled', 'false');
      // Client IP preservation off (on is the default for instance targets): the resource gateway translates the
      // consumers' connections to its own addresses, a NAT in front of the NLB, and AWS warns that a NAT using
      // the same source IP and port toward several NLB nodes, with cross-zone on, can make connections fail
      // (the target sees two flows with the same 5-tuple). Squid gains nothing from the client IP: the port is
      // the tenant. https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#client-ip-preservation
      group.setAttribute('preserve_client_ip.enabled', 'false');
      groups.set(port, group);
      listeners.set(
        port,
        new elbv2.NetworkListener(this, `Port${port}Listener`, {
          loadBalancer: this.loadBalancer,
          port,
          protocol: elbv2.Protocol.TCP,
          defaultTargetGroups: [group],
        }),
      );
    }
    this.targetGroups = groups;
    this.listeners = listeners;
  }

  /** Admits `peer` to the NLB on the tenant port ranges (and nothing else). */
  allowFrom(peer: ec2.IPeer, ranges: readonly (readonly [number, number])[]): void {
    for (const [from, to] of ranges) this.securityGroup.addIngressRule(peer, tcpRange(from, to), `tenant ports ${from}-${to}`);
  }

  /**
   * Registers the fleet's instances in every target group, lets the NLB reach the fleet's group on the tenant
   * port ranges and on the health-check port and admits the NLB there, so the chain is gateway SG -> NLB SG ->
   * instance SG on tenant ports (and NLB SG -> instance SG on the health port) only. The group replaces instances
   * the NLB finds unhealthy (ELB health checks), after a grace period that covers the boot script.
   * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-health-checks.html
   */
  forwardTo(fleet: ProxyFleet, ranges: readonly (readonly [number, number])[]): void {
    for (const tg of this.targetGroups.values()) tg.addTarget(fleet.autoScalingGroup);
    for (const [from, to] of ranges) {
      this.securityGroup.addEgressRule(
        fleet.securityGroup,
        tcpRange(from, to),
        // The description predates the health port (the checks go there now); kept so the existing rule is untouched.
        `tenant ports ${from}-${to} to the proxies (traffic and health checks)`,
      );
    }
    fleet.allowFrom(this.securityGroup, ranges);
    // The health port only from the NLB (its health checks), never from the resource gateway.
    const health = ec2.Port.tcp(this.healthCheckPort);
    this.securityGroup.addEgressRule(fleet.securityGroup, health, `health checks to the proxies (port ${this.healthCheckPort})`);
    fleet.securityGroup.addIngressRule(this.securityGroup, health, `NLB health checks (port ${this.healthCheckPort})`);
    fleet.cfnAutoScalingGroup.healthCheckType = 'ELB';
    fleet.cfnAutoScalingGroup.healthCheckGracePeriod = NlbFront.HEALTH_CHECK_GRACE.toSeconds();
  }
}

/** An NlbFront given props it cannot build (exit code 2). */
export class NlbFrontError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'NlbFrontError';
  }
}
