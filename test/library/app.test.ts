// A platform team's CDK app builds the system of test/fixtures/two-tenants.yaml from code alone (typed props,
// its own stacks) and gets exactly the templates the YAML path (egresshub synth) writes for it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile } from '../../src/config';
import { cdkJsonContext, EgressHub, EgressTenants, synthesize } from '../../src';
import { readmeApp, RECORDED_CONTEXT, ROOT, runCdkApp, synthMessages } from './readme-app';
import { TWO_TENANTS } from '../fixtures/two-tenants';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), 'egresshub-lib-'));
  dirs.push(d);
  return d;
};

/** The templates egresshub synth writes for test/fixtures/two-tenants.yaml, by file name. */
export function yamlTemplates(outdir: string): Map<string, unknown> {
  const plan = buildPlan(loadConfigFile(join(__dirname, '..', 'fixtures', 'two-tenants.yaml')));
  return new Map(
    synthesize(plan, outdir).stacks.map((s) => [basename(s.file, '.template.json'), JSON.parse(readFileSync(s.file, 'utf8'))]),
  );
}

/** Templates equal but for the stack description, which the CLI's stacks set and a user's app need not. */
export function expectSameTemplates(app: Map<string, unknown>, yaml: Map<string, unknown>): void {
  expect([...app.keys()].sort()).toEqual([...yaml.keys()].sort());
  for (const [name, template] of yaml) {
    const { Description, ...rest } = template as { Description?: string };
    expect(Description).toMatch(/^egresshub /);
    expect({ stack: name, ...(app.get(name) as object) }).toEqual({ stack: name, ...rest });
  }
}

describe('the constructs, used from code', () => {
  it("build, in README's example app, the templates egresshub synth writes for the same system in YAML", () => {
    const dir = scratch();
    const file = join(dir, 'app.ts');
    writeFileSync(file, readmeApp(join(ROOT, 'src', 'index.ts')));
    const fromProps = runCdkApp(
      [process.execPath, join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), file],
      ROOT,
      join(dir, 'out'),
      cdkJsonContext(),
      { NODE_PATH: join(ROOT, 'node_modules') },
    );
    expectSameTemplates(fromProps, yamlTemplates(scratch()));
  });

  it("read each other's values weakly in a fresh App with none of egresshub's cdk.json context", () => {
    const dir = scratch();
    const file = join(dir, 'app.ts');
    writeFileSync(file, readmeApp(join(ROOT, 'src', 'index.ts')));
    const out = join(dir, 'out');
    // Only what `cdk synth` records for the account (AZs, the image): no feature flag at all.
    const templates = runCdkApp(
      [process.execPath, join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), file],
      ROOT,
      out,
      {},
      {
        NODE_PATH: join(ROOT, 'node_modules'),
      },
    );
    const text = [...templates.values()].map((t) => JSON.stringify(t));
    expect(text.filter((t) => t.includes('Fn::ImportValue'))).toEqual([]);
    // The export an earlier release's strong reference imported stays (an app upgrading deploys the hub first);
    // nothing imports it.
    expect(Object.keys((templates.get('Hub') as { Outputs: object }).Outputs).filter((k) => k.startsWith('Export'))).toEqual([
      'ExportsOutputFnGetAttHubResourceGatewayFF17F882IdFF851ACA',
    ]);
    // The tenants stack reads the gateway and the failover name, the spoke its configuration's ARN.
    expect(JSON.stringify(templates.get('Tenants-8000')).match(/Fn::GetStackOutput/g)).toHaveLength(2);
    expect(JSON.stringify(templates.get('Spoke-project-a-vpc-0a0a0a0a0a0a0a0a0')).match(/Fn::GetStackOutput/g)).toHaveLength(1);
    expect(synthMessages(out).filter((m) => /cross-stack|ImportValue|strong/i.test(m))).toEqual([]);
  });

  it('refuse a hub stack in another account or region than the config', () => {
    const app = new App({ context: { ...cdkJsonContext(), ...RECORDED_CONTEXT } });
    const stack = new Stack(app, 'Elsewhere', { env: { account: '111111111111', region: 'eu-west-1' } });
    expect(() => new EgressHub(stack, 'Hub', { config: TWO_TENANTS })).toThrow(
      "EgressHub: stack Elsewhere is in region eu-west-1 (the config says ap-northeast-1); give the stack env { account: '111111111111', region: 'ap-northeast-1' }, or change the config's account and region",
    );
  });

  it('name the published tenants when asked for another', () => {
    const app = new App({ context: { ...cdkJsonContext(), ...RECORDED_CONTEXT } });
    const env = { account: '111111111111', region: 'ap-northeast-1' };
    const hub = new EgressHub(new Stack(app, 'H', { env }), 'Hub', { config: TWO_TENANTS });
    const tenants = new EgressTenants(new Stack(app, 'T', { env }), 'Tenants', { hub, tenants: ['project-b'] });
    expect([...tenants.endpoints.keys()]).toEqual(['project-b']);
    expect(() => tenants.endpoint('project-a')).toThrow('unknown tenant "project-a"; tenants in this config: project-b');
  });
});
