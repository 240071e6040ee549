// The tenants' side of a hub: a TenantEndpoints wired to an EgressHub, the way every egresshub app wires
// it. The hub's gateway and proxy target may arrive from another stack as weak references, which do not
// make CloudFormation update a consumer when the value changes, so every configuration carries a
// fingerprint of the hub resources it reads (generation.ts), and a name derived from its create-only
// inputs, so that a configuration replaced by a new gateway gets a new name.
import { Lazy, Stack, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { UsageError } from '../config/errors';
import { findTenant, TenantNotFoundError } from '../config/plan';
import type { EgressHub } from './egress-hub';
import { closureOf, fingerprint, producerFingerprint } from './generation';
import { weakReference } from './references';
import { latticeName, TenantEndpoints, type ProxyTarget, type TenantEndpoint } from './tenant-endpoints';

/** Hex digits of the name suffix: short enough for LATTICE_NAME_MAX with a 12-character hub name. */
export const NAME_SUFFIX_LENGTH = 8;

/** Properties of {@link EgressTenants}. */
export interface EgressTenantsProps {
  /** The hub whose gateway and proxies the tenants' resource configurations point at. */
  readonly hub: EgressHub;
  /**
   * Names of the hub's tenants to publish here. A hub with many tenants spreads them over several stacks
   * (the plan's `tenantStacks`), each with its own EgressTenants.
   * @default - every tenant of the hub's plan
   */
  readonly tenants?: readonly string[];
}

/**
 * What the hub publishes for its tenants: per tenant one VPC Lattice resource configuration on the tenant's
 * port, an AWS RAM share for principals outside the hub account, and the outputs its spokes need. Place it
 * in the hub's stack or in a stack of its own (same account and region).
 *
 * @example
 * const tenants = new EgressTenants(tenantsStack, 'Tenants', { hub });
 * const arn = tenants.endpoint('project-a').resourceConfigurationArn;
 */
export class EgressTenants extends TenantEndpoints {
  /** The hub these tenants belong to. */
  readonly hub: EgressHub;

  constructor(scope: Construct, id: string, props: EgressTenantsProps) {
    const { hub } = props;
    const { plan } = hub;
    const hubStack = Stack.of(hub);
    sameEnvironmentAsHub(scope, id, hubStack);
    const resourceGatewayId = hub.gateway.attrId;
    const domainVerificationId = hub.domainVerification?.verification.attrId;
    const target = 'ip' in hub.proxyTarget ? hub.proxyTarget.ip : hub.proxyTarget.dnsName;
    // Read from the hub's stack weakly, whatever the app's flags (references.ts); the names and fingerprints
    // below hash the hub's own values, resolved in the hub's stack.
    const weakTarget: ProxyTarget =
      'ip' in hub.proxyTarget
        ? { ip: weakReference(scope, hub.proxyTarget.ip) }
        : { dnsName: weakReference(scope, hub.proxyTarget.dnsName) };
    super(scope, id, {
      tenants: (props.tenants ?? plan.tenants.map((t) => t.name)).map((name) => findTenant(plan, name)),
      resourceGatewayId: weakReference(scope, resourceGatewayId),
      target: weakTarget,
      domainVerificationId: domainVerificationId === undefined ? undefined : weakReference(scope, domainVerificationId),
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
    this.hub = hub;
  }

  /**
   * Publishes one more of the hub's tenants here (one not given in `tenants`), e.g. tenants generated from a list.
   * The hub's policy and ports come from its config, so the tenant must be in it.
   */
  addTenant(name: string): TenantEndpoint {
    return this.addTenantPlan(findTenant(this.hub.plan, name));
  }

  /** One tenant's endpoint; throws naming the tenants published here when `tenant` is not one of them. */
  endpoint(tenant: string): TenantEndpoint {
    const found = this.endpoints.get(tenant);
    if (found) return found;
    throw new TenantNotFoundError(tenant, [...this.endpoints.keys()]);
  }
}

/**
 * The configurations name the hub's gateway by ID, which exists in the hub's account and region only: a tenants
 * stack elsewhere could never deploy (and would need a cross-region reader for the gateway ID).
 */
function sameEnvironmentAsHub(scope: Construct, id: string, hubStack: Stack): void {
  const stack = Stack.of(scope);
  const clash = (
    [
      ['account', stack.account, hubStack.account],
      ['region', stack.region, hubStack.region],
    ] as const
  ).filter(([, mine, hubs]) => !Token.isUnresolved(mine) && !Token.isUnresolved(hubs) && mine !== hubs);
  if (clash.length === 0) return;
  const what = clash.map(([field, mine, hubs]) => `${field} ${mine} (the hub's stack ${hubStack.node.path} is in ${hubs})`).join(' and ');
  throw new UsageError(
    `${scope.node.path}/${id}: EgressTenants must be in its hub's account and region, but stack ${stack.node.path} is in ${what}; ` +
      `give the tenants' stack the hub stack's env, and reach other accounts with the tenants' accounts (a RAM share) and other VPCs with EgressSpoke`,
  );
}
