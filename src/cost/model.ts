// The cost model: pure functions from inputs and a price book to a monthly bill, line by line, for
// the baseline (a NAT gateway in every project VPC) and for the hub (shared proxies + NAT, reached over
// PrivateLink resource endpoints), plus savings, break-even and sensitivity. No I/O here.
import { UsageError } from '../config/errors';
import { fleetMode, type ProxyMode } from '../config/fleet-modes';
import { HOURS_PER_MONTH, usd, type PriceBook } from './prices';

/** How each project VPC reaches the internet today. */
export type BaselineMode = 'per-vpc' | 'per-az';
/** How the hub runs its proxies: a fleet mode (src/config/fleet-modes; its `cost` says what it bills). */
export type FleetMode = ProxyMode;
/** How the hub's proxies reach the internet: one NAT gateway, one per AZ, one regional NAT gateway, or their own public IPs. */
export type HubEgress = 'one' | 'per-az' | 'regional' | 'public';
/** How project VPCs attach to the hub's resource configurations. */
export type Attachment = 'endpoint' | 'service-network';
/**
 * How a resource endpoint's hours are billed: per endpoint per AZ (as interface endpoints are) or per endpoint.
 * AWS states that resource endpoints are billed per hour but not the unit: the report shows both readings.
 */
export type EndpointBilling = 'per-az' | 'per-endpoint';
/**
 * How a regional NAT gateway's hours are billed: one NAT gateway-hour per AZ it is active in, or one per gateway.
 * AWS does not say (UNCONFIRMED; docs/cost.md): the report shows both readings, per AZ (the dearer) by default.
 */
export type NatBilling = 'per-az' | 'per-gateway';

/**
 * Bytes of one access-log line as Squid writes it (key=value, with SNI): the mean over the lab's real lines in
 * test/usage/fixtures (a test keeps this within 20 % of them). CloudWatch Logs adds 26 bytes per event to the
 * ingested size (CloudWatch pricing page, "Logs").
 */
export const ACCESS_LOG_LINE_BYTES = 230;
export const LOG_EVENT_OVERHEAD_BYTES = 26;
/** Contributor Insights rules the hub creates, and how many of them match every request (all but the denials rule). */
export const CONTRIBUTOR_RULES = 4;
const RULES_MATCHING_EVERY_LINE = 3;

/** What a cost estimate is computed from: the VPCs, their traffic and the hub's shape. */
export interface CostInputs {
  /** The AWS region whose prices apply (one of PRICED_REGIONS). */
  readonly region: string;
  /** Project VPCs that need internet egress. */
  readonly vpcs: number;
  /** AZs each project VPC spans (the baseline's per-AZ NAT gateways and its cross-AZ traffic). */
  readonly azsPerVpc: number;
  /** Internet traffic per project VPC per month, in GB (what a NAT gateway would process). */
  readonly gbPerVpc: number;
  /** The baseline's NAT gateways: one per VPC, or one per AZ of each VPC. */
  readonly baseline: BaselineMode;
  /** The hub's shape. */
  readonly hub: {
    readonly azs: number;
    readonly fleet: FleetMode;
    readonly egress: HubEgress;
    readonly instanceType: string;
    /** AZs each resource endpoint spans in its project VPC. */
    readonly endpointAzs: number;
    readonly attachment: Attachment;
    /** Resource configurations (one per tenant): what a service-network association bills per hour. */
    readonly resourceConfigurations: number;
    /** @default 'per-az' */
    readonly endpointBilling?: EndpointBilling;
    /** With `egress: regional` only. @default 'per-az' */
    readonly natBilling?: NatBilling;
    /** What the hub's monitoring costs depend on (docs/operations.md). */
    readonly monitoring: MonitoringInputs;
  };
}

/** What the hub's monitoring bill depends on. */
export interface MonitoringInputs {
  /** Mean bytes per request (response and request together), in KB: sets how many log lines the traffic makes. */
  readonly kbPerRequest: number;
  /** Access-log retention (hub.logRetentionDays): what storage holds at steady state. */
  readonly logRetentionDays: number;
  /** Tenants with `metrics: true`: 4 custom metrics each. */
  readonly tenantMetrics: number;
}

/** What the hub's CloudWatch setup holds for a fleet shape: the quantities its monitoring is billed on. */
export interface MonitoringCounts {
  readonly customMetrics: number;
  /** Metrics read by standard-resolution alarms (a metric-math alarm reads several; a query alarm counts 1). */
  readonly alarmMetrics: number;
  readonly compositeAlarms: number;
  readonly dashboards: number;
  readonly contributorRules: number;
}

/**
 * The hub's monitoring as HubObservability builds it (a test compares this with a synthesized hub): per scaling
 * group a capacity alarm over 2 metrics; per fixed proxy a health metric and its alarm, plus a composite alarm from
 * two fixed proxies up; per NAT gateway a port-allocation alarm (1 metric) and a drop alarm (3); the denied-spike
 * alarm; the lost-access-log-lines metric (two filters, one metric) and its alarm; with opted-in tenants their query
 * alarm; with an NLB two query alarms.
 */
export function monitoringCounts(h: CostInputs['hub']): MonitoringCounts {
  const mode = fleetMode(h.fleet).cost;
  const fixed = mode.fixedProxies(h.azs);
  const groups = mode.autoScalingGroups(h.azs);
  const nats = natCount(h);
  const tenantAlarm = h.monitoring.tenantMetrics > 0 ? 1 : 0;
  // Every proxy also publishes to the hub's egress series (EgressOk, one for the hub), which has an alarm.
  const egress = 1;
  return {
    customMetrics: 4 + 1 + 4 * h.monitoring.tenantMetrics + fixed + egress,
    alarmMetrics: 2 * groups + fixed + egress + 4 * nats + 1 + 1 + tenantAlarm + (mode.loadBalancer ? 2 : 0),
    compositeAlarms: fixed >= 2 ? 1 : 0,
    dashboards: 1,
    contributorRules: CONTRIBUTOR_RULES,
  };
}

/** NAT gateway resources in the hub (what its alarms are per): a regional one is one resource. */
function natCount(h: CostInputs['hub']): number {
  return h.egress === 'one' || h.egress === 'regional' ? 1 : h.egress === 'per-az' ? h.azs : 0;
}

/** NAT gateway-hours per hour under the billing reading: a regional gateway per AZ it serves, or once. */
function natHourUnits(h: CostInputs['hub']): number {
  if (h.egress === 'regional') return h.natBilling === 'per-gateway' ? 1 : h.azs;
  return natCount(h);
}

/**
 * Public IPv4 addresses the NAT gateways hold: one per zonal gateway; a regional one in automatic mode takes
 * addresses in every AZ where the VPC has subnets (the CloudFormation reference, AutoProvisionZones), one each here.
 */
function natIpCount(h: CostInputs['hub']): number {
  return h.egress === 'regional' ? h.azs : natCount(h);
}

/** Access-log lines a month of traffic makes, at the mean request size. */
export function accessLogLines(gb: number, kbPerRequest: number): number {
  return kbPerRequest > 0 ? (gb * 1e6) / kbPerRequest : 0;
}

/** One line of a bill: quantity x unit price = monthly USD, with the price key it came from. */
export interface LineItem {
  /** Stable identifier for scripts, e.g. `nat-hours`. */
  readonly id: string;
  readonly label: string;
  readonly quantity: number;
  readonly unit: string;
  /** Price key in the price book. */
  readonly priceKey: string;
  readonly unitPrice: number;
  readonly monthly: number;
}

/** A bill: its line items and their monthly total in USD. */
export interface Bill {
  readonly items: readonly LineItem[];
  readonly total: number;
}

/** The result of {@link estimate}: both bills, the savings and the break-even point. */
export interface CostResult {
  readonly inputs: CostInputs;
  readonly baseline: Bill;
  readonly hub: Bill;
  readonly savings: number;
  /** Savings as a share of the baseline, in percent (0 when the baseline is 0). */
  readonly savingsPercent: number;
  /** Smallest VPC count (1–10,000) from which the hub costs no more than the baseline; null if none. */
  readonly breakEvenVpcs: number | null;
}

const MAX_BREAK_EVEN = 10_000;
/** PrivateLink's data-processing tiers are per month per Region: 1 PB, then 4 PB more (binary units). */
const PB_GB = 1024 * 1024;

function item(book: PriceBook, id: string, label: string, quantity: number, unit: string, priceKey: string): LineItem {
  const unitPrice = usd(book, priceKey);
  return { id, label, quantity, unit, priceKey, unitPrice, monthly: quantity * unitPrice };
}

function bill(items: LineItem[]): Bill {
  const kept = items.filter((i) => i.quantity > 0);
  return { items: kept, total: kept.reduce((s, i) => s + i.monthly, 0) };
}

/** Share of traffic that crosses an AZ when it is spread evenly over `azs` AZs and served in one. */
function crossShare(azs: number): number {
  return azs > 1 ? (azs - 1) / azs : 0;
}

export function validateInputs(i: CostInputs): void {
  const whole = (v: number, name: string, min: number, fix: string) => {
    if (!Number.isInteger(v) || v < min) throw new UsageError(`${name} must be a whole number ≥ ${min} (got ${v}); ${fix}`);
  };
  whole(i.vpcs, '--vpcs', 0, 'give the number of project VPCs, e.g. --vpcs 20');
  whole(i.azsPerVpc, '--azs-per-vpc', 1, 'e.g. --azs-per-vpc 2');
  whole(i.hub.azs, '--hub-azs', 1, 'e.g. --hub-azs 2');
  whole(i.hub.endpointAzs, '--endpoint-azs', 1, 'a resource endpoint spans at least one AZ, e.g. --endpoint-azs 2');
  whole(i.hub.resourceConfigurations, '--tenants', 1, 'the hub has at least one resource configuration');
  whole(i.hub.monitoring.tenantMetrics, '--tenant-metrics', 0, 'the number of tenants with metrics: true, e.g. --tenant-metrics 5');
  whole(i.hub.monitoring.logRetentionDays, '--log-retention-days', 1, 'e.g. --log-retention-days 90');
  if (!Number.isFinite(i.hub.monitoring.kbPerRequest) || i.hub.monitoring.kbPerRequest <= 0) {
    throw new UsageError(
      `--kb-per-request must be a positive number of KB (got ${i.hub.monitoring.kbPerRequest}); e.g. --kb-per-request 64`,
    );
  }
  if (!Number.isFinite(i.gbPerVpc) || i.gbPerVpc < 0) {
    throw new UsageError(`--gb-per-vpc must be a non-negative number of GB per month (got ${i.gbPerVpc}); e.g. --gb-per-vpc 50`);
  }
}

/** Today's bill: every project VPC pays for its own NAT gateway(s). */
export function baselineBill(i: CostInputs, book: PriceBook): Bill {
  const nats = i.vpcs * (i.baseline === 'per-az' ? i.azsPerVpc : 1);
  const gb = i.vpcs * i.gbPerVpc;
  // With one NAT gateway per VPC, traffic from the VPC's other AZs crosses to the NAT's AZ; per-AZ NATs keep it local.
  const crossGb = i.baseline === 'per-vpc' ? gb * crossShare(i.azsPerVpc) : 0;
  return bill([
    item(book, 'nat-hours', 'NAT gateway hours', nats * HOURS_PER_MONTH, 'NAT gateway-h', 'nat.hour'),
    item(book, 'nat-gb', 'NAT gateway data processed', gb, 'GB', 'nat.gb'),
    item(book, 'eips', 'public IPv4 addresses (NAT EIPs)', nats * HOURS_PER_MONTH, 'IP-h', 'ipv4.hour'),
    // Charged out of one AZ and into the other: two charges per GB crossing.
    item(book, 'cross-az', 'cross-AZ transfer to the NAT gateway', 2 * crossGb, 'GB × 2 directions', 'cross-az.gb'),
  ]);
}

/** Data processed through resource endpoints, tiered over the Region's monthly total. */
function endpointGbItems(book: PriceBook, gb: number): LineItem[] {
  const first = Math.min(gb, PB_GB);
  const next = Math.min(Math.max(gb - PB_GB, 0), 4 * PB_GB);
  const over = Math.max(gb - 5 * PB_GB, 0);
  return [
    item(book, 'endpoint-gb', 'resource endpoint data processed', first, 'GB', 'endpoint.gb'),
    item(book, 'endpoint-gb-next-4pb', 'resource endpoint data processed (next 4 PB)', next, 'GB', 'endpoint.gb.next-4pb'),
    item(book, 'endpoint-gb-over-5pb', 'resource endpoint data processed (over 5 PB)', over, 'GB', 'endpoint.gb.over-5pb'),
  ];
}

/** The hub's monitoring: the access log in CloudWatch Logs, metrics, alarms, dashboard and contributor rules. */
export function monitoringItems(i: CostInputs, book: PriceBook): LineItem[] {
  const h = i.hub;
  const c = monitoringCounts(h);
  const lines = accessLogLines(i.vpcs * i.gbPerVpc, h.monitoring.kbPerRequest);
  const ingestGb = (lines * (ACCESS_LOG_LINE_BYTES + LOG_EVENT_OVERHEAD_BYTES)) / 1e9;
  // At steady state the group holds retention-days' worth of a month's ingestion (uncompressed: an upper bound).
  const storedGb = (ingestGb * h.monitoring.logRetentionDays) / 30;
  return [
    item(book, 'logs-ingest', `access log ingested (${Math.round(lines).toLocaleString('en-US')} lines)`, ingestGb, 'GB', 'logs.ingest-gb'),
    item(
      book,
      'logs-store',
      `access log stored (${h.monitoring.logRetentionDays} days, uncompressed)`,
      storedGb,
      'GB-month',
      'logs.store-gb-month',
    ),
    item(book, 'cw-metrics', 'custom metrics (hub-wide, proxy health, opted-in tenants)', c.customMetrics, 'metrics', 'cw.metric-month'),
    item(book, 'cw-alarms', 'alarm metrics', c.alarmMetrics, 'alarm metrics', 'cw.alarm-metric-month'),
    item(book, 'cw-composite', 'composite alarm (no healthy proxy)', c.compositeAlarms, 'alarms', 'cw.composite-alarm-month'),
    item(book, 'cw-dashboard', 'dashboard', c.dashboards, 'dashboards', 'cw.dashboard-month'),
    item(book, 'ci-rules', 'Contributor Insights rules (top tenants)', c.contributorRules, 'rules', 'cw.insight-rule-month'),
    item(
      book,
      'ci-events',
      'Contributor Insights matched lines',
      (RULES_MATCHING_EVERY_LINE * lines) / 1e6,
      'million events',
      'cw.insight-events-million',
    ),
  ];
}

/** Resource endpoint hours under a billing reading: per AZ each endpoint spans, or per endpoint. */
function endpointHours(i: CostInputs): number {
  return i.vpcs * (i.hub.endpointBilling === 'per-endpoint' ? 1 : i.hub.endpointAzs) * HOURS_PER_MONTH;
}

/** The hub's bill: shared proxies and NAT, plus the PrivateLink attachment of every project VPC. */
export function hubBill(i: CostInputs, book: PriceBook): Bill {
  const h = i.hub;
  const gb = i.vpcs * i.gbPerVpc;
  const { cost: mode } = fleetMode(h.fleet);
  const proxies = mode.proxies(h.azs);
  const nats = natCount(h);
  const publicIps = h.egress === 'public' ? proxies : natIpCount(h);
  // A resource gateway does no AZ-aware balancing (AWS-FACTS: no load balancing), so traffic arriving on its
  // ENIs in every hub AZ is assumed spread evenly: a share reaches a proxy in another AZ. With one NAT
  // gateway, proxies outside its AZ cross again; a single proxy is placed next to the NAT. A regional gateway
  // handles each AZ's traffic in that AZ, as NAT gateways per AZ do.
  const toProxy = gb * crossShare(h.azs);
  const toNat = h.egress === 'one' && proxies > 1 ? gb * crossShare(h.azs) : 0;
  const attach =
    h.attachment === 'endpoint'
      ? [
          item(
            book,
            'endpoint-hours',
            h.endpointBilling === 'per-endpoint' ? 'resource endpoint hours (per endpoint)' : 'resource endpoint hours (per AZ)',
            endpointHours(i),
            h.endpointBilling === 'per-endpoint' ? 'endpoint-h' : 'endpoint AZ-h',
            'endpoint.hour',
          ),
          ...endpointGbItems(book, gb),
        ]
      : [
          item(
            book,
            'endpoint-hours',
            'service network resource hours',
            i.vpcs > 0 ? h.resourceConfigurations * HOURS_PER_MONTH : 0,
            'resource-h',
            'service-network.resource-hour',
          ),
          item(book, 'endpoint-gb', 'service network data processed', gb, 'GB', 'service-network.gb'),
        ];
  return bill([
    item(
      book,
      'nat-hours',
      h.egress !== 'regional'
        ? 'NAT gateway hours'
        : h.natBilling === 'per-gateway'
          ? 'regional NAT gateway hours (per gateway)'
          : 'regional NAT gateway hours (per AZ)',
      natHourUnits(h) * HOURS_PER_MONTH,
      h.egress === 'regional' && h.natBilling !== 'per-gateway' ? 'NAT gateway AZ-h' : 'NAT gateway-h',
      'nat.hour',
    ),
    item(book, 'nat-gb', 'NAT gateway data processed', nats > 0 ? gb : 0, 'GB', 'nat.gb'),
    item(book, 'resource-gateway', 'resource gateway hours', HOURS_PER_MONTH, 'gateway-h', 'resource-gateway.hour'),
    ...attach,
    item(book, 'proxies', `proxy instances (${h.instanceType})`, proxies * HOURS_PER_MONTH, 'instance-h', `ec2.${h.instanceType}`),
    item(book, 'nlb-hours', 'NLB hours', mode.loadBalancer ? HOURS_PER_MONTH : 0, 'NLB-h', 'nlb.hour'),
    // For TCP, one LCU is 1 GB processed per hour, so LCU-hours equal GB per month when bytes dominate.
    item(book, 'nlb-lcu', 'NLB capacity units (bytes)', mode.loadBalancer ? gb : 0, 'LCU-h', 'nlb.lcu-hour'),
    item(
      book,
      'eips',
      h.egress === 'public' ? 'public IPv4 addresses (proxies)' : 'public IPv4 addresses (NAT EIPs)',
      publicIps * HOURS_PER_MONTH,
      'IP-h',
      'ipv4.hour',
    ),
    item(book, 'cross-az', 'cross-AZ transfer inside the hub', 2 * (toProxy + toNat), 'GB × 2 directions', 'cross-az.gb'),
    ...monitoringItems(i, book),
  ]);
}

function totalsAt(i: CostInputs, book: PriceBook, vpcs: number, gbPerVpc = i.gbPerVpc): { baseline: number; hub: number } {
  const at = { ...i, vpcs, gbPerVpc };
  return { baseline: baselineBill(at, book).total, hub: hubBill(at, book).total };
}

/** Smallest VPC count for which the hub is no dearer than the baseline (hub cost has a fixed part, baseline does not). */
export function breakEvenVpcs(i: CostInputs, book: PriceBook): number | null {
  for (let n = 1; n <= MAX_BREAK_EVEN; n++) {
    const t = totalsAt(i, book, n);
    if (t.hub <= t.baseline + 1e-9) return n;
  }
  return null;
}

/** The monthly bill of NAT gateways per VPC (the baseline) against an egress hub, the savings and the break-even VPC count. */
export function estimate(i: CostInputs, book: PriceBook): CostResult {
  validateInputs(i);
  const baseline = baselineBill(i, book);
  const hub = hubBill(i, book);
  const savings = baseline.total - hub.total;
  return {
    inputs: i,
    baseline,
    hub,
    savings,
    savingsPercent: baseline.total > 0 ? (100 * savings) / baseline.total : 0,
    breakEvenVpcs: breakEvenVpcs(i, book),
  };
}

export interface SensitivityTable {
  readonly vpcs: readonly number[];
  readonly gbPerVpc: readonly number[];
  /** savings[r][c]: monthly savings for vpcs[r] and gbPerVpc[c]. */
  readonly savings: readonly (readonly number[])[];
  readonly savingsPercent: readonly (readonly number[])[];
}

/** Savings over a grid of VPC counts × GB per VPC, everything else as in `i`. */
export function sensitivity(i: CostInputs, book: PriceBook, vpcs: readonly number[], gbPerVpc: readonly number[]): SensitivityTable {
  const cells = vpcs.map((n) => gbPerVpc.map((g) => totalsAt(i, book, n, g)));
  return {
    vpcs,
    gbPerVpc,
    savings: cells.map((row) => row.map((t) => t.baseline - t.hub)),
    savingsPercent: cells.map((row) => row.map((t) => (t.baseline > 0 ? (100 * (t.baseline - t.hub)) / t.baseline : 0))),
  };
}

/** Default grid rows: a spread of VPC counts that always includes the user's own. */
export function defaultVpcGrid(vpcs: number): number[] {
  return [...new Set([5, 10, 20, 50, 100, vpcs].filter((n) => n > 0))].sort((a, b) => a - b);
}

export function defaultGbGrid(gb: number): number[] {
  return [...new Set([10, 50, 100, 500, 1000, gb])].sort((a, b) => a - b);
}

export interface AssumptionRow {
  readonly usd: number;
  readonly hubTotal: number;
  readonly savings: number;
  readonly breakEvenVpcs: number | null;
}

/**
 * How the result moves with the one price no AWS page states (the resource endpoint's hourly rate, or
 * the service network's resource-hour): the result recomputed with that price at each of `rates`.
 */
export function assumptionSensitivity(
  i: CostInputs,
  book: PriceBook,
  rates: readonly number[],
): { key: string; rows: AssumptionRow[]; breakEvenRate: number | null } {
  const key = i.hub.attachment === 'endpoint' ? 'endpoint.hour' : 'service-network.resource-hour';
  const at = (rate: number) => estimate(i, { ...book, [key]: { ...book[key]!, usd: rate } });
  const rows = rates.map((rate) => {
    const r = at(rate);
    return { usd: rate, hubTotal: r.hub.total, savings: r.savings, breakEvenVpcs: r.breakEvenVpcs };
  });
  // Savings fall linearly with the rate: savings(r) = savings(0) − billedHours × r.
  const hours = at(1).hub.items.find((x) => x.id === 'endpoint-hours')?.quantity ?? 0;
  const free = at(0).savings;
  return { key, rows, breakEvenRate: hours > 0 && free > 0 ? free / hours : null };
}

/** Rates to try for the assumed price: free, half, as assumed, 1.5× and double. */
export function assumptionRates(assumed: number): number[] {
  return [...new Set([0, assumed / 2, assumed, assumed * 1.5, assumed * 2].map((v) => Math.round(v * 1e6) / 1e6))];
}

/** An option a platform team weighs against the hub, priced for the same VPCs and traffic. */
export interface Alternative {
  readonly id: 'nat-gateway-per-vpc' | 'nat-instance-per-vpc' | 'shared-nat-tgw' | 'network-firewall-proxy' | 'egresshub';
  readonly label: string;
  readonly bill: Bill;
  /** Works when the project VPCs share CIDR blocks. */
  readonly overlappingVpcs: boolean;
  readonly note: string;
}

/** The NAT instance fck-nat documents as its default for light traffic; one per place a NAT gateway would be. */
export const NAT_INSTANCE_TYPE = 't4g.nano';

/**
 * The hub next to what it replaces or competes with, each from the same inputs (internet data transfer out is the
 * same for all and left out of every one):
 * - a NAT gateway per VPC: the baseline;
 * - a NAT instance per VPC (fck-nat style): one instance and public IP where each NAT gateway would be;
 * - one shared NAT behind Transit Gateway: an attachment per VPC plus the egress VPC's, TGW data processing, a NAT
 *   gateway per hub AZ. Transit Gateway routes by destination, so VPCs with the same CIDR cannot share it;
 * - AWS Network Firewall's proxy in every VPC: a firewall endpoint per AZ of each VPC and per-GB processing (the
 *   capability's own prices UNCONFIRMED; the NAT gateway it creates is billed as NAT, waived hour-for-hour and
 *   GB-for-GB against firewall endpoint charges per the Network Firewall pricing page, so not counted);
 * - egresshub.
 */
export function alternatives(i: CostInputs, book: PriceBook): Alternative[] {
  const gb = i.vpcs * i.gbPerVpc;
  const natPlaces = i.vpcs * (i.baseline === 'per-az' ? i.azsPerVpc : 1);
  const crossGb = i.baseline === 'per-vpc' ? gb * crossShare(i.azsPerVpc) : 0;
  const tgwNats = i.hub.azs;
  return [
    {
      id: 'nat-gateway-per-vpc',
      label: 'NAT gateway per VPC (today)',
      bill: baselineBill(i, book),
      overlappingVpcs: true,
      note: i.baseline === 'per-az' ? 'one per AZ of each VPC' : 'one per VPC; other AZs cross to it',
    },
    {
      id: 'nat-instance-per-vpc',
      label: `NAT instance per VPC (${NAT_INSTANCE_TYPE}, fck-nat style)`,
      bill: bill([
        item(
          book,
          'nat-instances',
          `NAT instances (${NAT_INSTANCE_TYPE})`,
          natPlaces * HOURS_PER_MONTH,
          'instance-h',
          `ec2.${NAT_INSTANCE_TYPE}`,
        ),
        item(book, 'eips', 'public IPv4 addresses', natPlaces * HOURS_PER_MONTH, 'IP-h', 'ipv4.hour'),
        item(book, 'cross-az', 'cross-AZ transfer to the NAT instance', 2 * crossGb, 'GB × 2 directions', 'cross-az.gb'),
      ]),
      overlappingVpcs: true,
      note: 'no per-GB charge; an instance to patch and size in every VPC, no allowlist',
    },
    {
      id: 'shared-nat-tgw',
      label: 'shared NAT behind Transit Gateway',
      bill: bill([
        item(
          book,
          'tgw-attachments',
          'TGW attachments (each VPC + egress VPC)',
          (i.vpcs + 1) * HOURS_PER_MONTH,
          'attachment-h',
          'tgw.attachment-hour',
        ),
        item(book, 'tgw-gb', 'TGW data processed', gb, 'GB', 'tgw.gb'),
        item(book, 'nat-hours', 'NAT gateway hours (one per egress AZ)', tgwNats * HOURS_PER_MONTH, 'NAT gateway-h', 'nat.hour'),
        item(book, 'nat-gb', 'NAT gateway data processed', gb, 'GB', 'nat.gb'),
        item(book, 'eips', 'public IPv4 addresses (NAT EIPs)', tgwNats * HOURS_PER_MONTH, 'IP-h', 'ipv4.hour'),
      ]),
      overlappingVpcs: false,
      note: 'only for VPCs whose CIDRs do not overlap (TGW routes by destination)',
    },
    {
      id: 'network-firewall-proxy',
      label: 'AWS Network Firewall proxy in each VPC',
      bill: bill([
        item(
          book,
          'nfw-endpoints',
          'firewall endpoints (one per AZ of each VPC)',
          i.vpcs * i.azsPerVpc * HOURS_PER_MONTH,
          'endpoint-h',
          'nfw.endpoint-hour',
        ),
        item(book, 'nfw-gb', 'firewall data processed', gb, 'GB', 'nfw.gb'),
      ]),
      overlappingVpcs: true,
      note: 'prices of the proxy capability UNCONFIRMED (firewall endpoint rates used); its NAT gateways are waived against them',
    },
    {
      id: 'egresshub',
      label: 'egresshub hub',
      bill: hubBill(i, book),
      overlappingVpcs: true,
      note: 'this hub: shared proxies, per-tenant allowlists',
    },
  ];
}

/** Both readings of how resource endpoint hours are billed, side by side (the per-AZ one is the model's default). */
export function endpointBillingReadings(i: CostInputs, book: PriceBook): { reading: EndpointBilling; hubTotal: number; savings: number }[] {
  return (['per-az', 'per-endpoint'] as const).map((reading) => {
    const r = estimate({ ...i, hub: { ...i.hub, attachment: 'endpoint', endpointBilling: reading } }, book);
    return { reading, hubTotal: r.hub.total, savings: r.savings };
  });
}

/**
 * Both readings of how a regional NAT gateway's hours are billed, side by side (per AZ is the model's default);
 * empty unless the hub's egress is `regional`.
 */
export function natBillingReadings(i: CostInputs, book: PriceBook): { reading: NatBilling; hubTotal: number; savings: number }[] {
  if (i.hub.egress !== 'regional') return [];
  return (['per-az', 'per-gateway'] as const).map((reading) => {
    const r = estimate({ ...i, hub: { ...i.hub, natBilling: reading } }, book);
    return { reading, hubTotal: r.hub.total, savings: r.savings };
  });
}

/** The hub's total with each attachment, cheapest first. */
export function attachmentOptions(i: CostInputs, book: PriceBook): { attachment: Attachment; hubTotal: number }[] {
  return (['endpoint', 'service-network'] as const)
    .map((attachment) => ({ attachment, hubTotal: hubBill({ ...i, hub: { ...i.hub, attachment } }, book).total }))
    .sort((a, b) => a.hubTotal - b.hubTotal);
}
