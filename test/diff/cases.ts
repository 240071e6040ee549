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
  /** The change replaces proxy instances (new image, type, user data or subnets), as asked. @default false */
  readonly replacesProxies?: boolean;
  /** What tenants notice while it deploys (docs/hub.md "Switching modes and egress"). */
  readonly interruption: string;
  /** `egresshub diff` refuses the change (exit 2) with this message. */
  readonly refused?: RegExp;
  /** Problems diff must report (exit 4), by kind: the change as written would go wrong. @default none */
  readonly problems?: readonly ('stale-consumer' | 'fixed-name' | 'subnet-conflict')[];
}

/** The interruption of a change that replaces the only proxy of a `single` hub (measured by the lab). */
export const SINGLE_PROXY_REPLACED = 'single-mode proxy replacement (measured by the lab: see docs/ha.md)';
/** The interruption of a change that moves the configurations' target to a new resource. */
export const TARGET_SWITCH =
  'new connections fail between the hub stack’s cleanup (the old target is deleted) and the tenant stacks’ update (not yet measured)';
/** The interruption of a change from zonal NAT gateways to a regional one (src/diff/hub-changes.ts says it too). */
export const NAT_TO_REGIONAL =
  'connections open through the old NAT gateway are cut when the routes switch (new ones go out at once, from new IPs)';
/** The interruption of a change that replaces every spoke endpoint. */
export const ENDPOINTS_REPLACED =
  'every spoke endpoint is replaced: its servers reconnect through the new one (cross-account spokes only after the operator rolls the new ARN)';

/** The parts of examples/egresshub.yaml (as parsed YAML) that cases edit, the way a user edits the file. */
export interface Config {
  name: string;
  hub: {
    cidr: string;
    availabilityZones: string[];
    egress?: string;
    natGateways?: string;
    gatewayGeneration?: number;
    proxy: { mode: string; instanceType?: string };
  };
  dns: { domain: string; verify?: { publicHostedZoneId: string } };
  tenants: { name: string; accounts: string[]; port: number; allow: string[] | string }[];
  spokes: Record<string, unknown>[];
}

const publicEgress = (c: Config) => {
  c.hub.egress = 'public';
  delete c.hub.natGateways;
};
const mode = (m: string) => (c: Config) => (c.hub.proxy.mode = m);
const verified = (c: Config) => (c.dns = { domain: 'egress.example.com', verify: { publicHostedZoneId: 'Z0123456789ABCDEFGHIJ' } });

export const CASES: readonly DiffCase[] = [
  {
    part: 'tenants',
    change: 'add a domain to a tenant’s `allow`',
    edit: (c) => (c.tenants[0]!.allow as string[]).push('pypi.org'),
    replaces: {},
    interruption: '0',
    note: 'only the policy: its S3 object, the SSM parameter naming it and the State Manager association that applies it with `squid -k reconfigure`; the launch template and the instances stay, tenant stacks and spokes are skipped (tested)',
  },
  {
    part: 'tenants',
    change: 'add a tenant',
    edit: (c) => c.tenants.push({ name: 'project-c', accounts: ['333333333333'], port: 3203, allow: ['*.example.com'] }),
    replaces: {},
    interruption: '0',
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
    interruption: '0',
    note: 'a new spoke stack',
  },
  {
    part: 'tenants',
    change: 'add an account to a tenant’s `accounts`',
    edit: (c) => c.tenants[0]!.accounts.push('333333333333'),
    replaces: {},
    interruption: '0',
    note: 'the RAM share’s principals are updated in place',
  },
  {
    part: 'tenants',
    change: 'change a tenant’s `port`',
    edit: (c) => (c.tenants[0]!.port = 3210),
    replaces: {},
    interruption: '—',
    refused: /tenants\[project-a\]\.port: 3201 → 3210 is refused: the port is the tenant's identity/,
    note: 'refused by `egresshub diff` (exit 2): the port is the tenant’s identity at the proxy and part of every proxy URL of its servers (to another block of 50 it would also move the tenant to another stack); add a tenant with the new port instead, move the servers, remove the old one',
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
    interruption: '0 for the other tenants',
    note: 'its configuration goes with `cdk deploy`; its spoke stack leaves the app, and `cdk deploy` does not delete a stack: delete it by hand',
  },
  {
    part: 'tenants',
    change: 'change `dns.domain`',
    edit: (c) => (c.dns.domain = 'proxy.internal'),
    replaces: { 'AWS::VpcLattice::ResourceConfiguration': 2, 'AWS::EC2::VPCEndpoint': 2 },
    interruption: ENDPOINTS_REPLACED,
    note: 'demanded: a configuration’s custom domain name is fixed at creation (the replacement gets a new name: it is derived from the custom domain), and each endpoint follows its configuration’s new ARN',
  },
  {
    part: 'tenants',
    change: 'add `dns.verify` (a verified public domain)',
    from: (c) => (c.dns.domain = 'egress.example.com'),
    edit: verified,
    replaces: { 'AWS::VpcLattice::ResourceConfiguration': 2, 'AWS::EC2::VPCEndpoint': 2 },
    interruption: ENDPOINTS_REPLACED,
    note: 'demanded: `DomainVerificationId` is fixed at creation, so every configuration is replaced (under a new name) and every endpoint follows',
  },
  {
    part: 'tenants',
    change: 'remove `dns.verify`',
    from: verified,
    edit: (c) => delete c.dns.verify,
    replaces: { 'AWS::VpcLattice::ResourceConfiguration': 2, 'AWS::EC2::VPCEndpoint': 2 },
    interruption: ENDPOINTS_REPLACED,
    note: 'demanded, as adding it: every configuration and endpoint is replaced',
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
    interruption: '0 until the old stacks are deleted: they keep running beside the new ones',
    note: 'demanded: every stack name changes, so every stack is new; the old stacks keep running until deleted',
  },
  {
    part: 'hub',
    change: 'change `hub.proxy.instanceType`',
    edit: (c) => (c.hub.proxy.instanceType = 't4g.medium'),
    replaces: {},
    replacesProxies: true,
    interruption: '0 (multi-az and nlb replace one proxy at a time); single: ' + SINGLE_PROXY_REPLACED,
    note: 'the proxies’ launch template gets a new version; the Auto Scaling groups replace their instances',
  },
  {
    part: 'hub',
    change: 'change `hub.natGateways` from `one` to `per-az`',
    edit: (c) => (c.hub.natGateways = 'per-az'),
    replaces: {},
    interruption: '0',
    note: 'a NAT gateway and its Elastic IP are added (a new egress IP for partners to allowlist); private routes are updated',
  },
  {
    part: 'hub',
    change: 'change `hub.natGateways` from `one` to `regional`',
    edit: (c) => (c.hub.natGateways = 'regional'),
    replaces: {},
    removes: { 'AWS::EC2::EIP': 1 },
    interruption: NAT_TO_REGIONAL,
    note: 'the zonal NAT gateway and its Elastic IP give way to one regional NAT gateway (its addresses allocated by AWS: new egress IPs for partners to allowlist); private routes are updated in place',
  },
  {
    part: 'hub',
    change: 'change `hub.natGateways` from `per-az` to `regional`',
    from: (c) => (c.hub.natGateways = 'per-az'),
    edit: (c) => (c.hub.natGateways = 'regional'),
    replaces: {},
    removes: { 'AWS::EC2::EIP': 2 },
    interruption: NAT_TO_REGIONAL,
    note: 'both zonal NAT gateways and their Elastic IPs give way to one regional NAT gateway (new egress IPs); private routes are updated in place',
  },
  {
    part: 'hub',
    change: 'add an availability zone without raising `hub.gatewayGeneration`',
    edit: (c) => c.hub.availabilityZones.push('ap-northeast-1d'),
    replaces: {
      'AWS::EC2::Subnet': 4,
      'AWS::EC2::NetworkInterface': 2,
      'AWS::VpcLattice::ResourceGateway': 1,
      'AWS::VpcLattice::ResourceConfiguration': 2,
      'AWS::EC2::VPCEndpoint': 2,
    },
    replacesProxies: true,
    problems: ['fixed-name', 'subnet-conflict'],
    interruption: '—',
    note: '`egresshub diff` exits 4: the gateway is replaced but would keep its name (CloudFormation creates the replacement first), and the new subnets overlap the old ones (below)',
  },
  {
    part: 'hub',
    change: 'add an availability zone (and raise `hub.gatewayGeneration`)',
    edit: (c) => {
      c.hub.availabilityZones.push('ap-northeast-1d');
      c.hub.gatewayGeneration = 2;
    },
    replaces: {
      'AWS::EC2::Subnet': 4,
      'AWS::EC2::NetworkInterface': 2,
      'AWS::VpcLattice::ResourceGateway': 1,
      'AWS::VpcLattice::ResourceConfiguration': 2,
      'AWS::EC2::VPCEndpoint': 2,
    },
    replacesProxies: true,
    problems: ['subnet-conflict'],
    interruption: '— (cannot deploy in place)',
    note: '`egresshub diff` exits 4: the hub CIDR is split evenly over the AZs, so every subnet’s CIDR changes, and EC2 refuses a new subnet that overlaps one still in the VPC: the deploy fails and rolls back. Choose the AZs before spokes use the hub, or build a second hub (another `name`) and move the tenants; were it deployable, the gateway, every configuration and endpoint would be replaced',
  },
  {
    part: 'hub',
    change: 'remove an availability zone (and raise `hub.gatewayGeneration`)',
    from: (c) => c.hub.availabilityZones.push('ap-northeast-1d'),
    edit: (c) => {
      c.hub.availabilityZones.pop();
      c.hub.gatewayGeneration = 2;
    },
    replaces: {
      'AWS::EC2::Subnet': 4,
      'AWS::EC2::NetworkInterface': 2,
      'AWS::VpcLattice::ResourceGateway': 1,
      'AWS::VpcLattice::ResourceConfiguration': 2,
      'AWS::EC2::VPCEndpoint': 2,
    },
    removes: { 'AWS::EC2::NetworkInterface': 1, 'AWS::EC2::Subnet': 2 },
    replacesProxies: true,
    problems: ['subnet-conflict'],
    interruption: '— (cannot deploy in place)',
    note: 'as adding one: every subnet’s CIDR changes and the new subnets overlap the old ones, so the deploy fails (diff exits 4)',
  },
  {
    part: 'hub',
    change: 'change `hub.cidr` (and raise `hub.gatewayGeneration`)',
    edit: (c) => {
      c.hub.cidr = '10.1.0.0/16';
      c.hub.gatewayGeneration = 2;
    },
    replaces: {
      'AWS::EC2::VPC': 1,
      'AWS::EC2::Subnet': 4,
      'AWS::EC2::NetworkInterface': 2,
      'AWS::VpcLattice::ResourceGateway': 1,
      'AWS::VpcLattice::ResourceConfiguration': 2,
      'AWS::EC2::VPCEndpoint': 2,
    },
    replacesProxies: true,
    interruption: ENDPOINTS_REPLACED,
    note: 'demanded: a VPC’s CIDR is fixed, and everything in the VPC follows it (the NAT gateways’ Elastic IPs are kept)',
  },
  {
    part: 'hub',
    change: 'change `hub.proxy.mode` from `multi-az` to `single`',
    edit: mode('single'),
    replaces: {},
    removes: { 'AWS::EC2::NetworkInterface': 1 },
    interruption: TARGET_SWITCH,
    note: 'the second AZ’s proxy, its fixed ENI and the failover name go; the configurations’ target (failover name → first proxy’s ENI IP) is updated in place',
  },
  {
    part: 'hub',
    change: 'change `hub.proxy.mode` from `single` to `multi-az`',
    from: mode('single'),
    edit: mode('multi-az'),
    replaces: {},
    interruption: '0 (the failover name answers the first proxy, which stays)',
    note: 'a proxy and fixed ENI per AZ and the failover name are added; the configurations’ target is updated in place',
  },
  {
    part: 'hub',
    change: 'change `hub.proxy.mode` from `multi-az` to `nlb`',
    edit: mode('nlb'),
    replaces: {},
    removes: { 'AWS::EC2::NetworkInterface': 2 },
    interruption: TARGET_SWITCH,
    note: 'the fixed proxies and their ENIs go, an NLB and a scaling group come; the configurations’ target (the NLB’s name) is updated in place',
  },
  {
    part: 'hub',
    change: 'change `hub.proxy.mode` from `nlb` to `multi-az`',
    from: mode('nlb'),
    edit: mode('multi-az'),
    replaces: {},
    interruption: TARGET_SWITCH,
    note: 'the NLB goes, fixed proxies come; the configurations’ target is updated in place',
  },
  {
    part: 'hub',
    change: 'change `hub.proxy.mode` from `single` to `nlb`',
    from: mode('single'),
    edit: mode('nlb'),
    replaces: {},
    removes: { 'AWS::EC2::NetworkInterface': 1 },
    interruption: TARGET_SWITCH,
    note: 'the fixed proxy and its ENI go, an NLB and a scaling group come; the configurations’ target is updated in place',
  },
  {
    part: 'hub',
    change: 'change `hub.proxy.mode` from `nlb` to `single`',
    from: mode('nlb'),
    edit: mode('single'),
    replaces: {},
    interruption: TARGET_SWITCH,
    note: 'the NLB goes, a fixed proxy comes; the configurations’ target (its ENI’s address) is updated in place',
  },
  {
    part: 'hub',
    change: 'change `hub.egress` from `nat` to `public` (multi-az)',
    edit: publicEgress,
    replaces: { 'AWS::EC2::NetworkInterface': 2 },
    removes: { 'AWS::EC2::EIP': 1 },
    replacesProxies: true,
    interruption:
      '0 expected: the proxies are replaced one at a time and the failover records follow inside the hub stack (not yet measured)',
    note: 'the proxies move to the public subnets, and their fixed ENIs with them (new private IPs; the failover records follow, the configurations point at the failover name); the NAT gateway and its Elastic IP go, each proxy gets its own: the egress IPs change',
  },
  {
    part: 'hub',
    change: 'change `hub.egress` from `public` to `nat` (multi-az)',
    from: publicEgress,
    edit: (c) => (c.hub.egress = 'nat'),
    replaces: { 'AWS::EC2::NetworkInterface': 2 },
    removes: { 'AWS::EC2::EIP': 2 },
    replacesProxies: true,
    interruption: '0 expected, as `nat` → `public` (not yet measured)',
    note: 'the proxies move back to the private subnets with new fixed ENIs (the failover records follow); a NAT gateway comes, the proxies’ Elastic IPs go: the egress IPs change',
  },
  {
    part: 'hub',
    change: 'change `hub.egress` from `nat` to `public` (single)',
    from: mode('single'),
    edit: publicEgress,
    replaces: { 'AWS::EC2::NetworkInterface': 1 },
    removes: { 'AWS::EC2::EIP': 1 },
    replacesProxies: true,
    interruption: SINGLE_PROXY_REPLACED,
    note: 'the proxy and its fixed ENI move to a public subnet (a new address): the tenant stacks are deployed with the new address (their fingerprint changes); the egress IP changes',
  },
  {
    part: 'hub',
    change: 'change `hub.egress` from `public` to `nat` (single)',
    from: (c) => {
      mode('single')(c);
      publicEgress(c);
    },
    edit: (c) => (c.hub.egress = 'nat'),
    replaces: { 'AWS::EC2::NetworkInterface': 1 },
    removes: { 'AWS::EC2::EIP': 1 },
    replacesProxies: true,
    interruption: SINGLE_PROXY_REPLACED,
    note: 'the proxy and its fixed ENI move back to a private subnet (a new address, followed by the tenant stacks); the egress IP changes',
  },
  {
    part: 'hub',
    change: 'change `hub.egress` to `public` with `hub.proxy.mode: nlb`',
    from: mode('nlb'),
    edit: publicEgress,
    replaces: {},
    interruption: '—',
    refused: /an NLB fleet scales in and out, so it has no static egress addresses/,
    note: 'refused by validation (exit 2): a scaling fleet has no static egress addresses; nlb runs with `egress: nat`',
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
    const what = c.refused ? 'refused' : replaces === '—' ? 'nothing' : `**${replaces}**`;
    return `| ${c.change} | ${what} | ${removes === '—' ? '' : removes} | ${c.replacesProxies ? 'yes' : 'no'} | ${c.interruption} | ${c.note}${status} |`;
  });
  return [
    '| config change | replaces (of what users hold) | removes | replaces proxies | interruption | what else happens |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
