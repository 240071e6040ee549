// The standalone spoke template for teams that don't use CDK: the same EgressSpoke construct,
// synthesized without CDK bootstrap or assets, with the VPC as parameters and the port baked in.
import { App, Aws, CfnCondition, CfnParameter, DefaultStackSynthesizer, Fn, Stack, Validations } from 'aws-cdk-lib';
import { MAX_SPOKE_CIDRS } from '../config/schema';
import { findTenant, type EgressPlan } from '../config/plan';
import { EgressSpoke, RCFG_ARN_PATTERN } from './egress-spoke';

/** A plain CloudFormation template (JSON object) for one tenant's spoke. */
export function spokeTemplate(plan: EgressPlan, tenantName: string): Record<string, unknown> {
  const stack = spokeTemplateStack(plan, tenantName);
  return (stack.node.scope as App).synth().getStackByName(stack.stackName).template as Record<string, unknown>;
}

/** The stack behind spokeTemplate, for callers that inspect the construct tree (cdk-nag). */
export function spokeTemplateStack(plan: EgressPlan, tenantName: string, app: App = new App()): Stack {
  const tenant = findTenant(plan, tenantName);
  const stack = new Stack(app, 'Spoke', {
    // No bootstrap version rule or asset bucket: the template must deploy in any account as is.
    synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
    description: `egresshub spoke for tenant ${tenant.name} (proxy port ${tenant.port}) of hub ${plan.hub.stackName} in ${plan.region}`,
  });
  const vpcId = new CfnParameter(stack, 'VpcId', {
    type: 'AWS::EC2::VPC::Id',
    description: 'the project VPC that gets the proxy endpoint',
  });
  const subnetIds = new CfnParameter(stack, 'SubnetIds', {
    type: 'List<AWS::EC2::Subnet::Id>',
    description: 'subnets for the endpoint, one in each of at least two Availability Zones',
  });
  const vpcCidr = new CfnParameter(stack, 'VpcCidr', {
    type: 'String',
    // VPC CIDRs are /16 to /28; the pattern also rules out 0.0.0.0/0.
    allowedPattern: '^(\\d{1,3}\\.){3}\\d{1,3}/(1[6-9]|2[0-8])$',
    description: 'CIDR of the project VPC: the only source admitted to the proxy endpoint',
    constraintDescription: 'must be the IPv4 CIDR block of a VPC (/16 to /28), such as 10.0.0.0/16',
  });
  const arn = new CfnParameter(stack, 'ResourceConfigurationArn', {
    type: 'String',
    allowedPattern: RCFG_ARN_PATTERN,
    description: `ARN of ${tenant.name}'s resource configuration: the ResourceConfigurationArn output of tenant stack ${tenant.stack} (shared with your account through AWS RAM; accept the share first if you are outside the hub's organization)`,
    constraintDescription: 'must be a VPC Lattice resource configuration ARN (…:resourceconfiguration/rcfg-…)',
  });
  const spoke = new EgressSpoke(stack, 'Spoke', {
    tenant: tenant.name,
    port: tenant.port,
    resourceConfigurationArn: arn.valueAsString,
    vpcId: vpcId.valueAsString,
    vpcCidr: vpcCidr.valueAsString,
    subnetIds: subnetIds.valueAsList,
    resolveProxyName: false,
    proxyHost: tenant.proxyHost,
    verifiedDomain: plan.dns?.publicHostedZoneId !== undefined,
  });
  // Secondary blocks: optional parameters (AWS's default quota is 4 secondary IPv4 blocks per VPC), each an
  // ingress entry only when given. https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html
  const secondary = Array.from({ length: MAX_SPOKE_CIDRS - 1 }, (_, k) => {
    const param = new CfnParameter(stack, `SecondaryVpcCidr${k + 1}`, {
      type: 'String',
      default: '',
      allowedPattern: '^$|^(\\d{1,3}\\.){3}\\d{1,3}/(1[6-9]|2[0-8])$',
      description: `a secondary CIDR block of the project VPC, also admitted to the proxy endpoint (leave empty if none)`,
      constraintDescription: 'must be empty or an IPv4 CIDR block of a VPC (/16 to /28)',
    });
    const given = new CfnCondition(stack, `HasSecondaryVpcCidr${k + 1}`, {
      expression: Fn.conditionNot(Fn.conditionEquals(param.valueAsString, '')),
    });
    return Fn.conditionIf(
      given.logicalId,
      {
        IpProtocol: 'tcp',
        FromPort: tenant.port,
        ToPort: tenant.port,
        CidrIp: param.valueAsString,
        Description: "servers in this VPC's secondary CIDR block to the proxy",
      },
      Aws.NO_VALUE,
    );
  });
  spoke.securityGroup.addPropertyOverride('SecurityGroupIngress', [
    {
      IpProtocol: 'tcp',
      FromPort: tenant.port,
      ToPort: tenant.port,
      CidrIp: vpcCidr.valueAsString,
      Description: 'servers in this VPC to the proxy',
    },
    ...secondary,
  ]);
  Validations.of(spoke.securityGroup).acknowledge({
    id: 'AwsSolutions-EC23',
    reason:
      'the only ingress CIDR is the VpcCidr parameter, whose AllowedPattern admits only /16 to /28 blocks; cdk-nag cannot evaluate parameters',
  });
  return stack;
}
