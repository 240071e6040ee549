// The hub as a deployable stack: account and region from the plan, so synth never looks anything up.
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { EgressPlan } from '../config/plan';
import { EgressHub } from './egress-hub';

/** Properties of {@link EgressHubStack}. */
export interface EgressHubStackProps extends StackProps {
  /** What to build (planEgress, or buildPlan(loadConfigFile(file))). */
  readonly plan: EgressPlan;
  /**
   * The squid.conf the proxies run.
   * @default renderSquidConf(plan)
   */
  readonly squidConf?: string;
}

/** The hub as a deployable stack, in the plan's account and region and named by it. */
export class EgressHubStack extends Stack {
  readonly hub: EgressHub;

  constructor(scope: Construct, id: string, props: EgressHubStackProps) {
    super(scope, id, {
      env: { account: props.plan.account, region: props.plan.region },
      stackName: props.plan.hub.stackName,
      description: `egresshub hub ${props.plan.name}: Squid proxies (${props.plan.hub.proxy.mode}, egress ${props.plan.hub.egress}) published to ${props.plan.tenants.length} tenant(s) through a VPC Lattice resource gateway`,
      ...props,
    });
    this.hub = new EgressHub(this, 'Hub', { plan: props.plan, squidConf: props.squidConf });
  }
}
