// A stack of tenant endpoints for one block of ports (plan.tenantStacks): the hub's gateway and proxy
// target (address or name) arrive as cross-stack references, and a tenant stays in its stack for life because its port does.
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { findTenant, type EgressPlan, type TenantStackPlan } from '../config/plan';
import type { EgressHub } from './egress-hub';
import { TenantEndpoints } from './tenant-endpoints';

export interface EgressTenantsStackProps extends StackProps {
  readonly plan: EgressPlan;
  readonly shard: TenantStackPlan;
  readonly hub: EgressHub;
}

export class EgressTenantsStack extends Stack {
  readonly tenants: TenantEndpoints;

  constructor(scope: Construct, id: string, props: EgressTenantsStackProps) {
    const { plan, shard, hub } = props;
    super(scope, id, {
      env: { account: plan.account, region: plan.region },
      stackName: shard.stackName,
      description: `egresshub ${plan.name}: resource configurations of tenants on ports ${shard.firstPort}-${shard.lastPort} (${shard.tenants.length})`,
      ...props,
    });
    this.tenants = new TenantEndpoints(this, 'Tenants', {
      tenants: shard.tenants.map((name) => findTenant(plan, name)),
      resourceGatewayId: hub.gateway.attrId,
      target: hub.proxyTarget,
      domainVerificationId: hub.domainVerification?.verification.attrId,
    });
  }
}
