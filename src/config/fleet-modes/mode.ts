// What a fleet mode decides outside CDK: read by the plan, the policy rollout, the lab, the cost model and CLI,
// and diff. Pure data and small functions, no aws-cdk-lib (the cost CLI and the lab load it). Each mode is one
// file next to this one; index.ts lists them in MODES, the one list every mode union and choice derives from.
// The CDK side of a mode (its proxies, listeners, alarms, dashboard widgets) is src/hub/fleet-modes/<name>.ts.

/**
 * How the policy rollout takes a proxy out of service before reconfiguring it (src/hub/policy-rollout.ts):
 * `none` (nothing to drain to), `health` (withdraw from the failover name), `nlb` (deregister from the target groups).
 */
export type DrainKind = 'none' | 'health' | 'nlb';

/** How the lab routes new connections to its proxies: the first healthy one (failover) or every healthy one (spread). */
export type LabRouting = 'failover' | 'spread';

export interface FleetModeDescriptor<N extends string = string> {
  /** The mode's name in egresshub.yaml (hub.proxy.mode) and on the cost CLI (--fleet). */
  readonly name: N;
  /** How the mode runs its proxies, for `egresshub cost --help` and its report: `azs` is the hub's AZ count. */
  describe(azs: number): string;
  /** The proxy fleet in a few words, for the cost CLI's --fleet help. */
  readonly summary: string;
  /** The AZs that get a fixed proxy (an Auto Scaling group of one with a fixed ENI), from the hub's AZs. */
  fixedProxyAzs<T>(azs: readonly T[]): readonly T[];
  /** How the policy rollout drains a proxy before reconfiguring it. */
  readonly drain: DrainKind;
  /** How the lab routes to its proxies (the AWS behaviour it stands in for). */
  readonly labRouting: LabRouting;
  /** Whether every proxy also listens on the NLB health-check port (squid-conf.ts, NLB_HEALTH_LISTENER). */
  readonly nlbHealthListener: boolean;
  /** Whether the proxies span the hub's AZs (one NAT gateway in one AZ is then a single point of failure). */
  readonly spansAzs: boolean;
  /** What the cost model bills and counts for this mode (src/cost/model.ts). */
  readonly cost: {
    /** Proxy instances at the hub's usual size (the scaling minimum for nlb). */
    proxies(azs: number): number;
    /** Fixed proxies: each publishes a health metric with its alarm. */
    fixedProxies(azs: number): number;
    /** Auto Scaling groups: each has a capacity alarm over two metrics. */
    autoScalingGroups(azs: number): number;
    /** An internal NLB (its hours, capacity units and two query alarms). */
    readonly loadBalancer: boolean;
  };
  /**
   * What `egresshub diff` says when a deploy replaces the proxies: `rolling` (one at a time, at least one in
   * service), or `interruption` (the only proxy stops before its replacement serves).
   */
  readonly replacement: 'rolling' | 'interruption';
}
