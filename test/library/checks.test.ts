// What a platform team's app walks into, refused at synth with egresshub's own words and the construct's path:
// a tenants construct or stack over CloudFormation's limits, a spoke on another port than its tenant, a tenants
// stack away from its hub.
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { cdkJsonContext, EgressHub, EgressSpoke, EgressTenants, planEgress, type EgressHubConfig } from '../../src';
import { RECORDED_CONTEXT } from './readme-app';
import { TWO_TENANTS } from '../fixtures/two-tenants';

const env = { account: TWO_TENANTS.account, region: TWO_TENANTS.region };

/** The README's system with `count` tenants on ports 8001…, no spokes. */
function config(count: number): EgressHubConfig {
  return {
    ...TWO_TENANTS,
    spokes: [],
    tenants: Array.from({ length: count }, (_, i) => ({ name: `t${String(i).padStart(3, '0')}`, port: 8001 + i, allow: ['example.com'] })),
  };
}

function hubOf(app: App, cfg: EgressHubConfig = TWO_TENANTS): EgressHub {
  return new EgressHub(new Stack(app, 'Hub', { env }), 'Hub', { config: cfg });
}

const freshApp = () => new App({ context: { ...cdkJsonContext(), ...RECORDED_CONTEXT } });

describe('synth-time checks of the constructs', () => {
  it('refuse 70 tenants in one EgressTenants (210 outputs), naming the construct and the way to split', () => {
    const app = freshApp();
    const hub = hubOf(app, config(70));
    expect(() => new EgressTenants(new Stack(app, 'Tenants', { env }), 'Tenants', { hub })).toThrow(
      /^Tenants\/Tenants: 70 tenants in one construct need 210 outputs, above CloudFormation's 200 per template \(at most 66 tenants per construct\); .*tenantStacks/,
    );
  });

  it("split the same tenants along the plan's blocks, each stack within the limits", () => {
    const app = freshApp();
    const hub = hubOf(app, config(70));
    const plan = planEgress(config(70));
    expect(plan.tenantStacks.length).toBe(2);
    for (const shard of plan.tenantStacks) {
      new EgressTenants(new Stack(app, shard.id, { env, stackName: shard.stackName }), 'Tenants', { hub, tenants: shard.tenants });
    }
    const assembly = app.synth();
    const outputs = plan.tenantStacks.map(
      (s) => Object.keys((assembly.getStackByName(s.stackName).template as { Outputs: object }).Outputs).length,
    );
    expect(outputs.every((n) => n <= 200)).toBe(true);
    expect(outputs.reduce((a, b) => a + b)).toBe(210);
  });

  it('refuse a stack whose outputs, counted at synth, go over 200, naming the stack', () => {
    const app = freshApp();
    const hub = hubOf(app, config(60));
    const stack = new Stack(app, 'Shared', { env });
    new EgressTenants(stack, 'Tenants', { hub });
    // The app's own outputs in the same stack: 180 + 21 = 201.
    for (let i = 0; i < 21; i++) new CfnOutput(stack, `Own${i}`, { value: 'x' });
    expect(() => app.synth()).toThrow(
      /egresshub: stack Shared \(Shared\) has 201 outputs, above CloudFormation's limit of 200 per template/,
    );
  });

  it('add tenants one by one (addTenant), once each, and only those of the config', () => {
    const app = freshApp();
    const hub = hubOf(app);
    const tenants = new EgressTenants(new Stack(app, 'Tenants', { env }), 'Tenants', { hub, tenants: [] });
    const endpoint = tenants.addTenant('project-b');
    expect(endpoint.tenant.port).toBe(8002);
    expect([...tenants.endpoints.keys()]).toEqual(['project-b']);
    expect(() => tenants.addTenant('project-b')).toThrow(
      'Tenants/Tenants: tenant "project-b" is already published here; publish each tenant once',
    );
    expect(() => tenants.addTenant('project-z')).toThrow('unknown tenant "project-z"');
  });

  it('refuse a tenants stack in another region than its hub', () => {
    const app = freshApp();
    const hub = hubOf(app);
    const elsewhere = new Stack(app, 'Tenants', { env: { ...env, region: 'eu-west-1' } });
    expect(() => new EgressTenants(elsewhere, 'Tenants', { hub })).toThrow(
      "Tenants/Tenants: EgressTenants must be in its hub's account and region, but stack Tenants is in region eu-west-1 (the hub's stack Hub is in ap-northeast-1)",
    );
  });

  it("refuse a spoke on another port than its tenant's configuration; warn of one in another Region", () => {
    const spokeIn = (app: App, stack: Stack, port: number) => {
      const tenants = new EgressTenants(new Stack(app, 'Tenants', { env }), 'Tenants', { hub: hubOf(app) });
      return new EgressSpoke(stack, 'Spoke', {
        tenant: 'project-a',
        port,
        resourceConfigurationArn: tenants.endpoint('project-a').resourceConfigurationArn,
        vpcId: 'vpc-0a0a0a0a0a0a0a0a0',
        vpcCidr: '10.0.0.0/16',
        subnetIds: ['subnet-0a0a0a0a0a0a0a0a1', 'subnet-0a0a0a0a0a0a0a0a2'],
      });
    };
    const app = freshApp();
    expect(() => spokeIn(app, new Stack(app, 'Spoke', { env }), 8002)).toThrow(
      'Spoke/Spoke (spoke for tenant "project-a"): port 8002 is not the port of its resource configuration Tenants/Tenants/project-a/ResourceConfiguration (8001)',
    );
    const other = freshApp();
    const far = new Stack(other, 'Far', { env: { ...env, region: 'eu-west-1' } });
    spokeIn(other, far, 8001);
    Annotations.fromStack(far).hasWarning(
      '/Far/Spoke',
      Match.stringLikeRegexp('is in eu-west-1, its resource configuration .* in ap-northeast-1'),
    );
    const near = freshApp();
    const good = new Stack(near, 'Good', { env });
    spokeIn(near, good, 8001);
    Annotations.fromStack(good).hasNoWarning('*', Match.anyValue());
  });
});
