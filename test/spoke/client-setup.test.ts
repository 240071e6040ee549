// spokes[].clientSetup: the spoke stack installs the SSM document + State Manager association that points
// tagged instances at the tenant's proxy, with the same URL and NO_PROXY that `egresshub client-env` prints.
import { describe, expect, it } from 'vitest';
import { clientEnv } from '../../src/client/env';
import { validateTemplate } from '../support/cfn-registry';
import { nagFindings } from '../support/nag';
import { exampleConfig, planOf, synthOnce } from '../support/stack';

describe('automatic client setup in a spoke stack', () => {
  const s = synthOnce('example', () => planOf(exampleConfig()));
  const spokeB = s.templates.get('Spoke-project-b-vpc-0b1c2d3e4f5a60719')!;

  it("associates the setup document with the configured tag, using client-env's values", () => {
    const env = clientEnv(s.plan, 'project-b');
    spokeB.resourceCountIs('AWS::SSM::Document', 1);
    spokeB.hasResourceProperties('AWS::SSM::Association', {
      AssociationName: 'egresshub-project-b-vpc-0b1c2d3e4f5a60719-proxy',
      Targets: [{ Key: 'tag:egresshub:proxy', Values: ['on'] }],
      Parameters: { ProxyUrl: [env.proxyUrl], NoProxy: [env.noProxy.join(',')], Action: ['apply'] },
    });
    expect(env.proxyUrl).toBe('http://project-b.egress.internal:3202');
    expect(Object.keys(spokeB.toJSON().Outputs as object)).toContain('ClientSetupDocument');
  });

  it('adds nothing to spokes without clientSetup', () => {
    const spokeA = s.templates.get('Spoke-project-a-vpc-0a1b2c3d4e5f60718')!;
    spokeA.resourceCountIs('AWS::SSM::Document', 0);
    spokeA.resourceCountIs('AWS::SSM::Association', 0);
  });

  it('validates against the CloudFormation registry and has no cdk-nag findings', () => {
    expect(validateTemplate(spokeB.toJSON())).toEqual([]);
    expect(nagFindings(s.app.node.findChild('Spoke-project-b-vpc-0b1c2d3e4f5a60719'))).toEqual([]);
  });
});
