import { Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { nagFindings } from './nag';
import { testStack } from './stack';

describe('nagFindings', () => {
  const openGroup = () => {
    const stack = testStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['ap-northeast-1a'] });
    const sg = new ec2.SecurityGroup(stack, 'Open', { vpc });
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    return { stack, sg };
  };

  it('reports an unacknowledged finding with the construct path', () => {
    const { stack } = openGroup();
    expect(nagFindings(stack)).toEqual([expect.objectContaining({ rule: 'AwsSolutions-EC23', resources: ['Test/Open/Resource'] })]);
  });

  it('drops a finding acknowledged next to its construct', () => {
    const { stack, sg } = openGroup();
    Validations.of(sg).acknowledge({ id: 'AwsSolutions-EC23', reason: 'test' });
    expect(nagFindings(stack)).toEqual([]);
  });
});
