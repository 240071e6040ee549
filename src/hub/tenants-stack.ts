// A stack of tenant endpoints for one block of ports (plan.tenantStacks): the hub's gateway and proxy
// target (address or name) arrive as cross-stack references, and a tenant stays in its stack for life
// because its port does. The wiring to the hub (fingerprints, replacement-safe names) is EgressTenants'.
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { EgressPlan, TenantStackPlan } from '../config/plan';
import type { EgressHub } from './egress-hub';
import { EgressTenants } from './egress-tenants';

/** Properties of {@link EgressTenantsStack}. */
export interface EgressTenantsStackProps extends StackProps {
  /** The plan the hub was built from. */
  readonly plan: EgressPlan;
  /** Which block of tenants this stack holds (one of `plan.tenantStacks`). */
  readonly shard: TenantStackPlan;
  /** The hub, in its own stack of the same account and region. */
  readonly hub: EgressHub;
}

/** One block of tenants' resource configurations, in the plan's account and region, named by the plan. */
export class EgressTenantsStack extends Stack {
  /** The tenants' resource configurations, shares and outputs. */
  readonly tenants: EgressTenants;

  constructor(scope: Construct, id: string, props: EgressTenantsStackProps) {
    const { plan, shard, hub } = props;
    super(scope, id, {
      env: { account: plan.account, region: plan.region },
      stackName: shard.stackName,
      description: `egresshub ${plan.name}: resource configurations of tenants on ports ${shard.firstPort}-${shard.lastPort} (${shard.tenants.length})`,
      ...props,
    });
    this.tenants = new EgressTenants(this, 'Tenants', { hub, tenants: shard.tenants });
  }
}
