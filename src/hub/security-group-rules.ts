// Security-group helpers shared by the hub's groups (gateway, NLB): no implicit allow-all egress.
import type * as ec2 from 'aws-cdk-lib/aws-ec2';

/** The rule aws-cdk-lib itself uses for "no outbound traffic": ICMP type 252 code 86 to 255.255.255.255/32. */
export const MATCH_NO_TRAFFIC = {
  CidrIp: '255.255.255.255/32',
  Description: 'Disallow all traffic',
  IpProtocol: 'icmp',
  FromPort: 252,
  ToPort: 86,
};

/**
 * Rules toward another group are separate AWS::EC2::SecurityGroupEgress resources, and a group created without
 * inline egress gets EC2's allow-all rule, which those resources do not remove. An inline rule that matches
 * nothing keeps the allow-all rule from ever being created.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-securitygroup.html
 */
export function denyDefaultEgress(group: ec2.SecurityGroup): void {
  (group.node.defaultChild as ec2.CfnSecurityGroup).addPropertyOverride('SecurityGroupEgress', [MATCH_NO_TRAFFIC]);
}
