// multi-az: the name the resource configurations target, answered from a private hosted zone in the hub VPC
// with Route 53 failover records over the fixed proxies. Only one proxy's address is answered at a time, so
// the resource gateway never sees a multi-address name (its handling of those is UNCONFIRMED, AWS-FACTS.md).
import { type Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { UsageError } from '../config/errors';

/** One fixed proxy in the failover chain, in priority order. */
export interface FailoverProxy {
  /** Its plan id (`ProxyA`): names the health check, the record's set identifier and construct IDs. */
  readonly id: string;
  /** The address the proxy listens on (its fixed ENI's private IP). */
  readonly ip: string;
  /** Alarm on the proxy's health signal; ALARM (or no data) withdraws the proxy from the answer. */
  readonly healthAlarm: cloudwatch.IAlarm;
}

/** Properties of {@link FailoverDns}. */
export interface FailoverDnsProps {
  /** The hub VPC: the zone is associated with it, and the gateway resolves IN_VPC through it. */
  readonly vpc: ec2.IVpc;
  /** Private hosted zone name (plan.hub.proxy.failoverName.zone). */
  readonly zoneName: string;
  /** The name the resource configurations target (plan.hub.proxy.failoverName.name), inside the zone. */
  readonly name: string;
  /** The records' TTL (plan.hub.proxy.failoverName.ttlSeconds). */
  readonly ttl: Duration;
  /** At least two, first = preferred (the first AZ's proxy). */
  readonly proxies: readonly FailoverProxy[];
}

/**
 * A failover chain: `name` answers the first proxy while it is healthy, else the rest of the chain. With two
 * proxies that is one PRIMARY/SECONDARY pair. With more, the SECONDARY of each pair is an alias (evaluating
 * target health) to a nested failover name `standby-<n>.<zone>` holding the next pair, as AWS documents for
 * complex failover configurations: the alias is healthy while any proxy further down is.
 * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-complex-configs.html
 * When a SECONDARY is unhealthy Route 53 answers the PRIMARY whatever its health, so with every proxy down
 * the name still answers the first one (which its group is replacing).
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html (Failover)
 *
 * Route 53's health checkers run outside the VPC and cannot reach private IPs, so each health check reads
 * the proxy's CloudWatch alarm (CLOUDWATCH_METRIC), with insufficient data counted as unhealthy: a proxy
 * that stops publishing is withdrawn.
 * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-private-hosted-zones.html
 */
export class FailoverDns extends Construct {
  readonly zone: route53.PrivateHostedZone;
  /** The name to target (the chain's head). */
  readonly domainName: string;
  /** Health check per proxy id. */
  readonly healthChecks: ReadonlyMap<string, route53.CfnHealthCheck>;
  readonly records: route53.CfnRecordSet[] = [];

  constructor(scope: Construct, id: string, props: FailoverDnsProps) {
    super(scope, id);
    const { proxies } = props;
    if (proxies.length < 2) {
      throw new FailoverDnsError(`a failover name needs at least two proxies (got ${proxies.length}); use proxy mode single for one`);
    }
    if (!props.name.endsWith(`.${props.zoneName}`)) {
      throw new FailoverDnsError(`the failover name "${props.name}" must lie inside the zone "${props.zoneName}"`);
    }
    this.domainName = props.name;
    this.zone = new route53.PrivateHostedZone(this, 'Zone', {
      zoneName: props.zoneName,
      vpc: props.vpc,
      comment: 'egresshub: failover name of the fixed proxies (the resource configurations target it)',
    });

    const region = Stack.of(this).region;
    const checks = new Map<string, route53.CfnHealthCheck>();
    for (const p of proxies) {
      checks.set(
        p.id,
        new route53.CfnHealthCheck(this, `${p.id}HealthCheck`, {
          healthCheckConfig: {
            type: 'CLOUDWATCH_METRIC',
            alarmIdentifier: { name: p.healthAlarm.alarmName, region },
            // A proxy that stopped publishing (instance gone) is down, not "last known healthy".
            insufficientDataHealthStatus: 'Unhealthy',
          },
          healthCheckTags: [{ key: 'Name', value: `egresshub ${p.id}` }],
        }),
      );
    }
    this.healthChecks = checks;

    // Level i answers proxies[i] first; its SECONDARY is proxies[i+1] itself on the last level, else an alias
    // to level i+1. Names and construct IDs depend only on the position (Level<i>Primary/Secondary): a record's
    // name is the one property whose change replaces it, and a replacement creates the new record before it
    // deletes the old, which two SECONDARY records of one name would not survive. So when the chain grows or
    // shrinks, every existing record is updated in place and levels are only added or removed at the end.
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-route53-recordset.html
    const levelName = (i: number) => (i === 0 ? props.name : `standby-${i}.${props.zoneName}`);
    const ttl = String(props.ttl.toSeconds());
    const healthCheckOf = (id: string) => {
      const check = checks.get(id);
      if (!check) throw new FailoverDnsError(`no health check for ${id}`);
      return check;
    };
    const proxyAt = (i: number) => {
      const p = proxies[i];
      if (!p) throw new FailoverDnsError(`no proxy at failover level ${i}`);
      return p;
    };
    const address = (level: number, p: FailoverProxy, failover: 'PRIMARY' | 'SECONDARY') =>
      new route53.CfnRecordSet(this, `Level${level}${failover === 'PRIMARY' ? 'Primary' : 'Secondary'}`, {
        hostedZoneId: this.zone.hostedZoneId,
        name: levelName(level),
        type: 'A',
        ttl,
        resourceRecords: [p.ip],
        setIdentifier: p.id,
        failover,
        healthCheckId: healthCheckOf(p.id).attrHealthCheckId,
      });
    const last = proxies.length - 2;
    let next: route53.CfnRecordSet[] = [];
    for (let level = last; level >= 0; level--) {
      const primary = address(level, proxyAt(level), 'PRIMARY');
      let secondary: route53.CfnRecordSet;
      if (level === last) {
        secondary = address(level, proxyAt(level + 1), 'SECONDARY');
      } else {
        secondary = new route53.CfnRecordSet(this, `Level${level}Secondary`, {
          hostedZoneId: this.zone.hostedZoneId,
          name: levelName(level),
          type: 'A',
          setIdentifier: `standby-${level + 1}`,
          failover: 'SECONDARY',
          // Healthy while any record of the nested name is (Route 53 evaluates the target's health checks).
          aliasTarget: { hostedZoneId: this.zone.hostedZoneId, dnsName: levelName(level + 1), evaluateTargetHealth: true },
        });
        // An alias can only point at records that exist.
        for (const r of next) secondary.node.addDependency(r);
      }
      next = [primary, secondary];
      this.records.push(primary, secondary);
    }
  }
}

/** A FailoverDns given props it cannot build (exit code 2). */
export class FailoverDnsError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'FailoverDnsError';
  }
}
