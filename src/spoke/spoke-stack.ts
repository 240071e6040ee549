// A spoke as a stack this app deploys (one per plan.spokes entry), in the spoke's own account.
// The hub's resource configuration ARN exists only after the hub is deployed, and CloudFormation
// exports do not cross accounts, so it arrives as a stack parameter (default from CDK context).
import { CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import { noProxyFor } from '../client/env';
import { ClientProxySetup } from '../client/client-proxy-setup';
import type { Construct } from 'constructs';
import type { EgressPlan, SpokePlan } from '../config/plan';
import { findTenant } from '../config/plan';
import { EgressSpoke, RCFG_ARN_PATTERN } from './egress-spoke';

/** CDK context key that carries a tenant's resource configuration ARN into its spoke stacks. */
export function arnContextKey(tenant: string): string {
  return `egresshub:resourceConfigurationArn:${tenant}`;
}

/** Properties of {@link EgressSpokeStack}. */
export interface EgressSpokeStackProps extends StackProps {
  /** The plan the spoke belongs to. */
  readonly plan: EgressPlan;
  /** Which spoke to build (one of `plan.spokes`). */
  readonly spoke: SpokePlan;
  /**
   * The tenant's resource configuration ARN when it can be referenced directly (hub in the same
   * account and region: a cross-stack reference, which also orders the deploys).
   * @default - a `ResourceConfigurationArn` stack parameter, defaulting to the CDK context value `egresshub:resourceConfigurationArn:<tenant>`
   */
  readonly resourceConfigurationArn?: string;
}

/** One spoke (plan.spokes entry) as a stack in the spoke's own account and region. */
export class EgressSpokeStack extends Stack {
  readonly spoke: EgressSpoke;
  /** Present when the config asks for automatic client setup (spokes[].clientSetup). */
  readonly clientSetup?: ClientProxySetup;

  constructor(scope: Construct, id: string, props: EgressSpokeStackProps) {
    const { plan, spoke } = props;
    super(scope, id, {
      env: { account: spoke.account, region: spoke.region },
      stackName: spoke.stackName,
      description: `egresshub spoke: tenant ${spoke.tenant} in ${spoke.vpcId} (${spoke.vpcCidr})`,
      crossRegionReferences: false,
      ...props,
    });
    const tenant = findTenant(plan, spoke.tenant);
    let arn = props.resourceConfigurationArn;
    if (arn === undefined) {
      const fromContext: unknown = this.node.tryGetContext(arnContextKey(tenant.name));
      arn = new CfnParameter(this, 'ResourceConfigurationArn', {
        type: 'String',
        allowedPattern: RCFG_ARN_PATTERN,
        description: `ARN of ${tenant.name}'s resource configuration: the ResourceConfigurationArn output of tenant stack ${tenant.stack}`,
        constraintDescription: 'must be a VPC Lattice resource configuration ARN (…:resourceconfiguration/rcfg-…)',
        ...(typeof fromContext === 'string' ? { default: fromContext } : {}),
      }).valueAsString;
    }
    this.spoke = new EgressSpoke(this, 'Spoke', {
      tenant: tenant.name,
      port: tenant.port,
      resourceConfigurationArn: arn,
      vpcId: spoke.vpcId,
      vpcCidr: spoke.vpcCidr,
      additionalVpcCidrs: spoke.vpcCidrs.slice(1),
      subnetIds: spoke.subnetIds,
      proxyHost: tenant.proxyHost,
      verifiedDomain: plan.dns?.publicHostedZoneId !== undefined,
    });
    if (spoke.clientSetup && this.spoke.proxyUrl) {
      this.clientSetup = new ClientProxySetup(this, 'ClientSetup', {
        proxyUrl: this.spoke.proxyUrl,
        noProxy: noProxyFor(plan.region, spoke.vpcCidrs, spoke.clientSetup),
        targetTag: spoke.clientSetup.tag,
        associationName: `${plan.name}-${tenant.name}-${spoke.vpcId}-proxy`,
      });
      new CfnOutput(this, 'ClientSetupDocument', {
        value: this.clientSetup.documentName,
        description: `SSM document that points hosts at the proxy; run it with Action=remove to undo (instances tagged ${spoke.clientSetup.tag.key}=${spoke.clientSetup.tag.value} get it automatically)`,
      });
    }
  }
}
