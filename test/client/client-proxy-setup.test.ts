// ClientProxySetup: the SSM document runs proxy-setup.sh byte for byte, with validated parameters, and
// the State Manager association targets the chosen tag with the tenant's values.
import { readFileSync } from 'node:fs';
import { CfnParameter, Fn } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ClientProxySetup, type ClientProxySetupProps } from '../../src/client/client-proxy-setup';
import { SETUP_SCRIPT_FILE } from '../../src/client/setup-script';
import { validateTemplate } from '../support/cfn-registry';
import { testApp, testStack } from '../support/stack';

const PROPS: ClientProxySetupProps = {
  proxyUrl: 'http://project-a.egress.internal:3201',
  noProxy: ['169.254.169.254', 'localhost', '.internal', '10.0.0.0/16'],
  targetTag: { key: 'egresshub:proxy', value: 'project-a' },
};

function synth(props: Partial<ClientProxySetupProps> = {}) {
  const app = testApp();
  const stack = testStack(app, 'Spoke');
  new ClientProxySetup(stack, 'ProxySetup', { ...PROPS, ...props });
  return { app, template: Template.fromStack(stack) };
}

interface CommandDocument {
  schemaVersion: string;
  parameters: Record<string, { allowedPattern?: string; allowedValues?: string[]; default?: string }>;
  mainSteps: { action: string; inputs: { runCommand: string[] } }[];
}

function documentContent(template: Template): CommandDocument {
  const docs = Object.values(template.findResources('AWS::SSM::Document'));
  expect(docs).toHaveLength(1);
  return (docs[0] as { Properties: { Content: CommandDocument } }).Properties.Content;
}

describe('ClientProxySetup', () => {
  it('creates a schema 2.2 Command document running the setup script with ProxyUrl, NoProxy and Action', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::SSM::Document', {
      DocumentType: 'Command',
      Content: Match.objectLike({
        schemaVersion: '2.2',
        parameters: {
          ProxyUrl: Match.objectLike({ type: 'String', default: '' }),
          NoProxy: Match.objectLike({ type: 'String' }),
          Action: Match.objectLike({ type: 'String', default: 'apply', allowedValues: ['apply', 'remove'] }),
        },
        mainSteps: [Match.objectLike({ action: 'aws:runShellScript', precondition: { StringEquals: ['platformType', 'Linux'] } })],
      }),
    });
  });

  it('embeds the script file byte for byte after the parameter lines', () => {
    const run = documentContent(synth().template).mainSteps[0]!.inputs.runCommand;
    expect(run.slice(0, ClientProxySetup.PREAMBLE.length)).toEqual([
      "EGRESSHUB_PROXY_URL='{{ ProxyUrl }}'",
      "EGRESSHUB_NO_PROXY='{{ NoProxy }}'",
      "EGRESSHUB_ACTION='{{ Action }}'",
    ]);
    expect(`${run.slice(ClientProxySetup.PREAMBLE.length).join('\n')}\n`).toBe(readFileSync(SETUP_SCRIPT_FILE, 'utf8'));
  });

  it("rejects, in the document's own patterns, values that could escape the quotes", () => {
    const { parameters } = documentContent(synth().template);
    const url = new RegExp(parameters.ProxyUrl!.allowedPattern!);
    const noProxy = new RegExp(parameters.NoProxy!.allowedPattern!);
    expect(url.test('http://project-a.egress.internal:3201')).toBe(true);
    expect(url.test('')).toBe(true);
    for (const bad of ["http://a:1'; reboot; '", 'http://a:1 x', 'http://$(id):1', 'http://a:1\nreboot']) expect(url.test(bad)).toBe(false);
    expect(noProxy.test('169.254.169.254,fd00:ec2::254,.internal,10.0.0.0/16,*.corp')).toBe(true);
    for (const bad of ["a'b", 'a b', 'a;b', '$(id)', 'a\nb']) expect(noProxy.test(bad)).toBe(false);
  });

  it("associates the document with instances carrying the tag, passing the tenant's values", () => {
    const { template } = synth({ associationName: 'egresshub-project-a-proxy' });
    template.resourceCountIs('AWS::SSM::Association', 1);
    template.hasResourceProperties('AWS::SSM::Association', {
      Name: { Ref: Match.stringLikeRegexp('^ProxySetupDocument') },
      AssociationName: 'egresshub-project-a-proxy',
      Targets: [{ Key: 'tag:egresshub:proxy', Values: ['project-a'] }],
      Parameters: {
        ProxyUrl: ['http://project-a.egress.internal:3201'],
        NoProxy: ['169.254.169.254,localhost,.internal,10.0.0.0/16'],
        Action: ['apply'],
      },
      ScheduleExpression: ClientProxySetup.DEFAULT_SCHEDULE,
    });
  });

  it('passes deploy-time values (a stack parameter, an import) through for the document to check', () => {
    const app = testApp();
    const stack = testStack(app, 'Tokens');
    const url = new CfnParameter(stack, 'ProxyUrl', { type: 'String' });
    new ClientProxySetup(stack, 'ProxySetup', {
      ...PROPS,
      proxyUrl: url.valueAsString,
      noProxy: ['169.254.169.254', Fn.importValue('spoke-vpc-cidr')],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SSM::Association', {
      Parameters: {
        ProxyUrl: [{ Ref: 'ProxyUrl' }],
        NoProxy: [{ 'Fn::Join': ['', ['169.254.169.254,', { 'Fn::ImportValue': 'spoke-vpc-cidr' }]] }],
        Action: ['apply'],
      },
    });
  });

  it('keeps its logical IDs (tenants deploy it into their accounts: a new ID replaces the document and association)', () => {
    expect(Object.keys(synth().template.toJSON().Resources as object).sort()).toEqual([
      'ProxySetupAssociation33076679',
      'ProxySetupDocument7F6D4E6D',
    ]);
  });

  it('runs once a day at MEDIUM compliance severity, with exactly these association properties', () => {
    const [association] = Object.values(synth().template.findResources('AWS::SSM::Association')) as [{ Properties: unknown }];
    expect(association.Properties).toEqual({
      ComplianceSeverity: 'MEDIUM',
      Name: { Ref: 'ProxySetupDocument7F6D4E6D' },
      Parameters: {
        Action: ['apply'],
        NoProxy: ['169.254.169.254,localhost,.internal,10.0.0.0/16'],
        ProxyUrl: ['http://project-a.egress.internal:3201'],
      },
      ScheduleExpression: 'rate(1 day)',
      Targets: [{ Key: 'tag:egresshub:proxy', Values: ['project-a'] }],
    });
  });

  it('describes the document and each parameter for whoever runs it by hand (console, aws ssm send-command)', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::SSM::Document', { DocumentFormat: 'JSON', DocumentType: 'Command' });
    const content = documentContent(template) as CommandDocument & { description: string };
    expect(content.description).toBe(
      'egresshub: point Amazon Linux 2023 / Ubuntu hosts at the tenant egress proxy (Action=apply), or undo it (Action=remove).',
    );
    // One step, on Linux hosts only, stopped after 300 seconds.
    expect({ ...content.mainSteps[0]!, inputs: { ...content.mainSteps[0]!.inputs, runCommand: '<the script>' } }).toEqual({
      action: 'aws:runShellScript',
      name: 'egresshubProxySetup',
      precondition: { StringEquals: ['platformType', 'Linux'] },
      inputs: { runCommand: '<the script>', timeoutSeconds: '300' },
    });
    expect(content.parameters).toEqual({
      Action: { type: 'String', allowedValues: ['apply', 'remove'], default: 'apply', description: 'apply or remove' },
      NoProxy: {
        type: 'String',
        allowedPattern: '^[A-Za-z0-9.,:/*_-]*$',
        default: '',
        description: 'Comma-separated NO_PROXY list, as egresshub client-env prints it.',
      },
      ProxyUrl: {
        type: 'String',
        allowedPattern: '^(|https?://[A-Za-z0-9.-]+:[0-9]{1,5}/?)$',
        default: '',
        description: 'Proxy URL, e.g. http://project-a.egress.internal:3201 (not needed for remove).',
      },
    });
  });

  it('validates against the CloudFormation registry data', () => {
    expect(
      validateTemplate(
        synth({ associationName: 'egresshub-project-a-proxy', documentName: 'egresshub-project-a-proxy-setup' }).template.toJSON(),
      ),
    ).toEqual([]);
  });

  it('has no cdk-nag AwsSolutions findings', () => {
    const { app } = synth();
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });

  it('fails when the proxy URL is not a proxy URL', () => {
    expect(() => synth({ proxyUrl: 'project-a.egress.internal' })).toThrow(
      /ClientProxySetup Spoke\/ProxySetup: proxy URL must look like http:\/\/project-a\.egress\.internal:3201 \(got "project-a\.egress\.internal"\)/,
    );
  });

  it('fails when a NO_PROXY entry has a space', () => {
    expect(() => synth({ noProxy: ['localhost', 'my host'] })).toThrow(/NO_PROXY may hold only names.*\(got "localhost,my host"\)/);
  });

  it('fails when the target tag key is empty', () => {
    expect(() => synth({ targetTag: { key: '', value: 'x' } })).toThrow(
      /targetTag\.key must be 1–128 characters, not starting with a space \(got ""\)/,
    );
  });

  it('fails when the document name would be refused by CloudFormation', () => {
    expect(() => synth({ documentName: 'my doc' })).toThrow(
      /ClientProxySetup Spoke\/ProxySetup: documentName must be 3–128 letters, digits, "_", "-" or "." \(got "my doc"\)/,
    );
  });
});
