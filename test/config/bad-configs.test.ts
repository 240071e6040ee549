// Every broken config must fail with exit code 2 and a message that names the field (and its line),
// so that the user can fix it without reading code. Each case edits the valid example in one place.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { CONFIG_CHECKS } from '../../src/config/checks';
import { configSchema } from '../../src/config/schema';
import { runCli } from '../support/cli';

const EXAMPLE = readFileSync('examples/egresshub.yaml', 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'egresshub-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Path = (string | number)[];
interface Case {
  readonly name: string;
  /** Edits applied to the example: set a value (undefined deletes the key). */
  readonly edit?: readonly [Path, unknown][];
  /** Or raw text replacing the whole file. */
  readonly text?: string;
  /** The field path the message must name, and a fragment of the message. */
  readonly field: string;
  readonly says: RegExp;
  /** The named check (src/config/checks.ts) this case breaks, and the only one it may trip; none for a field's own shape. */
  readonly check?: string;
}

const cases: Case[] = [
  { name: 'malformed hub CIDR', edit: [[['hub', 'cidr'], '10.0.0/16']], field: 'hub.cidr', says: /IPv4 CIDR/ },
  { name: 'hub CIDR with host bits set', edit: [[['hub', 'cidr'], '10.0.1.0/16']], field: 'hub.cidr', says: /no host bits/ },
  {
    name: 'hub CIDR too large',
    edit: [[['hub', 'cidr'], '10.0.0.0/8']],
    field: 'hub.cidr',
    says: /\/16 to \/24.*got \/8/,
    check: 'hub-cidr-prefix',
  },
  {
    name: 'hub CIDR in public address space',
    edit: [[['hub', 'cidr'], '8.8.0.0/16']],
    field: 'hub.cidr',
    says: /not private address space.*10\.0\.0\.0\/8, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16, 100\.64\.0\.0\/10/,
    check: 'hub-cidr-public',
  },
  {
    name: 'hub CIDR too small',
    edit: [[['hub', 'cidr'], '10.0.0.0/26']],
    field: 'hub.cidr',
    says: /\/16 to \/24/,
    check: 'hub-cidr-prefix',
  },
  {
    name: 'hub CIDR too small for its AZs',
    edit: [
      [['hub', 'cidr'], '10.0.0.0/24'],
      [
        ['hub', 'availabilityZones'],
        ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
      ],
    ],
    field: 'hub.cidr',
    says: /too small for 3 AZs.*larger block or fewer AZs/,
    check: 'hub-cidr-too-small-for-azs',
  },
  {
    name: 'AZ from another region',
    edit: [[['hub', 'availabilityZones', 1], 'us-east-1a']],
    field: 'hub.availabilityZones[1]',
    says: /not in region ap-northeast-1/,
    check: 'az-outside-region',
  },
  {
    name: 'AZ listed twice',
    edit: [[['hub', 'availabilityZones', 1], 'ap-northeast-1a']],
    field: 'hub.availabilityZones[1]',
    says: /listed twice/,
    check: 'az-twice',
  },
  { name: 'no AZs', edit: [[['hub', 'availabilityZones'], []]], field: 'hub.availabilityZones', says: /at least one availability zone/ },
  { name: 'bad NAT mode', edit: [[['hub', 'natGateways'], 'two']], field: 'hub.natGateways', says: /"one", "per-az"/ },
  ...['sts.ap-northeast-1.amazonaws.com', '203.0.113.10:443', 'sts.ap-northeast-1.amazonaws.com:0', 'localhost:443', 'a.example:65536'].map(
    (target) => ({
      name: `egress check target ${target}`,
      edit: [[['hub', 'egressCheck'], { target }]] as [Path, unknown][],
      field: 'hub.egressCheck.target',
      says: /expected host:port with a DNS name and a port from 1 to 65535, such as sts\.ap-northeast-1\.amazonaws\.com:443/,
    }),
  ),
  { name: 'bad proxy mode', edit: [[['hub', 'proxy', 'mode'], 'ha']], field: 'hub.proxy.mode', says: /"single", "multi-az", "nlb"/ },
  {
    name: 'proxy image that is not an AMI ID',
    edit: [[['hub', 'proxy', 'image'], 'al2023-latest']],
    field: 'hub.proxy.image',
    says: /expected an AMI ID such as ami-0123456789abcdef0, or leave image out/,
  },
  { name: 'bad egress', edit: [[['hub', 'egress'], 'igw']], field: 'hub.egress', says: /"nat", "public"/ },
  {
    name: 'multi-az with one AZ',
    edit: [[['hub', 'availabilityZones'], ['ap-northeast-1a']]],
    field: 'hub.availabilityZones',
    says: /multi-az \(the default\).*at least two availability zones.*mode: single/,
    check: 'multi-az-one-az',
  },
  {
    name: 'NAT gateways with public egress',
    edit: [[['hub', 'egress'], 'public']],
    field: 'hub.natGateways',
    says: /no NAT gateway; remove natGateways/,
    check: 'nat-gateways-with-public-egress',
  },
  {
    name: 'nlb with public egress',
    edit: [
      [['hub', 'egress'], 'public'],
      [['hub', 'natGateways'], undefined],
      [['hub', 'proxy', 'mode'], 'nlb'],
    ],
    field: 'hub.egress',
    says: /no static egress addresses/,
    check: 'nlb-public-egress',
  },
  {
    name: 'scaling outside nlb mode',
    edit: [[['hub', 'proxy', 'scaling'], { max: 4 }]],
    field: 'hub.proxy.scaling',
    says: /applies to mode nlb only/,
    check: 'scaling-outside-nlb',
  },
  {
    name: 'scaling min above max',
    edit: [
      [['hub', 'proxy', 'mode'], 'nlb'],
      [['hub', 'proxy', 'scaling'], { min: 5, max: 3 }],
    ],
    field: 'hub.proxy.scaling.min',
    says: /scaling.min \(5\) is larger than scaling.max \(3\)/,
    check: 'scaling-min-above-max',
  },
  {
    name: 'nlb with more tenants than an NLB has listeners',
    edit: [
      [['hub', 'proxy', 'mode'], 'nlb'],
      [['spokes'], []],
      [['tenants'], Array.from({ length: 51 }, (_, i) => ({ name: `t${i + 1}`, port: 5000 + i, allow: ['example.com'] }))],
    ],
    field: 'hub.proxy.mode',
    says: /at most 50 \(not adjustable\); this config has 51 tenants/,
    check: 'nlb-too-many-listeners',
  },
  {
    // Every proxy is in every tenant's target group: 10 x 51 = 510 targets, above the cross-zone NLB's 500.
    name: 'nlb with more NLB targets (tenants x scaling.max) than the quota',
    edit: [
      [['hub', 'proxy', 'mode'], 'nlb'],
      [['hub', 'proxy', 'scaling'], { max: 51 }],
      [['spokes'], []],
      [['tenants'], Array.from({ length: 10 }, (_, i) => ({ name: `t${i + 1}`, port: 5000 + i, allow: ['example.com'] }))],
    ],
    field: 'hub.proxy.scaling.max',
    says: /10 tenants x scaling\.max 51 = 510 NLB targets, above the 500 .*lower scaling\.max to 50 or less, put fewer tenants on this hub, or use mode multi-az/,
    check: 'nlb-too-many-targets',
  },
  {
    name: 'bad instance type',
    edit: [[['hub', 'proxy', 'instanceType'], 'small']],
    field: 'hub.proxy.instanceType',
    says: /EC2 instance type/,
  },
  { name: 'bad log retention', edit: [[['hub', 'logRetentionDays'], 45]], field: 'hub.logRetentionDays', says: /retention periods/ },
  { name: 'bad region', edit: [[['region'], 'tokyo']], field: 'region', says: /AWS region/ },
  { name: 'account with 11 digits', edit: [[['account'], '11111111111']], field: 'account', says: /12-digit/ },
  { name: 'account as a number', edit: [[['account'], 111111111111]], field: 'account', says: /put IDs in quotes/ },
  { name: 'missing account', edit: [[['account'], undefined]], field: 'account', says: /required/ },
  { name: 'missing hub', edit: [[['hub'], undefined]], field: 'hub', says: /required/ },
  {
    name: 'duplicate tenant names',
    edit: [
      [['tenants', 1, 'name'], 'project-a'],
      [['spokes', 1, 'tenant'], 'project-a'], // else spokes[1] names a tenant that is gone
    ],
    field: 'tenants[1].name',
    says: /already used by tenants\[0\]/,
    check: 'tenant-name-twice',
  },
  {
    name: 'duplicate tenant ports',
    edit: [[['tenants', 1, 'port'], 3201]],
    field: 'tenants[1].port',
    says: /already used by tenants\[0\]/,
    check: 'tenant-port-twice',
  },
  { name: 'port below 1024', edit: [[['tenants', 0, 'port'], 80]], field: 'tenants[0].port', says: /between 1024 and 65535.*got 80/ },
  { name: 'port above 65535', edit: [[['tenants', 0, 'port'], 70000]], field: 'tenants[0].port', says: /between 1024 and 65535/ },
  {
    name: 'reserved port',
    edit: [[['tenants', 0, 'port'], 3128]],
    field: 'tenants[0].port',
    says: /reserved.*pick a port no tenant uses, e\.g\. 3203/,
    check: 'tenant-port-reserved',
  },
  {
    name: 'the nlb health-check port as a tenant port (reserved in every mode)',
    edit: [[['tenants', 0, 'port'], 3129]],
    field: 'tenants[0].port',
    says: /port 3129 is reserved \(the proxies' NLB health-check listener/,
    check: 'tenant-port-reserved',
  },
  { name: 'port as text', edit: [[['tenants', 0, 'port'], 'http']], field: 'tenants[0].port', says: /expected a number/ },
  { name: 'tenant name with capitals', edit: [[['tenants', 0, 'name'], 'ProjectA']], field: 'tenants[0].name', says: /lowercase letters/ },
  { name: 'tenant name with underscore', edit: [[['tenants', 0, 'name'], 'project_a']], field: 'tenants[0].name', says: /DNS labels/ },
  {
    name: 'tenant name with double hyphen',
    edit: [[['tenants', 0, 'name'], 'project--a']],
    field: 'tenants[0].name',
    says: /single hyphens/,
  },
  { name: 'tenant name too long', edit: [[['tenants', 0, 'name'], 'a'.repeat(25)]], field: 'tenants[0].name', says: /2 to 24 characters/ },
  { name: 'allow with a space', edit: [[['tenants', 0, 'allow', 0], 'git hub.com']], field: 'tenants[0].allow[0]', says: /domain name/ },
  {
    name: 'allow with a mid wildcard',
    edit: [[['tenants', 0, 'allow', 0], 'api.*.github.com']],
    field: 'tenants[0].allow[0]',
    says: /wildcard suffix/,
  },
  {
    name: 'allow with an IP literal',
    edit: [[['tenants', 0, 'allow', 0], '203.0.113.7']],
    field: 'tenants[0].allow[0]',
    says: /IP addresses/,
  },
  { name: 'allow a bare word', edit: [[['tenants', 0, 'allow', 0], 'localhost']], field: 'tenants[0].allow[0]', says: /bare words/ },
  {
    name: 'scaling.min far above any fleet (without scaling.max)',
    edit: [
      [['hub', 'proxy', 'mode'], 'nlb'],
      [['hub', 'proxy', 'scaling'], { min: 1_000_000_000 }],
    ],
    field: 'hub.proxy.scaling.min',
    says: /scaling\.min is at most 100 proxies \(as scaling\.max\) \(got 1000000000\)$/,
  },
  {
    name: 'allow an international name (with its ASCII form as the fix)',
    edit: [[['tenants', 0, 'allow', 0], '*.bücher.de']],
    field: 'tenants[0].allow[0]',
    says: /bare words are not allowed; write an international name in its ASCII form: \*\.xn--bcher-kva\.de \(got "\*\.bücher\.de"\)$/,
  },
  { name: 'allow empty list', edit: [[['tenants', 0, 'allow'], []]], field: 'tenants[0].allow', says: /empty allowlist/ },
  { name: 'allow as a wrong word', edit: [[['tenants', 0, 'allow'], 'all']], field: 'tenants[0].allow', says: /"\*"/ },
  {
    name: 'tenant account too short',
    edit: [[['tenants', 0, 'accounts', 0], '2222']],
    field: 'tenants[0].accounts[0]',
    says: /12-digit account ID/,
  },
  {
    name: 'tenant principal not an ARN',
    edit: [[['tenants', 0, 'accounts', 0], 'arn:aws:iam::222222222222:root']],
    field: 'tenants[0].accounts[0]',
    says: /OU ARN/,
  },
  {
    name: 'no connect ports',
    edit: [[['tenants', 0, 'connectPorts'], []]],
    field: 'tenants[0].connectPorts',
    says: /at least one port HTTPS/,
  },
  {
    name: 'connect port 0',
    edit: [[['tenants', 0, 'connectPorts'], [0]]],
    field: 'tenants[0].connectPorts[0]',
    says: /between 1 and 65535/,
  },
  {
    name: 'spoke naming an unknown tenant',
    edit: [[['spokes', 0, 'tenant'], 'project-z']],
    field: 'spokes[0].tenant',
    says: /unknown tenant "project-z".*project-a, project-b/,
    check: 'spoke-tenant-unknown',
  },
  {
    name: 'spoke with one subnet',
    edit: [[['spokes', 0, 'subnetIds'], ['subnet-0a1b2c3d4e5f60001']]],
    field: 'spokes[0].subnetIds',
    says: /at least two AZs/,
  },
  {
    name: 'spoke with a bad subnet ID',
    edit: [[['spokes', 0, 'subnetIds', 1], 'subnet-xyz']],
    field: 'spokes[0].subnetIds[1]',
    says: /subnet ID/,
  },
  { name: 'spoke with a bad VPC ID', edit: [[['spokes', 0, 'vpcId'], 'vpc-123']], field: 'spokes[0].vpcId', says: /VPC ID/ },
  {
    name: 'spoke VPC CIDR of the whole internet',
    edit: [[['spokes', 0, 'vpcCidr'], '0.0.0.0/0']],
    field: 'spokes[0].vpcCidr',
    says: /\/16 to \/28/,
  },
  { name: 'spoke with a bad VPC CIDR', edit: [[['spokes', 0, 'vpcCidr'], '10.0.0.0/33']], field: 'spokes[0].vpcCidr', says: /IPv4 CIDR/ },
  {
    name: 'spoke account not shared with',
    edit: [[['spokes', 0, 'account'], '333333333333']],
    field: 'spokes[0].account',
    says: /not among tenant "project-a"'s accounts/,
    check: 'spoke-account-not-shared',
  },
  {
    name: 'spoke listed twice',
    edit: [
      [
        ['spokes', 1],
        {
          tenant: 'project-a',
          account: '222222222222',
          vpcId: 'vpc-0a1b2c3d4e5f60718',
          vpcCidr: '10.0.0.0/16',
          subnetIds: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
        },
      ],
    ],
    field: 'spokes[1].vpcId',
    says: /already has a spoke/,
    check: 'spoke-vpc-twice',
  },
  {
    name: 'client setup tag key starting with a space',
    edit: [[['spokes', 1, 'clientSetup', 'tag', 'key'], ' proxy']],
    field: 'spokes[1].clientSetup.tag.key',
    says: /tag keys/,
  },
  {
    name: 'client setup NO_PROXY entry with a space',
    edit: [[['spokes', 1, 'clientSetup', 'noProxy'], ['corp example']]],
    field: 'spokes[1].clientSetup.noProxy[0]',
    says: /NO_PROXY entries/,
  },
  { name: 'dns domain that is not a domain', edit: [[['dns', 'domain'], 'internal']], field: 'dns.domain', says: /DNS domain/ },
  {
    name: 'dns hosted zone ID malformed',
    edit: [[['dns', 'verify'], { publicHostedZoneId: 'zone-1' }]],
    field: 'dns.verify.publicHostedZoneId',
    says: /hosted zone ID/,
  },
  { name: 'typo in a top-level key', edit: [[['tenant'], []]], field: 'tenant', says: /unknown key "tenant"; did you mean "tenants"\?/ },
  { name: 'typo in a hub key', edit: [[['hub', 'natGateway'], 'one']], field: 'hub.natGateway', says: /did you mean "natGateways"/ },
  { name: 'typo in a tenant key', edit: [[['tenants', 0, 'alow'], '*']], field: 'tenants[0].alow', says: /did you mean "allow"/ },
  { name: 'typo in a spoke key', edit: [[['spokes', 0, 'subnets'], []]], field: 'spokes[0].subnets', says: /unknown key "subnets"/ },
  { name: 'bad hub name', edit: [[['name'], 'Egress Hub']], field: 'name', says: /prefix of AWS resource names/ },
  { name: 'YAML syntax error', text: 'region: [ap-northeast-1\naccount: "1"\n', field: '', says: /YAML syntax/ },
  { name: 'a list instead of a mapping', text: '- region: x\n', field: '', says: /must be a YAML mapping/ },
  {
    name: 'tenant metrics not a boolean',
    edit: [[['tenants', 0, 'metrics'], 'yes']],
    field: 'tenants[0].metrics',
    says: /expected a boolean/,
  },
  {
    name: 'a raised quota that is not a number',
    edit: [[['hub', 'quotas'], { resourceConfigurationsPerRegion: 0 }]],
    field: 'hub.quotas.resourceConfigurationsPerRegion',
    says: /at least 1/,
  },
  {
    name: 'more tenants than the declared resource-configuration quota',
    edit: [[['hub', 'quotas'], { resourceConfigurationsPerRegion: 1 }]],
    field: 'tenants',
    says: /2 tenants need 2 resource configurations, above the quota "Resource configurations per Region" \(Amazon VPC Lattice\) of 1.*Service Quotas/,
    check: 'resource-configurations-above-quota',
  },
  { name: 'a port of .inf', edit: [[['tenants', 0, 'port'], Infinity]], field: 'tenants[0].port', says: /\(got \.inf\)$/ },
  { name: 'a port of .nan', edit: [[['tenants', 0, 'port'], NaN]], field: 'tenants[0].port', says: /\(got \.nan\)$/ },
  {
    name: 'more Squid workers than the instance type has vCPUs',
    edit: [[['hub', 'proxy', 'workers'], 4]],
    field: 'hub.proxy.workers',
    says: /^.*: 4 Squid workers on t4g\.small \(2 vCPUs\) would share cores: use at most 2, or a larger instance type \(got 4\)$/,
    check: 'workers-above-vcpus',
  },
  {
    name: 'a bandwidth ceiling with fair sharing turned off',
    edit: [
      [['hub', 'proxy', 'lineRateMbps'], 0],
      [['hub', 'tenantLimits'], { bandwidthMbps: 10 }],
    ],
    field: 'hub.tenantLimits.bandwidthMbps',
    says: /enforced by the fair-share tree, which hub\.proxy\.lineRateMbps: 0 turns off/,
    check: 'bandwidth-ceiling-without-fair-share',
  },
  {
    name: 'more tenants with metrics than one metric filter pattern holds',
    edit: [
      [['spokes'], []],
      [['tenants'], Array.from({ length: 21 }, (_, i) => ({ name: `t${i + 1}`, port: 5000 + i, allow: ['example.com'], metrics: true }))],
    ],
    field: 'tenants[20].metrics',
    says: /21 tenants set metrics: true; at most 20 may/,
    check: 'too-many-metric-tenants',
  },
  {
    name: 'a connect port both TLS and raw',
    edit: [
      [
        ['tenants', 0, 'connectPorts'],
        [443, { port: 443, tls: false }],
      ],
    ],
    field: 'tenants[0].connectPorts[1]',
    says: /port 443 is listed as a TLS port \(checked by SNI\) and as a raw tunnel/,
    check: 'port-both-tls-and-raw',
  },
  {
    name: 'a spoke of a named tenant when no tenants are configured',
    edit: [
      [['tenants'], undefined],
      [['spokes', 1], undefined],
    ],
    field: 'spokes[0].tenant',
    says: /unknown tenant "project-a": with no tenants configured the only tenant is "shared"/,
    check: 'spoke-tenant-not-shared',
  },
  {
    name: 'a spoke of the shared configuration in another account',
    edit: [
      [['tenants'], undefined],
      [['spokes', 1], undefined],
      [['spokes', 0, 'tenant'], 'shared'],
    ],
    field: 'spokes[0].account',
    says: /the shared configuration is not shared with other accounts; spoke account 222222222222 must be the hub account 111111111111/,
    check: 'spoke-account-not-hub',
  },
  {
    name: 'a spoke without its VPC CIDR',
    edit: [[['spokes', 0, 'vpcCidr'], undefined]],
    field: 'spokes[0].vpcCidr',
    says: /this field is required; add the VPC's CIDR block/,
    check: 'spoke-vpc-cidr-missing',
  },
  {
    name: 'a spoke with both vpcCidr and vpcCidrs',
    edit: [[['spokes', 0, 'vpcCidrs'], ['10.0.0.0/16']]],
    field: 'spokes[0].vpcCidrs',
    says: /give either vpcCidr \(one block\) or vpcCidrs/,
    check: 'spoke-vpc-cidr-and-cidrs',
  },
  {
    name: 'a spoke whose VPC CIDR blocks overlap',
    edit: [
      [['spokes', 0, 'vpcCidr'], undefined],
      [
        ['spokes', 0, 'vpcCidrs'],
        ['10.0.0.0/16', '100.64.0.0/16', '10.0.1.0/24'],
      ],
    ],
    field: 'spokes[0].vpcCidrs[2]',
    says: /10\.0\.1\.0\/24 overlaps vpcCidrs\[0\] \(10\.0\.0\.0\/16\)/,
    check: 'spoke-vpc-cidrs-overlap',
  },
];

function caseText(c: Case): string {
  let text = c.text;
  if (text === undefined) {
    const doc = parseDocument(EXAMPLE);
    for (const [path, value] of c.edit ?? []) {
      if (value === undefined) doc.deleteIn(path);
      else doc.setIn(path, value);
    }
    text = doc.toString();
  }
  return text;
}

function writeCase(c: Case, i: number): string {
  const file = join(dir, `case-${i}.yaml`);
  writeFileSync(file, caseText(c));
  return file;
}

/** The named checks a case trips, by the id each refusal carries (src/config/checks.ts). */
function checksTripped(c: Case): string[] {
  const result = configSchema.safeParse(parse(caseText(c)));
  const ids = (result.error?.issues ?? []).flatMap((issue) =>
    issue.code === 'custom' && typeof issue.params?.check === 'string' ? [issue.params.check] : [],
  );
  return [...new Set(ids)];
}

/** stderr less `warning:` lines: a valid config may still draw warnings (src/config/warnings.ts), never errors. */
const withoutWarnings = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => !l.startsWith('warning: '))
    .join('\n');

describe('bad configs', () => {
  it('has at least 30 broken inputs', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it('accepts the unedited example (the cases below break only what they name)', async () => {
    const file = join(dir, 'example.yaml');
    writeFileSync(file, EXAMPLE);
    const r = await runCli('validate', '--config', file);
    expect(withoutWarnings(r.stderr)).toBe('');
    expect(r.code).toBe(0);
  });

  it('warns, without failing, when a multi-proxy fleet sits behind natGateways: one, and not with regional', async () => {
    const one = join(dir, 'nat-one.yaml');
    writeFileSync(one, EXAMPLE);
    const r = await runCli('validate', '--config', one, '--json');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { warnings: string[] }).warnings).toEqual([
      expect.stringMatching(
        /^hub\.natGateways: one puts the egress of every proxy of the multi-az fleet behind one NAT gateway in ap-northeast-1a: .*set natGateways: regional/,
      ),
    ]);
    const regional = join(dir, 'nat-regional.yaml');
    writeFileSync(regional, EXAMPLE.replace(/natGateways: one\b/, 'natGateways: regional'));
    const q = await runCli('validate', '--config', regional);
    expect([q.code, q.stderr]).toEqual([0, '']);
  });

  it.each(cases.map((c, i) => [c.name, c, i] as const))('fails when %s', async (_name, c, i) => {
    const file = writeCase(c, i);
    const r = await runCli('validate', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    // One line per problem: "<file>:<line>:<col>: <field>: <message>"; no stack trace without --debug.
    const line = r.stderr.split('\n').find((l) => l.includes(`${file}:`) && (c.field === '' || l.includes(` ${c.field}: `)));
    expect(line, r.stderr).toBeDefined();
    expect(line).toMatch(c.says);
    expect(line).toMatch(new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+:\\d+: `));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('named config checks, one case each', () => {
  it.each(CONFIG_CHECKS.map((check) => [check.id]))('%s has a case that breaks it', (id) => {
    expect(cases.filter((c) => c.check === id).map((c) => c.name)).not.toEqual([]);
  });

  it('names only checks that exist, each once in the table', () => {
    const ids = CONFIG_CHECKS.map((check) => check.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(cases.flatMap((c) => (c.check && !ids.includes(c.check) ? [c.name] : []))).toEqual([]);
  });

  // A case that breaks a field's own shape may trip a check as well (a tenant renamed leaves its spoke behind);
  // a case that names a check must trip that one only, so each check is proven on its own.
  it.each(cases.filter((c) => c.check !== undefined).map((c) => [c.name, c] as const))('%s trips exactly its check', (_name, c) => {
    expect(checksTripped(c)).toEqual([c.check]);
  });

  it('reports a group of checks item by item, in the order of the file', () => {
    const doc = parseDocument(EXAMPLE);
    doc.setIn(['tenants', 0, 'port'], 3128); // reserved
    doc.setIn(['tenants', 1, 'name'], 'project-a'); // twice
    doc.setIn(['tenants', 1, 'port'], 3128); // twice and reserved
    const result = configSchema.safeParse(parse(doc.toString()));
    expect(result.error?.issues.map((i) => [i.path.join('.'), (i as { params?: { check?: string } }).params?.check])).toEqual([
      ['tenants.0.port', 'tenant-port-reserved'],
      ['tenants.1.name', 'tenant-name-twice'],
      ['tenants.1.port', 'tenant-port-twice'],
      ['tenants.1.port', 'tenant-port-reserved'],
      ['spokes.1.tenant', 'spoke-tenant-unknown'],
    ]);
  });
});

describe('YAML-level mistakes', () => {
  const example = EXAMPLE.split('\n');
  const at = (needle: string) => example.findIndex((l) => l.includes(needle)) + 1;

  it('fails when one syntax error would cascade: one problem, at its line, nothing that follows from it', async () => {
    // An unindented key inside a tenant derails the parser for the rest of the file.
    const line = at('- name: project-b');
    const text = example.map((l, i) => (i + 1 === line ? `${l}\n   port: x: y` : l)).join('\n');
    const file = join(dir, 'cascade.yaml');
    writeFileSync(file, text);
    const r = await runCli('validate', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: invalid config\n/);
    const problems = r.stderr.split('\n').filter((l) => l.startsWith('  '));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`cascade\\.yaml:${line + 1}:\\d+: \\(top level\\): YAML syntax: .*near "port: x: y"`));
  });

  it('fails when a key is duplicated: names the key and both lines', async () => {
    const line = at('cidr: 10.0.0.0/16');
    const text = example.map((l, i) => (i + 1 === line ? `${l}\n  cidr: 10.1.0.0/16` : l)).join('\n');
    const file = join(dir, 'dup.yaml');
    writeFileSync(file, text);
    const r = await runCli('validate', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `dup.yaml:${line + 1}:3: hub.cidr: key "cidr" appears twice in the same mapping (lines ${line} and ${line + 1})`,
    );
  });

  it('accepts an anchor-heavy config of the size the product supports', async () => {
    // 1,000 tenants sharing one allowlist and one account list: 1,998 aliases, far above yaml's default of 100.
    const lines = [
      'region: ap-northeast-1',
      "account: '111111111111'",
      'hub: { availabilityZones: [ap-northeast-1a, ap-northeast-1c] }',
      'tenants:',
    ];
    for (let i = 0; i < 1000; i++) {
      const first = i === 0;
      lines.push(
        `  - name: t${i}`,
        `    port: ${5001 + i}`,
        first ? '    allow: &allow [registry.npmjs.org, "*.github.com"]' : '    allow: *allow',
        first ? "    accounts: &acct ['222222222222']" : '    accounts: *acct',
      );
    }
    const file = join(dir, 'anchors.yaml');
    writeFileSync(file, lines.join('\n'));
    const r = await runCli('validate', '--config', file, '--json');
    expect(withoutWarnings(r.stderr)).toBe('');
    expect(r.code).toBe(0);
  });

  it('fails when aliases expand beyond the bound, saying what to change', async () => {
    const file = join(dir, 'alias-bomb.yaml');
    const lines = ['region: ap-northeast-1', 'a0: &a0 [x]'];
    for (let i = 1; i <= 30; i++) lines.push(`a${i}: &a${i} [*a${i - 1}, *a${i - 1}]`);
    writeFileSync(file, lines.join('\n'));
    const r = await runCli('validate', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expands YAML aliases \(\*name\) more than 20000 times; share fewer blocks/);
    expect(r.stderr).not.toMatch(/resource exhaustion/);
  });

  it.each([
    ['CR-only line endings (old Mac editors)', () => EXAMPLE.replaceAll('\n', '\r')],
    [
      'YAML merge keys sharing a tenant block',
      () =>
        EXAMPLE.replace(
          "  - name: project-b\n    accounts: ['111111111111'] # same account as the hub: no RAM share needed\n    port: 3202\n    allow: '*' # any public destination (private/metadata addresses stay blocked)",
          "  - &b\n    name: project-b\n    accounts: ['111111111111']\n    port: 3202\n    allow: '*'\n  - <<: *b\n    name: project-c\n    port: 3203",
        ),
    ],
  ])('accepts %s', async (_name, text) => {
    const file = join(dir, 'accepted.yaml');
    const body = text();
    expect(body).not.toBe(EXAMPLE);
    writeFileSync(file, body);
    const r = await runCli('--json', 'validate', '--config', file);
    expect(withoutWarnings(r.stderr)).toBe('');
    const tenants = (JSON.parse(r.stdout) as { plan: { tenants: { name: string; port: number }[] } }).plan.tenants;
    expect(tenants.length).toBeGreaterThanOrEqual(2);
    if (body.includes('<<')) expect(tenants.map((t) => [t.name, t.port]).at(-1)).toEqual(['project-c', 3203]);
  });

  it.each([
    ['UTF-16 LE with a byte-order mark', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(EXAMPLE, 'utf16le')])],
    ['UTF-16 BE with a byte-order mark', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(EXAMPLE, 'utf16le').swap16()])],
  ])('fails when the file is %s, saying to save it as UTF-8', async (_name, bytes) => {
    const file = join(dir, 'utf16.yaml');
    writeFileSync(file, bytes);
    const r = await runCli('validate', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `error: cannot read config ${file}: it is UTF-16 text; save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8 ${file} > ${file}.utf8)`,
    );
  });

  it('fails on 50,000 bad allow entries with the first 20 listed and the rest counted', async () => {
    const entries = Array.from({ length: 50_000 }, (_, i) => `'bad${i}'`).join(', ');
    const file = join(dir, 'many-bad.yaml');
    writeFileSync(file, EXAMPLE.replace("['*.github.com', 'registry.npmjs.org']", `[${entries}]`));
    const r = await runCli('validate', '--config', file);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('error: invalid config: 50000 problems');
    expect(lines).toHaveLength(22);
    expect(lines[20]).toContain('tenants[0].allow[19]: expected a domain name');
    expect(lines[21]).toBe('  … and 49,980 more (the first 20 are listed; fix those and validate again)');
  });
});
