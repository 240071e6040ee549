import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { validateTemplate } from '../support/cfn-registry';
import { nagFindings } from '../support/nag';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffApps, readAssembly, type AppSnapshot } from '../../src/diff';
import { ALLOWED_URL, buildIntegApp, DAY2, DENIED_URL, integPlan } from './integ-app';

describe('integration app (deployable by a user with an account)', () => {
  const app = buildIntegApp({ account: '123456789012', region: 'us-east-1', availabilityZones: ['us-east-1a', 'us-east-1b'] });
  const stacks = app.node.children as Stack[];
  const templates = new Map(stacks.map((s) => [s.node.id, Template.fromStack(s)]));
  const spoke = templates.get('IntegSpoke')!;

  it('deploys a hub and a spoke whose VPC overlaps the hub CIDR and has no way out but the proxy', () => {
    expect([...templates.keys()]).toEqual(['Hub', 'Tenants-3200', 'IntegSpoke']);
    templates.get('Hub')!.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/16' });
    spoke.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/16' });
    spoke.resourceCountIs('AWS::EC2::NatGateway', 0);
    spoke.resourceCountIs('AWS::EC2::InternetGateway', 0);
    spoke.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
  });

  it('fails the deploy unless the allowed URL gets 200 and the denied URL 407 through the proxy', () => {
    const [id, instance] = Object.entries(spoke.findResources('AWS::EC2::Instance'))[0]! as [
      string,
      { CreationPolicy: unknown; Properties: { UserData: unknown } },
    ];
    expect(instance.CreationPolicy).toEqual({ ResourceSignal: { Count: 1, Timeout: 'PT25M' } });
    const script = JSON.stringify(instance.Properties.UserData);
    expect(script).toContain(ALLOWED_URL);
    expect(script).toContain(DENIED_URL);
    expect(script).toContain('[ \\"$allowed\\" = 200 ] && [ \\"$denied\\" = 407 ] && rc=0');
    expect(script).toContain(`--resource ${id}`);
  });

  it('validates against the CloudFormation registry and has no unacknowledged cdk-nag findings', () => {
    for (const [id, t] of templates) expect({ id, problems: validateTemplate(t.toJSON()) }).toEqual({ id, problems: [] });
    expect(nagFindings(app)).toEqual([]);
  });
});

describe.each([
  { mode: 'single', egress: 'nat' },
  { mode: 'nlb', egress: 'nat' },
  { mode: 'multi-az', egress: 'public' },
] as const)('integration app with mode $mode and egress $egress', ({ mode, egress }) => {
  const app = buildIntegApp({
    account: '123456789012',
    region: 'us-east-1',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    mode,
    egress,
  });
  const templates = new Map((app.node.children as Stack[]).map((s) => [s.node.id, Template.fromStack(s)]));

  it('builds the mode it names, valid against the registry and clean under cdk-nag', () => {
    const hub = templates.get('Hub')!;
    hub.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', mode === 'nlb' ? 1 : 0);
    hub.resourceCountIs('AWS::EC2::NatGateway', egress === 'public' ? 0 : 1);
    hub.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', mode === 'single' || mode === 'nlb' ? 1 : 2);
    for (const [id, t] of templates) expect({ id, problems: validateTemplate(t.toJSON()) }).toEqual({ id, problems: [] });
    expect(nagFindings(app)).toEqual([]);
  });
});

describe('integration app, day 2 (deploy day 1, then -c day=2 over it)', () => {
  const opts = { account: '123456789012', region: 'us-east-1', availabilityZones: ['us-east-1a', 'us-east-1b'] } as const;
  const snapshot = (day: 1 | 2): AppSnapshot => {
    const dir = mkdtempSync(join(tmpdir(), `egresshub-integ-day${day}-`));
    try {
      buildIntegApp({ ...opts, day, outdir: dir }).synth();
      return { plan: integPlan({ ...opts, day }), stacks: readAssembly(dir) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const d = diffApps(snapshot(1), snapshot(2));
  const replaced = (type: string) => d.stacks.flatMap((s) => s.resources).filter((r) => r.type === type && r.impact === 'replace');

  it('replaces what the tenant and the spoke point at: the gateway, the configuration, the endpoint', () => {
    expect(integPlan({ ...opts, day: 2 }).hub.cidr).toBe(DAY2.cidr);
    expect(replaced('AWS::VpcLattice::ResourceGateway')).toHaveLength(1);
    expect(replaced('AWS::VpcLattice::ResourceConfiguration')).toHaveLength(1);
    // The spoke's resource endpoint (the hub's S3 gateway endpoint is new too, with its new VPC).
    expect(replaced('AWS::EC2::VPCEndpoint').filter((r) => r.stack === 'ehinteg-spoke')).toHaveLength(1);
  });

  it('deploys in one `cdk deploy --all`: no consumer left stale, no replacement that keeps its name', () => {
    expect(d.problems).toEqual([]);
    expect(d.stacks.filter((s) => s.status === 'unchanged').map((s) => s.id)).toEqual([]);
  });

  it('proves egress again: day 2 has a new test instance whose signal the deploy waits for', () => {
    const spoke = d.stacks.find((s) => s.id === 'IntegSpoke')!;
    const instances = spoke.resources.filter((r) => r.type === 'AWS::EC2::Instance');
    expect(instances.map((r) => [r.impact, r.path?.split('/').slice(-2, -1)[0]])).toEqual(
      expect.arrayContaining([
        ['add', 'TestInstanceDay2'],
        ['remove', 'TestInstance'],
      ]),
    );
  });
});
