// The diff engine on small hand-written templates: replacements followed across stacks and through
// handed-in parameters, renamed, removed and moved stacks, rolling updates, unknown properties.
import { describe, expect, it } from 'vitest';
import {
  changedPaths,
  diffApps,
  rolloutCommands,
  type AppSnapshot,
  type CfnTemplate,
  type Handoff,
  type StackSnapshot,
} from '../../src/diff';
import { planOf, exampleConfig } from '../support/stack';

const ENV = 'aws://111111111111/ap-northeast-1';
const PLAN = planOf(exampleConfig());

function stack(
  id: string,
  template: CfnTemplate,
  opts: { stackName?: string; env?: string; dependencies?: string[]; paths?: Record<string, string> } = {},
): StackSnapshot {
  const paths = new Map(Object.entries(opts.paths ?? {}));
  for (const logicalId of [...Object.keys(template.Resources ?? {}), ...Object.keys(template.Outputs ?? {})]) {
    if (!paths.has(logicalId)) paths.set(logicalId, `/${id}/${logicalId}`);
  }
  return {
    id,
    stackName: opts.stackName ?? `eh-${id.toLowerCase()}`,
    environment: opts.env ?? ENV,
    dependencies: opts.dependencies ?? [],
    template,
    paths,
  };
}

function app(...stacks: StackSnapshot[]): AppSnapshot {
  return { plan: PLAN, stacks };
}

function hub(subnets: string[], extra: Partial<CfnTemplate> = {}, gatewayName = 'eh-gateway'): StackSnapshot {
  return stack('Hub', {
    Resources: {
      Gateway: { Type: 'AWS::VpcLattice::ResourceGateway', Properties: { Name: gatewayName, VpcIdentifier: 'vpc-1', SubnetIds: subnets } },
      ...extra.Resources,
    },
    Outputs: { GatewayId: { Value: { 'Fn::GetAtt': ['Gateway', 'Id'] } }, ...extra.Outputs },
  });
}

/** A tenant stack; `generation` is the fingerprint tag (and name suffix) a real tenant stack carries. */
function tenants(name = 'eh-tenants-3200', generation?: string): StackSnapshot {
  return stack(
    'Tenants-3200',
    {
      Resources: {
        Rcfg: {
          Type: 'AWS::VpcLattice::ResourceConfiguration',
          Properties: {
            Name: generation ? `eh-a-${generation}` : 'eh-a',
            ...(generation ? { Tags: [{ Key: 'egresshub:producers', Value: generation }] } : {}),
            ResourceConfigurationType: 'SINGLE',
            PortRanges: ['3201'],
            ResourceGatewayId: { 'Fn::GetStackOutput': { StackName: 'eh-hub', Region: 'ap-northeast-1', OutputName: 'GatewayId' } },
          },
        },
      },
      Outputs: { Arn: { Value: { 'Fn::GetAtt': ['Rcfg', 'Arn'] } } },
    },
    { stackName: name, dependencies: ['Hub'], paths: { Arn: '/Tenants-3200/Tenants/a/ResourceConfigurationArn' } },
  );
}

function spoke(arn: unknown, id = 'Spoke-a', env = ENV, generation?: string): StackSnapshot {
  return stack(
    id,
    {
      Parameters: { ResourceConfigurationArn: { Type: 'String' } },
      Resources: {
        Endpoint: {
          Type: 'AWS::EC2::VPCEndpoint',
          Properties: {
            VpcEndpointType: 'Resource',
            VpcId: 'vpc-s',
            ResourceConfigurationArn: arn,
            ...(generation ? { Tags: [{ Key: 'egresshub:producers', Value: generation }] } : {}),
          },
        },
      },
    },
    { env, dependencies: ['Tenants-3200'] },
  );
}

const localArn = { 'Fn::GetStackOutput': { StackName: 'eh-tenants-3200', Region: 'ap-northeast-1', OutputName: 'Arn' } };

describe('diffApps', () => {
  it('reports no changes for identical apps', () => {
    const d = diffApps(app(hub(['s1', 's2']), tenants()), app(hub(['s1', 's2']), tenants()));
    expect(d.summary).toBe('no changes');
    expect(d.stacks.map((s) => s.status)).toEqual(['unchanged', 'unchanged']);
  });

  it('reports a consumer whose template does not change as skipped and stale, not updated', () => {
    const d = diffApps(app(hub(['s1', 's2']), tenants(), spoke(localArn)), app(hub(['s1', 's3']), tenants(), spoke(localArn)));
    expect(d.stacks.map((s) => [s.stackName, s.status])).toEqual([
      ['eh-hub', 'changed'],
      ['eh-tenants-3200', 'unchanged'],
      ['eh-spoke-a', 'unchanged'],
    ]);
    expect(d.stacks[1]!.stale).toEqual(['eh-hub output GatewayId: Gateway is replaced']);
    expect(d.problems.map((p) => [p.kind, p.stack])).toEqual([
      ['fixed-name', 'eh-hub'],
      ['stale-consumer', 'eh-tenants-3200'],
    ]);
    expect(d.problems[1]!.message).toMatch(/cdk deploy skips it and it keeps the old value/);
  });

  it('follows a replaced gateway into the tenant stack and on to a spoke that references the configuration', () => {
    const d = diffApps(
      app(hub(['s1', 's2']), tenants(undefined, 'g1'), spoke(localArn, undefined, undefined, 'h1')),
      app(hub(['s1', 's3'], {}, 'eh-gateway-g2'), tenants(undefined, 'g2'), spoke(localArn, undefined, undefined, 'h2')),
    );
    expect(d.replacedProtected.map((r) => [r.stack, r.logicalId, r.replacedBy])).toEqual([
      ['eh-hub', 'Gateway', ['Name', 'SubnetIds']],
      ['eh-tenants-3200', 'Rcfg', ['ResourceGatewayId']],
      ['eh-spoke-a', 'Endpoint', ['ResourceConfigurationArn']],
    ]);
    expect(d.replacedProtected[1]!.because).toEqual(['eh-hub output GatewayId: Gateway is replaced']);
    expect(d.summary).toBe('REPLACES: ResourceGateway ×1, ResourceConfiguration ×1, VPCEndpoint ×1');
    expect(d.problems).toEqual([]);
  });

  it('fails when a replaced resource keeps its fixed name', () => {
    const d = diffApps(app(hub(['s1', 's2'])), app(hub(['s1', 's3'])));
    expect(d.problems).toEqual([expect.objectContaining({ kind: 'fixed-name', stack: 'eh-hub', logicalId: 'Gateway' })]);
    expect(d.problems[0]!.message).toMatch(/keeps its name Name=eh-gateway: .* name clash; raise hub\.gatewayGeneration by one/);
  });

  it('follows a replaced configuration to a cross-account spoke through its handed-in parameter, with the command that rolls it', () => {
    const handoffs: Handoff[] = [
      { consumerStackId: 'Spoke-a', parameter: 'ResourceConfigurationArn', outputPathSuffix: '/Tenants/a/ResourceConfigurationArn' },
    ];
    const other = 'aws://222222222222/ap-northeast-1';
    const param = { Ref: 'ResourceConfigurationArn' };
    const d = diffApps(
      app(hub(['s1']), tenants(undefined, 'g1'), spoke(param, 'Spoke-a', other)),
      app(hub(['s2'], {}, 'eh-gateway-g2'), tenants(undefined, 'g2'), spoke(param, 'Spoke-a', other)),
      handoffs,
    );
    const endpoint = d.replacedProtected.find((r) => r.logicalId === 'Endpoint');
    expect(endpoint?.because.join()).toMatch(/parameter ResourceConfigurationArn takes eh-tenants-3200 output Arn: Rcfg is replaced/);
    expect(d.rollouts).toEqual([
      expect.objectContaining({
        consumerStackName: 'eh-spoke-a',
        environment: other,
        producerStackName: 'eh-tenants-3200',
        outputName: 'Arn',
      }),
    ]);
    const commands = rolloutCommands(d.rollouts[0]!, 'egresshub.yaml');
    expect(commands[0]).toBe(
      `VALUE=$(aws cloudformation describe-stacks --region ap-northeast-1 --stack-name eh-tenants-3200 --query "Stacks[0].Outputs[?OutputKey=='Arn'].OutputValue" --output text)  # hub account`,
    );
    expect(commands[1]).toBe(
      'npx cdk deploy -c config=egresshub.yaml Spoke-a --parameters "ResourceConfigurationArn=$VALUE"  # account 222222222222, ap-northeast-1',
    );
    // Without the handoff, nothing in the spoke's own template changes.
    const blind = diffApps(
      app(hub(['s1']), tenants(undefined, 'g1'), spoke(param, 'Spoke-a', other)),
      app(hub(['s2'], {}, 'eh-gateway-g2'), tenants(undefined, 'g2'), spoke(param, 'Spoke-a', other)),
    );
    expect(blind.replacedProtected.map((r) => r.logicalId)).toEqual(['Gateway', 'Rcfg']);
    expect(blind.rollouts).toEqual([]);
  });

  it('updates what reads an in-place updated value in place, and replaces nothing', () => {
    const before = tenants();
    const after = tenants();
    (after.template.Resources!.Rcfg!.Properties!.PortRanges as string[])[0] = '3210';
    const d = diffApps(app(hub(['s1']), before, spoke(localArn)), app(hub(['s1']), after, spoke(localArn)));
    expect(d.summary).toBe('nothing users hold is replaced');
    expect(d.stacks.flatMap((s) => s.resources).map((r) => [r.logicalId, r.impact, r.changed])).toEqual([
      ['Rcfg', 'update', ['PortRanges']],
    ]);
  });

  it('shows every resource of a renamed stack as replaced, and a stack that left the app as removed (not deleted)', () => {
    const d = diffApps(app(hub(['s1']), tenants()), app(hub(['s1']), tenants('eh2-tenants-3200')));
    const renamed = d.stacks.find((s) => s.id === 'Tenants-3200')!;
    expect([renamed.status, renamed.previousStackName]).toEqual(['renamed', 'eh-tenants-3200']);
    expect(d.replacedProtected.map((r) => [r.stack, r.logicalId, r.replacedBy])).toEqual([['eh2-tenants-3200', 'Rcfg', ['(new stack)']]]);

    const gone = diffApps(app(hub(['s1']), tenants()), app(hub(['s1'])));
    expect(gone.stacks[1]).toMatchObject({ status: 'removed', stackName: 'eh-tenants-3200' });
    expect(gone.removedProtected[0]!.because.join()).toMatch(/cdk deploy does not delete it/);
    expect(gone.summary).toBe('nothing users hold is replaced; removes: ResourceConfiguration ×1');
  });

  it('shows a resource that moves to another stack as replaced there', () => {
    const moved = stack('Tenants-3250', tenants().template, {
      stackName: 'eh-tenants-3250',
      paths: { Rcfg: '/Tenants-3250/Tenants/a/ResourceConfiguration' },
    });
    const before = stack('Tenants-3200', tenants().template, {
      stackName: 'eh-tenants-3200',
      paths: { Rcfg: '/Tenants-3200/Tenants/a/ResourceConfiguration' },
    });
    const emptied = stack('Tenants-3200', { Resources: { Other: { Type: 'AWS::SNS::Topic' } } }, { stackName: 'eh-tenants-3200' });
    const d = diffApps(app(hub(['s1']), before), app(hub(['s1']), emptied, moved));
    expect(d.replacedProtected.map((r) => [r.stack, r.replacedBy])).toEqual([['eh-tenants-3250', ['(moves stack)']]]);
    expect(d.removedProtected).toEqual([]);
    expect(d.stacks.flatMap((s) => s.resources).find((r) => r.impact === 'remove')?.movedTo).toBe('eh-tenants-3250');
  });

  it('rolls an Auto Scaling group whose launch template gets a new version', () => {
    const fleet = (userData: string): Partial<CfnTemplate> => ({
      Resources: {
        LaunchTemplate: {
          Type: 'AWS::EC2::LaunchTemplate',
          Properties: { LaunchTemplateData: { UserData: userData, InstanceType: 't4g.small' } },
        },
        Group: {
          Type: 'AWS::AutoScaling::AutoScalingGroup',
          Properties: {
            MinSize: '1',
            MaxSize: '1',
            LaunchTemplate: {
              LaunchTemplateId: { Ref: 'LaunchTemplate' },
              Version: { 'Fn::GetAtt': ['LaunchTemplate', 'LatestVersionNumber'] },
            },
          },
          UpdatePolicy: { AutoScalingRollingUpdate: { MaxBatchSize: 1 } },
        },
      },
    });
    const d = diffApps(app(hub(['s1'], fleet('a'))), app(hub(['s1'], fleet('b'))));
    const rows = d.stacks[0]!.resources.map((r) => [r.logicalId, r.impact, r.changed]);
    expect(rows).toEqual([
      ['LaunchTemplate', 'update', ['LaunchTemplateData.UserData']],
      ['Group', 'update', ['LaunchTemplate']],
    ]);
    expect(d.stacks[0]!.resources[1]!.because.join('\n')).toMatch(/UpdatePolicy replaces its instances/);
  });

  it('treats a changed property the registry does not know on a protected resource as a possible replacement', () => {
    const before = hub(['s1']);
    const after = hub(['s1']);
    after.template.Resources!.Gateway!.Properties!.SomeFutureProperty = 'x';
    const d = diffApps(app(before), app(after));
    expect(d.replacedProtected.map((r) => [r.logicalId, r.impact, r.replacedBy])).toEqual([
      ['Gateway', 'may-replace', ['SomeFutureProperty']],
    ]);
    expect(d.summary).toBe('REPLACES: ResourceGateway ×1 (1 may)');
  });

  it('only protects Resource endpoints, not gateway endpoints', () => {
    const s3 = (tables: string[]) =>
      stack('Hub', {
        Resources: {
          S3: {
            Type: 'AWS::EC2::VPCEndpoint',
            Properties: { VpcEndpointType: 'Gateway', VpcId: 'vpc-1', ServiceName: 'x', RouteTableIds: tables },
          },
        },
      });
    const d = diffApps(
      app(s3(['a'])),
      app({
        ...s3(['a']),
        template: {
          Resources: {
            S3: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Gateway', VpcId: 'vpc-2', ServiceName: 'x' } },
          },
        },
      }),
    );
    expect(d.stacks[0]!.resources.map((r) => [r.impact, r.protected])).toEqual([['replace', undefined]]);
    expect(d.replacedProtected).toEqual([]);
  });
});

describe('changedPaths', () => {
  it('names changed properties a few levels deep, stopping at lists and intrinsic functions', () => {
    expect(changedPaths({ A: { B: { C: 1, D: 2 } }, E: [1] }, { A: { B: { C: 1, D: 3 } }, E: [2] })).toEqual(['A.B.D', 'E']);
    expect(changedPaths({ A: { Ref: 'x' } }, { A: { Ref: 'y' } })).toEqual(['A']);
    expect(changedPaths({ A: 1 }, { A: 1 })).toEqual([]);
  });
});
