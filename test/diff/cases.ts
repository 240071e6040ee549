// The config changes `egresshub diff` is tested on, with what each must replace among the resources
// users hold. config-changes.test.ts checks every case against a real diff of two synthesized apps, and
// docs.test.ts checks that docs/operations.md shows exactly this table (renderCasesTable), so the docs
// say what the tests prove.

/** Protected resources replaced (or removed), by CloudFormation type: exact counts. */
export type TypeCounts = Readonly<Record<string, number>>;

export interface DiffCase {
  /** Test name and first column of the docs table. */
  readonly change: string;
  /** Which test file runs it (two files, so vitest synthesizes them in parallel). */
  readonly part: 'tenants' | 'hub';
  /** The config the change starts from (a variant of examples/egresshub.yaml). @default the example as is */
  readonly from?: (config: Config) => void;
  /** The change itself, applied to a copy of the starting config. */
  readonly edit: (config: Config) => void;
  /** Exactly the protected resources replaced (replace or may-replace). */
  readonly replaces: TypeCounts;
  /** Exactly the protected resources removed without a successor. @default none */
  readonly removes?: TypeCounts;
  /** Why the replacements are demanded by the change (docs), or what else happens. */
  readonly note: string;
  /** Set while the behaviour this case checks is not built yet: the missing piece (the case is a todo). */
  readonly pending?: string;
}

/** The parts of examples/egresshub.yaml (as parsed YAML) that cases edit, the way a user edits the file. */
export interface Config {
  name: string;
  hub: { cidr: string; availabilityZones: string[]; egress?: string; natGateways?: string; proxy: { mode: string; instanceType?: string } };
  dns: { domain: string };
  tenants: { name: string; accounts: string[]; port: number; allow: string[] | string }[];
  spokes: Record<string, unknown>[];
}

export const CASES: readonly DiffCase[] = [
  {
    part: 'tenants',
    change: 'add a domain to a tenant’s `allow`',
    edit: (c) => (c.tenants[0]!.allow as string[]).push('pypi.org'),
    replaces: {},
    note: 'only the policy: its S3 object, the SSM parameter naming it and the State Manager association that applies it with `squid -k reconfigure`; the launch template and the instances stay (tested)',
  },
  {
    part: 'tenants',
    change: 'add a tenant',
    edit: (c) => c.tenants.push({ name: 'project-c', accounts: ['333333333333'], port: 3203, allow: ['*.example.com'] }),
    replaces: {},
    note: 'its resource configuration and RAM share are added; the listener and gateway security-group rules for the widened port range are created before the old ones are deleted',
  },
  {
    part: 'tenants',
    change: 'add a spoke',
    edit: (c) =>
      c.spokes.push({
        tenant: 'project-a',
        account: '222222222222',
        vpcId: 'vpc-0c1d2e3f4a5b60720',
        vpcCidr: '10.0.0.0/16',
        subnetIds: ['subnet-0c1d2e3f4a5b60001', 'subnet-0c1d2e3f4a5b60002'],
      }),
    replaces: {},
    note: 'a new spoke stack',
  },
  {
    part: 'tenants',
    change: 'add an account to a tenant’s `accounts`',
    edit: (c) => c.tenants[0]!.accounts.push('333333333333'),
    replaces: {},
    note: 'the RAM share’s principals are updated in place',
  },
  {
    part: 'hub',
    change: 'change `hub.proxy.instanceType`',
    edit: (c) => (c.hub.proxy.instanceType = 't4g.medium'),
    replaces: {},
    note: 'the proxies’ launch template gets a new version; the Auto Scaling groups replace their instances',
  },
  {
    part: 'hub',
    change: 'change `hub.natGateways` from `one` to `per-az`',
    edit: (c) => (c.hub.natGateways = 'per-az'),
    replaces: {},
    note: 'a NAT gateway and its Elastic IP are added (a new egress IP for partners to allowlist); private routes are updated',
  },
  {
    part: 'tenants',
    change: 'change a tenant’s `port` within its block of 50',
    edit: (c) => (c.tenants[0]!.port = 3210),
    replaces: {},
    note: 'the configuration’s port and the endpoint’s security groups are updated in place (the spoke’s security group is replaced: its description names the port), but every proxy URL changes: never change a port once spokes use it',
  },
  {
    part: 'tenants',
    change: 'change a tenant’s `port` to another block of 50',
    edit: (c) => (c.tenants[0]!.port = 3260),
    replaces: { 'AWS::VpcLattice::ResourceConfiguration': 1, 'AWS::RAM::ResourceShare': 1, 'AWS::EC2::VPCEndpoint': 1 },
    note: 'the tenant moves to another tenant stack, so its configuration and share are new resources',
  },
  {
    part: 'tenants',
    change: 'remove a tenant (and its spoke)',
    edit: (c) => {
      c.tenants.splice(1, 1);
      c.spokes.splice(1, 1);
    },
    replaces: {},
    removes: { 'AWS::VpcLattice::ResourceConfiguration': 1, 'AWS::EC2::VPCEndpoint': 1 },
    note: 'its configuration goes with `cdk deploy`; its spoke stack leaves the app, and `cdk deploy` does not delete a stack: delete it by hand',
  },
  {
    part: 'tenants',
    change: 'change `dns.domain`',
    edit: (c) => (c.dns.domain = 'proxy.internal'),
    replaces: { 'AWS::VpcLattice::ResourceConfiguration': 2, 'AWS::EC2::VPCEndpoint': 2 },
    note: 'demanded: a configuration’s custom domain name is fixed at creation, and each endpoint follows its configuration’s new ARN',
  },
  {
    part: 'hub',
    change: 'add an availability zone to `hub.availabilityZones`',
    edit: (c) => c.hub.availabilityZones.push('ap-northeast-1d'),
    replaces: {
      'AWS::EC2::Subnet': 4,
      'AWS::EC2::NetworkInterface': 2,
      'AWS::VpcLattice::ResourceGateway': 1,
      'AWS::VpcLattice::ResourceConfiguration': 2,
      'AWS::EC2::VPCEndpoint': 2,
    },
    note: 'the hub CIDR is split evenly over the AZs, so every subnet’s CIDR changes, and the gateway (its subnets are fixed) with every configuration and endpoint follows: choose the AZs before spokes use the hub',
  },
  {
    part: 'hub',
    change: 'change `hub.cidr`',
    edit: (c) => (c.hub.cidr = '10.1.0.0/16'),
    replaces: {
      'AWS::EC2::VPC': 1,
      'AWS::EC2::Subnet': 4,
      'AWS::EC2::NetworkInterface': 2,
      'AWS::VpcLattice::ResourceGateway': 1,
      'AWS::VpcLattice::ResourceConfiguration': 2,
      'AWS::EC2::VPCEndpoint': 2,
    },
    note: 'demanded: a VPC’s CIDR is fixed, and everything in the VPC follows it (the NAT gateways’ Elastic IPs are kept)',
  },
  {
    part: 'tenants',
    change: 'change `name`',
    edit: (c) => (c.name = 'egress2'),
    replaces: {
      'AWS::EC2::VPC': 1,
      'AWS::EC2::Subnet': 4,
      'AWS::EC2::EIP': 1,
      'AWS::EC2::NetworkInterface': 2,
      'AWS::VpcLattice::ResourceGateway': 1,
      'AWS::VpcLattice::ResourceConfiguration': 2,
      'AWS::RAM::ResourceShare': 1,
      'AWS::EC2::VPCEndpoint': 2,
    },
    note: 'demanded: every stack name changes, so every stack is new; the old stacks keep running until deleted',
  },
  {
    part: 'hub',
    change: 'change `hub.proxy.mode` from `multi-az` to `single`',
    edit: (c) => (c.hub.proxy.mode = 'single'),
    replaces: {},
    removes: { 'AWS::EC2::NetworkInterface': 1 },
    note: 'the second AZ’s proxy, its fixed ENI and the failover name go; the configurations’ target (failover name → first proxy’s ENI IP) is updated in place',
  },
  {
    part: 'hub',
    change: 'change `hub.proxy.mode` from `single` to `multi-az`',
    from: (c) => (c.hub.proxy.mode = 'single'),
    edit: (c) => (c.hub.proxy.mode = 'multi-az'),
    replaces: {},
    note: 'a proxy and fixed ENI per AZ and the failover name are added; the configurations’ target is updated in place',
  },
  {
    part: 'hub',
    change: 'change `hub.proxy.mode` from `multi-az` to `nlb`',
    edit: (c) => (c.hub.proxy.mode = 'nlb'),
    replaces: {},
    removes: { 'AWS::EC2::NetworkInterface': 2 },
    note: 'the fixed proxies and their ENIs go, an NLB and a scaling group come; the configurations’ target (the NLB’s name) is updated in place',
  },
  {
    part: 'hub',
    change: 'change `hub.proxy.mode` from `nlb` to `multi-az`',
    from: (c) => (c.hub.proxy.mode = 'nlb'),
    edit: (c) => (c.hub.proxy.mode = 'multi-az'),
    replaces: {},
    note: 'the NLB goes, fixed proxies come; the configurations’ target is updated in place',
  },
  {
    part: 'hub',
    change: 'change `hub.egress` from `nat` to `public`',
    edit: (c) => {
      c.hub.egress = 'public';
      delete c.hub.natGateways;
    },
    replaces: { 'AWS::EC2::NetworkInterface': 2 },
    removes: { 'AWS::EC2::EIP': 1 },
    note: 'the proxies move to the public subnets, and their fixed ENIs with them (new private IPs; the failover records follow, the configurations point at the failover name); the NAT gateway and its Elastic IP go, each proxy gets its own: the egress IPs change',
  },
  {
    part: 'hub',
    change: 'change `hub.egress` from `public` to `nat`',
    from: (c) => {
      c.hub.egress = 'public';
      delete c.hub.natGateways;
    },
    edit: (c) => (c.hub.egress = 'nat'),
    replaces: { 'AWS::EC2::NetworkInterface': 2 },
    removes: { 'AWS::EC2::EIP': 2 },
    note: 'the proxies move back to the private subnets with new fixed ENIs (the failover records follow); a NAT gateway comes, the proxies’ Elastic IPs go: the egress IPs change',
  },
];

const LABELS: Readonly<Record<string, string>> = {
  'AWS::EC2::VPC': 'VPC',
  'AWS::EC2::Subnet': 'subnet',
  'AWS::EC2::EIP': 'Elastic IP',
  'AWS::EC2::NetworkInterface': 'proxy ENI',
  'AWS::VpcLattice::ResourceGateway': 'resource gateway',
  'AWS::VpcLattice::ResourceConfiguration': 'resource configuration',
  'AWS::RAM::ResourceShare': 'RAM share',
  'AWS::EC2::VPCEndpoint': 'spoke endpoint',
};

/** What a case must replace, in words for the docs. */
export function describeCounts(counts: TypeCounts): string {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (entries.length === 0) return '—';
  return entries.map(([type, n]) => `${LABELS[type] ?? type}${n > 1 ? ` ×${n}` : ''}`).join(', ');
}

/** The table docs/operations.md shows under "Before you deploy: egresshub diff". */
export function renderCasesTable(cases: readonly DiffCase[] = CASES): string {
  const rows = cases.map((c) => {
    const replaces = describeCounts(c.replaces);
    const removes = describeCounts(c.removes ?? {});
    const status = c.pending ? ` _(expected; not yet tested: ${c.pending})_` : '';
    return `| ${c.change} | ${replaces === '—' ? 'nothing' : `**${replaces}**`} | ${removes === '—' ? '' : removes} | ${c.note}${status} |`;
  });
  return ['| config change | replaces (of what users hold) | removes | what else happens |', '| --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}
