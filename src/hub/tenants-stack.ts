// A stack of tenant endpoints for one block of ports (plan.tenantStacks): the hub's gateway and proxy
// target (address or name) arrive as cross-stack references, and a tenant stays in its stack for life because its port does.
// Weak references do not make CloudFormation update a consumer when the value changes, so every
// configuration carries a fingerprint of the hub resources it reads (generation.ts), and a name derived
// from its create-only inputs, so that a configuration replaced by a new gateway gets a new name.
import { Lazy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { findTenant, type EgressPlan, type TenantStackPlan } from '../config/plan';
import type { EgressHub } from './egress-hub';
import { closureOf, fingerprint, producerFingerprint } from './generation';
import { latticeName, TenantEndpoints } from './tenant-endpoints';

/** Hex digits of the name suffix: short enough for LATTICE_NAME_MAX with a 12-character hub name. */
export const NAME_SUFFIX_LENGTH = 8;

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
    const hubStack = Stack.of(hub);
    const resourceGatewayId = hub.gateway.attrId;
    const domainVerificationId = hub.domainVerification?.verification.attrId;
    const target = 'ip' in hub.proxyTarget ? hub.proxyTarget.ip : hub.proxyTarget.dnsName;
    this.tenants = new TenantEndpoints(this, 'Tenants', {
      tenants: shard.tenants.map((name) => findTenant(plan, name)),
      resourceGatewayId,
      target: hub.proxyTarget,
      domainVerificationId,
      // Everything read from the hub: a new gateway, proxy ENI, NLB or verification changes it.
      generation: producerFingerprint(hubStack, [resourceGatewayId, target, domainVerificationId]),
      // The create-only inputs (registry: ResourceGatewayId, CustomDomainName, DomainVerificationId, type,
      // protocol) and the tenant: whenever CloudFormation may replace the configuration, the name is new.
      nameOf: (tenant) =>
        Lazy.string({
          produce: () => {
            const inputs = [resourceGatewayId, tenant.proxyHost ? domainVerificationId : undefined];
            const hash = fingerprint([
              tenant.name,
              tenant.proxyHost ?? null,
              'SINGLE',
              'TCP',
              hubStack.resolve(inputs),
              ...closureOf(hubStack, inputs),
            ]);
            return latticeName(tenant.resourceConfigurationName, hash.slice(0, NAME_SUFFIX_LENGTH));
          },
        }),
    });
  }
}
