// What the hub publishes for each tenant: one SINGLE/TCP resource configuration on the tenant's own
// port (the port is how Squid tells tenants apart), an AWS RAM share for principals outside the hub
// account, and outputs with what the tenant's spokes need. Construct IDs are the tenant names.
import { CfnOutput, Fn } from 'aws-cdk-lib';
import * as ram from 'aws-cdk-lib/aws-ram';
import * as lattice from 'aws-cdk-lib/aws-vpclattice';
import { Construct } from 'constructs';
import type { TenantPlan } from '../config/plan';
import { GENERATION_TAG } from './generation';
import { UsageError } from '../config/errors';
import { CFN_MAX_OUTPUTS, checkStackLimits } from './limits';
import { produceWeakly } from './references';

/**
 * What every tenant's resource configuration points at, by fleet mode: the fixed proxy's listener address
 * (single), or a name the gateway resolves in the hub VPC (multi-az: the failover name; nlb: the NLB's DNS
 * name). The definition updates in place, so switching modes never replaces a configuration or an endpoint.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-vpclattice-resourceconfiguration.html
 */
export type ProxyTarget = { readonly ip: string } | { readonly dnsName: string };

/** The configuration's definition for a target: an IpResource, or a DnsResource resolved IPv4 in the hub VPC. */
export function resourceDefinitionOf(target: ProxyTarget): lattice.CfnResourceConfiguration.ResourceConfigurationDefinitionProperty {
  return 'ip' in target ? { ipResource: target.ip } : { dnsResource: { domainName: target.dnsName, ipAddressType: 'IPV4' } };
}

/** Properties of {@link TenantEndpoints}. */
export interface TenantEndpointsProps {
  /** The tenants to publish, from a plan (`plan.tenants`). */
  readonly tenants: readonly TenantPlan[];
  /** ID of the hub's resource gateway. */
  readonly resourceGatewayId: string;
  /** The proxy's address or name, the target of every configuration (EgressHub.proxyTarget). */
  readonly target: ProxyTarget;
  /**
   * Set when the tenants' custom domain names lie under a verified public domain.
   * @default - no verification (private names)
   */
  readonly domainVerificationId?: string;
  /**
   * Value of the GENERATION_TAG on every configuration: changes whenever a value read from another stack
   * may have a new physical value, so the stack is deployed and reads it again (generation.ts).
   * @default - no tag
   */
  readonly generation?: string;
  /**
   * The configuration's name. AWS requires a name, unique in the account; it is updatable in place, so a
   * name derived from the create-only inputs gives a replacement a new name without renaming otherwise.
   * @default tenant.resourceConfigurationName
   */
  readonly nameOf?: (tenant: TenantPlan) => string;
}

/** VPC Lattice names: 3–40 characters, a-z, 0-9 and single hyphens, no hyphen at either end. */
export const LATTICE_NAME_MAX = 40;

/**
 * `<base>-<suffix>` within LATTICE_NAME_MAX: the base is cut (never the suffix, which also carries the
 * tenant name's hash, so two cut bases stay distinct).
 * https://docs.aws.amazon.com/vpc-lattice/latest/APIReference/API_CreateResourceConfiguration.html
 */
export function latticeName(base: string, suffix: string): string {
  const room = LATTICE_NAME_MAX - 1 - suffix.length;
  return `${base.slice(0, room).replace(/-+$/, '')}-${suffix}`;
}

/** What the hub publishes for one tenant. */
export interface TenantEndpoint {
  readonly tenant: TenantPlan;
  readonly resourceConfiguration: lattice.CfnResourceConfiguration;
  /** The configuration's ARN, what a spoke's Resource endpoint needs. */
  readonly resourceConfigurationArn: string;
  /** Present only when the tenant has principals outside the hub account. */
  readonly share?: ram.CfnResourceShare;
}

/** Each tenant's resource configuration on its port, its RAM share and its outputs, from explicit inputs (see EgressTenants for the hub-wired form). */
export class TenantEndpoints extends Construct {
  /** Outputs written per tenant (ARN, port, spoke parameters): bounds tenants per stack. */
  static readonly OUTPUTS_PER_TENANT = 3;

  /**
   * Tenants one construct publishes at most: CloudFormation's 200 outputs per template over OUTPUTS_PER_TENANT.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
   */
  static readonly MAX_TENANTS = Math.floor(CFN_MAX_OUTPUTS / TenantEndpoints.OUTPUTS_PER_TENANT);

  /** The published tenants' endpoints, by tenant name. */
  get endpoints(): ReadonlyMap<string, TenantEndpoint> {
    return this.published;
  }

  private readonly published = new Map<string, TenantEndpoint>();
  private readonly props: TenantEndpointsProps;

  constructor(scope: Construct, id: string, props: TenantEndpointsProps) {
    super(scope, id);
    this.props = props;
    this.refuseOverLimit(props.tenants.length);
    for (const tenant of props.tenants) this.addTenantPlan(tenant);
    checkStackLimits(this);
  }

  /** Publishes one more tenant (its configuration, share and outputs); refused when it is already published here or would not fit. */
  protected addTenantPlan(tenant: TenantPlan): TenantEndpoint {
    if (this.published.has(tenant.name)) {
      throw new UsageError(`${this.node.path}: tenant "${tenant.name}" is already published here; publish each tenant once`);
    }
    this.refuseOverLimit(this.published.size + 1);
    const endpoint = this.tenant(tenant, this.props);
    this.published.set(tenant.name, endpoint);
    return endpoint;
  }

  private refuseOverLimit(count: number): void {
    if (count <= TenantEndpoints.MAX_TENANTS) return;
    throw new UsageError(
      `${this.node.path}: ${count} tenants in one construct need ${count * TenantEndpoints.OUTPUTS_PER_TENANT} outputs, above CloudFormation's ${CFN_MAX_OUTPUTS} per template ` +
        `(at most ${TenantEndpoints.MAX_TENANTS} tenants per construct); spread them over several stacks, one EgressTenants each with \`tenants\`: ` +
        `planEgress(config).tenantStacks gives blocks of ports that fit (\`for (const shard of plan.tenantStacks) new EgressTenants(new Stack(app, shard.id, { env, stackName: shard.stackName }), 'Tenants', { hub, tenants: shard.tenants })\`)`,
    );
  }

  private tenant(tenant: TenantPlan, props: TenantEndpointsProps): TenantEndpoint {
    const node = new Construct(this, tenant.name);
    const resourceConfiguration = new lattice.CfnResourceConfiguration(node, 'ResourceConfiguration', {
      name: props.nameOf?.(tenant) ?? tenant.resourceConfigurationName,
      resourceConfigurationType: 'SINGLE',
      protocolType: 'TCP',
      // The tenant's own port only: it is how Squid tells tenants apart (all traffic arrives from gateway IPs).
      portRanges: [String(tenant.port)],
      resourceGatewayId: props.resourceGatewayId,
      resourceConfigurationDefinition: resourceDefinitionOf(props.target),
      // One custom domain per configuration (immutable: changing it replaces the configuration and its
      // endpoints), so each tenant's name is its own: <tenant>.<dns.domain>.
      // https://docs.aws.amazon.com/vpc-lattice/latest/ug/resource-configuration.html#custom-domain-name
      customDomainName: tenant.proxyHost,
      domainVerificationId: tenant.proxyHost ? props.domainVerificationId : undefined,
      tags: props.generation === undefined ? undefined : [{ key: GENERATION_TAG, value: props.generation }],
    });
    // Spokes in other stacks read the ARN weakly whatever the app's flags (references.ts).
    produceWeakly(resourceConfiguration);
    const arn = resourceConfiguration.attrArn;
    let share: ram.CfnResourceShare | undefined;
    if (tenant.sharePrincipals.length > 0) {
      share = new ram.CfnResourceShare(node, 'Share', {
        name: tenant.resourceConfigurationName,
        resourceArns: [arn],
        principals: [...tenant.sharePrincipals],
      });
    }
    const label = tenant.implicit ? 'the shared configuration' : `tenant ${tenant.name}`;
    new CfnOutput(node, 'ResourceConfigurationArn', { value: arn, description: `resource configuration ARN of ${label}` });
    new CfnOutput(node, 'Port', { value: String(tenant.port), description: `proxy port of ${label}` });
    new CfnOutput(node, 'SpokeParameters', {
      value: Fn.join('', ['ResourceConfigurationArn=', arn]),
      description: `parameter for ${label}'s spoke template (aws cloudformation deploy --parameter-overrides, or cdk deploy --parameters); add VpcId, SubnetIds and VpcCidr of the spoke VPC`,
    });
    return { tenant, resourceConfiguration, resourceConfigurationArn: arn, share };
  }
}
