// `egresshub cost`: what the hub saves against a NAT gateway in every project VPC, line by line, with the
// break-even VPC count, a sensitivity grid and (with --chart) an SVG chart. Inputs come from flags, or
// from the plan of --config (VPC count, region, hub shape), flags winning.
import { Option, type Command } from 'commander';
import type { EgressPlan } from '../../config';
import { DEFAULT_PROXY_MODE, fleetMode, MODES, PROXY_MODES } from '../../config/fleet-modes';
import { DEFAULT_INSTANCE_TYPES } from '../../config/schema';
import { UsageError } from '../../config/errors';
import {
  alternatives,
  assumptionRates,
  assumptionSensitivity,
  attachmentOptions,
  endpointBillingReadings,
  natBillingReadings,
  defaultGbGrid,
  defaultVpcGrid,
  estimate,
  parsePriceOverrides,
  priceBook,
  renderChartSvg,
  sensitivity,
  type Attachment,
  type BaselineMode,
  type Bill,
  type CostInputs,
  type EndpointBilling,
  type NatBilling,
  type FleetMode,
  type HubEgress,
  type PriceBook,
} from '../../cost';
import type { CommandSpec } from '../command';
import { addConfigOption, numberOption, optionalConfigFile, optionalPlanFromOptions } from '../options';
import { readNumber, type NumberBounds } from '../../untrusted/number';
import { plural } from '../../untrusted/text';
import { writableFile, writeOutput } from '../paths';
import type { Printer } from '../printer';

const DEFAULTS = { azsPerVpc: 2, hubAzs: 2, endpointAzs: 2, fleet: DEFAULT_PROXY_MODE, kbPerRequest: 64, logRetentionDays: 90 } as const;

/**
 * Every numeric flag with its range: far above any real estate, far below where the bill's arithmetic would
 * print `$∞` or `NaN%`. https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html (VPCs, AZs),
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html (≤ 3653 days).
 */
const BOUNDS = {
  vpcs: { min: 1, max: 100_000, integer: true },
  gbPerVpc: { min: 0, max: 10_000_000 },
  azsPerVpc: { min: 1, max: 6, integer: true },
  hubAzs: { min: 1, max: 6, integer: true },
  endpointAzs: { min: 1, max: 6, integer: true },
  tenants: { min: 1, max: 100_000, integer: true },
  kbPerRequest: { min: 0.001, max: 1_048_576 },
  logRetentionDays: { min: 1, max: 3653, integer: true },
  tenantMetrics: { min: 0, max: 100_000, integer: true },
} as const satisfies Record<string, NumberBounds>;

function num(opts: Record<string, unknown>, key: keyof typeof BOUNDS, flag: string, example: string): number | undefined {
  const raw = opts[key] as string | undefined;
  return raw === undefined ? undefined : numberOption(raw, flag, BOUNDS[key], example);
}

function list(opts: Record<string, unknown>, key: string, flag: string, bounds: NumberBounds, example: string): number[] | undefined {
  const raw = opts[key] as string | undefined;
  if (raw === undefined) return undefined;
  return raw.split(',').map((p) => {
    const r = readNumber(p, bounds);
    if (!r.ok) throw new UsageError(`${flag} expects a comma-separated list, each ${r.expected} (got "${raw}"); e.g. ${flag} ${example}`);
    return r.value;
  });
}

/** Builds the model inputs from the flags and, when given, the config's plan (flags override the plan). */
export function costInputs(opts: Record<string, unknown>, plan?: EgressPlan): CostInputs {
  const region = (opts.region as string | undefined) ?? plan?.region;
  if (!region) throw new UsageError('cost needs a region: pass --region (e.g. --region ap-northeast-1) or --config FILE');
  const planVpcs = plan ? plan.spokes.length || plan.tenants.filter((t) => !t.implicit).length : undefined;
  const vpcs = num(opts, 'vpcs', '--vpcs', '20') ?? (planVpcs || undefined);
  if (vpcs !== undefined && (!Number.isInteger(vpcs) || vpcs < 1)) {
    throw new UsageError(`--vpcs must be a whole number of project VPCs, at least 1 (got ${vpcs}); e.g. --vpcs 20`);
  }
  if (vpcs === undefined) {
    throw new UsageError(
      plan
        ? 'the config lists no spokes or tenants to count VPCs from; pass --vpcs N'
        : 'cost needs the number of project VPCs: pass --vpcs N (e.g. --vpcs 20) or --config FILE',
    );
  }
  const gbPerVpc = num(opts, 'gbPerVpc', '--gb-per-vpc', '50');
  if (gbPerVpc === undefined)
    throw new UsageError('cost needs the traffic per VPC: pass --gb-per-vpc GB (internet traffic per VPC per month, e.g. 50)');
  const planEgress: HubEgress | undefined = plan && (plan.hub.natMode === 'none' ? 'public' : plan.hub.natMode);
  const egress = (opts.hubNat as HubEgress | undefined) ?? planEgress ?? 'one';
  const fleet: FleetMode = (opts.fleet as FleetMode | undefined) ?? plan?.hub.proxy.mode ?? DEFAULTS.fleet;
  const endpointAzs = num(opts, 'endpointAzs', '--endpoint-azs', '2') ?? DEFAULTS.endpointAzs;
  // Spokes refuse a single subnet (a resource endpoint needs two AZs for availability): nothing to price.
  if (!Number.isInteger(endpointAzs) || endpointAzs < 2 || endpointAzs > 6) {
    throw new UsageError(
      `--endpoint-azs must be a whole number from 2 to 6 (got ${endpointAzs}): egresshub spokes put each resource endpoint in at least two AZs, and no region has more than six`,
    );
  }
  return {
    region,
    vpcs,
    azsPerVpc: num(opts, 'azsPerVpc', '--azs-per-vpc', '2') ?? DEFAULTS.azsPerVpc,
    gbPerVpc,
    baseline: (opts.baseline as BaselineMode | undefined) ?? 'per-vpc',
    hub: {
      azs: num(opts, 'hubAzs', '--hub-azs', '2') ?? plan?.hub.availabilityZones.length ?? DEFAULTS.hubAzs,
      fleet,
      egress,
      // The plan's type already defaults by mode; without a config, the same default the hub would use for this fleet.
      instanceType: (opts.instanceType as string | undefined) ?? plan?.hub.proxy.instanceType ?? DEFAULT_INSTANCE_TYPES[fleet],
      endpointAzs,
      attachment: (opts.attachment as Attachment | undefined) ?? 'endpoint',
      // Without a config, assume one tenant (resource configuration) per project VPC.
      resourceConfigurations: num(opts, 'tenants', '--tenants', '5') ?? plan?.tenants.length ?? vpcs,
      endpointBilling: (opts.endpointBilling as EndpointBilling | undefined) ?? 'per-az',
      ...(egress === 'regional' ? { natBilling: (opts.natBilling as NatBilling | undefined) ?? 'per-az' } : {}),
      monitoring: {
        kbPerRequest: num(opts, 'kbPerRequest', '--kb-per-request', '64') ?? DEFAULTS.kbPerRequest,
        logRetentionDays:
          num(opts, 'logRetentionDays', '--log-retention-days', '90') ?? plan?.hub.logRetentionDays ?? DEFAULTS.logRetentionDays,
        tenantMetrics: num(opts, 'tenantMetrics', '--tenant-metrics', '5') ?? plan?.tenants.filter((t) => t.metrics).length ?? 0,
      },
    },
  };
}

const money = (v: number) =>
  `${v < 0 ? '-' : ''}$${Math.abs(v).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
/** `a, b, or c`. */
const orList = (xs: readonly string[]) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')}, or ${xs.at(-1)}`);
const qty = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 2 });

function billRows(side: string, b: Bill): (string | number)[][] {
  return [
    ...b.items.map((i) => [side, i.label, `${qty(i.quantity)} ${i.unit}`, `$${i.unitPrice}`, money(i.monthly)]),
    [side, 'total', '', '', money(b.total)],
  ];
}

function describeHub(i: CostInputs): string {
  const fleet = fleetMode(i.hub.fleet).describe(i.hub.azs);
  const egress = {
    one: 'one NAT gateway',
    'per-az': 'a NAT gateway per AZ',
    regional: 'one regional NAT gateway',
    public: 'public proxy IPs (no NAT)',
  }[i.hub.egress];
  const attach =
    i.hub.attachment === 'endpoint'
      ? `a resource endpoint in ${i.hub.endpointAzs} AZs per VPC`
      : `a service network (${i.hub.resourceConfigurations} resource configurations)`;
  return `${fleet} (${i.hub.instanceType}), ${egress}, ${attach}`;
}

function print(printer: Printer, inputs: CostInputs, book: PriceBook, opts: Record<string, unknown>): void {
  const r = estimate(inputs, book);
  const vpcGrid = list(opts, 'sensitivityVpcs', '--sensitivity-vpcs', BOUNDS.vpcs, '5,10,50') ?? defaultVpcGrid(inputs.vpcs);
  const gbGrid = list(opts, 'sensitivityGb', '--sensitivity-gb', BOUNDS.gbPerVpc, '10,100,1000') ?? defaultGbGrid(inputs.gbPerVpc);
  const grid = sensitivity(inputs, book, vpcGrid, gbGrid);
  const assumedKey = inputs.hub.attachment === 'endpoint' ? 'endpoint.hour' : 'service-network.resource-hour';
  const assumed = book[assumedKey]!;
  const what = assumptionSensitivity(inputs, book, assumptionRates(assumed.usd));
  // Only the assumed prices this scenario actually bills matter to the reader.
  const used = new Set(
    [...r.baseline.items, ...r.hub.items, ...(opts.compare === true ? alternatives(inputs, book).flatMap((a) => a.bill.items) : [])].map(
      (i) => i.priceKey,
    ),
  );
  const assumptions = Object.entries(book)
    .filter(([k, p]) => p.assumption && used.has(k))
    .map(([k]) => k);

  const attachments = attachmentOptions(inputs, book);
  const readings = endpointBillingReadings(inputs, book);
  const natReadings = natBillingReadings(inputs, book);
  const compare = opts.compare === true ? alternatives(inputs, book) : undefined;
  printer.data({
    inputs,
    prices: book,
    baseline: r.baseline,
    hub: r.hub,
    attachments,
    endpointBillingReadings: readings,
    ...(natReadings.length > 0 ? { natBillingReadings: natReadings } : {}),
    ...(compare ? { alternatives: compare } : {}),
    savings: r.savings,
    savingsPercent: r.savingsPercent,
    breakEvenVpcs: r.breakEvenVpcs,
    sensitivity: grid,
    assumption: {
      key: what.key,
      assumed: assumed.usd,
      isAssumption: assumed.assumption,
      breakEvenRate: what.breakEvenRate,
      rows: what.rows,
    },
  });

  printer.line(
    `${inputs.vpcs} project VPCs × ${inputs.gbPerVpc} GB/month in ${inputs.region}; baseline: ${inputs.baseline === 'per-az' ? `a NAT gateway per AZ (${inputs.azsPerVpc}) in every VPC` : 'one NAT gateway per VPC'}`,
  );
  printer.line(`hub: ${describeHub(inputs)}`);
  printer.table(
    ['', 'line item', 'quantity / month', 'unit price', 'USD / month'],
    [...billRows('baseline', r.baseline), ...billRows('hub', r.hub)],
  );
  const verdict = r.savings >= 0 ? printer.ok(`saves ${money(r.savings)}/month`) : printer.bad(`costs ${money(-r.savings)}/month more`);
  printer.line(
    `the hub ${verdict} (${r.savingsPercent.toFixed(1)}% of the baseline); break-even: ${r.breakEvenVpcs === null ? 'never (up to 10,000 VPCs)' : plural(r.breakEvenVpcs, 'VPC')}`,
  );
  const [cheapest, other] = attachments as [(typeof attachments)[number], (typeof attachments)[number]];
  printer.line(
    `cheapest attachment: ${cheapest.attachment === 'endpoint' ? 'a resource endpoint per VPC' : 'a service network'} (${money(cheapest.hubTotal)}/month for the hub, vs ${money(other.hubTotal)} with ${other.attachment === 'endpoint' ? 'resource endpoints' : 'a service network'}; both rest on an assumed hourly price)`,
  );
  if (inputs.hub.attachment === 'service-network') {
    printer.line(
      'note: egresshub spokes attach with a resource endpoint per VPC; a service network is priced here for comparison only (egresshub does not build one)',
    );
  }
  printer.line();
  printer.line('resource endpoint hours: AWS bills them per hour but does not say per endpoint or per endpoint per AZ; both readings:');
  printer.table(
    ['endpoint hours billed', 'hub / month', 'savings / month'],
    readings.map((x) => [
      x.reading === 'per-az' ? `per endpoint per AZ (${inputs.hub.endpointAzs} AZs; the default reading)` : 'per endpoint',
      money(x.hubTotal),
      money(x.savings),
    ]),
  );
  if (natReadings.length > 0) {
    printer.line();
    printer.line(
      'regional NAT gateway hours: AWS does not say whether they are billed per gateway or per AZ it serves (UNCONFIRMED); both readings:',
    );
    printer.table(
      ['NAT gateway hours billed', 'hub / month', 'savings / month'],
      natReadings.map((x) => [
        x.reading === 'per-az' ? `per AZ served (${inputs.hub.azs} AZs; the default reading)` : 'per gateway',
        money(x.hubTotal),
        money(x.savings),
      ]),
    );
  }
  if (compare) {
    const base = compare[0]!.bill.total;
    printer.line();
    printer.line('the hub next to the alternatives, same VPCs and traffic (internet data transfer out is the same for all and left out):');
    printer.table(
      ['option', 'USD / month', 'vs NAT gateway per VPC', 'overlapping VPCs', 'note'],
      compare.map((a) => [
        a.label,
        money(a.bill.total),
        a.id === 'nat-gateway-per-vpc' ? '' : money(a.bill.total - base),
        a.overlappingVpcs ? 'yes' : 'NO',
        a.note,
      ]),
    );
    for (const a of compare) {
      const sources = [...new Set(a.bill.items.map((x) => book[x.priceKey]?.source).filter((x): x is string => x !== undefined))];
      printer.line(`  ${a.id}: ${sources.join(', ')}`);
    }
  }
  printer.line();
  printer.line(`savings per month by VPC count (rows) and GB/month per VPC (columns):`);
  printer.table(
    ['VPCs \\ GB', ...grid.gbPerVpc.map(String)],
    grid.vpcs.map((n, row) => [
      n,
      ...grid.gbPerVpc.map((_, col) => `${money(grid.savings[row]![col]!)} (${grid.savingsPercent[row]![col]!.toFixed(0)}%)`),
    ]),
  );
  printer.line();
  printer.line(
    `${assumedKey} is ${assumed.assumption ? 'an ASSUMPTION (no AWS page states the amount)' : 'as given'}: $${assumed.usd}/h. The result at other rates:`,
  );
  printer.table(
    [`${assumedKey} (USD/h)`, 'hub / month', 'savings / month', 'break-even VPCs'],
    what.rows.map((w) => [`$${w.usd}`, money(w.hubTotal), money(w.savings), w.breakEvenVpcs ?? 'never']),
  );
  printer.line(
    what.breakEvenRate === null
      ? `the hub does not save money at any ${assumedKey} rate for these inputs`
      : `the hub saves money while ${assumedKey} stays below $${what.breakEvenRate.toFixed(4)}/h`,
  );
  if (assumptions.length > 0) {
    printer.warn(`assumed prices (override with --price key=value): ${assumptions.map((k) => `${k}=$${book[k]!.usd}`).join(', ')}`);
  }
}

export const cost: CommandSpec = {
  name: 'cost',
  summary: 'estimate what the hub saves against a NAT gateway in every project VPC (line items, break-even, sensitivity, chart)',
  configure: (cmd: Command) => {
    addConfigOption(cmd, 'region, VPC count (spokes or tenants) and hub shape come from it')
      .option('--region <region>', 'AWS region of the prices, e.g. ap-northeast-1')
      .option('--vpcs <n>', 'number of project VPCs')
      .option('--gb-per-vpc <gb>', 'internet traffic per VPC per month, in GB')
      .option('--azs-per-vpc <n>', `AZs each project VPC spans (default ${DEFAULTS.azsPerVpc})`)
      .addOption(
        new Option('--baseline <mode>', 'NAT gateways today: one per VPC, or one per AZ per VPC (default per-vpc)').choices([
          'per-vpc',
          'per-az',
        ]),
      )
      .option('--hub-azs <n>', `AZs of the hub (default: the config's, else ${DEFAULTS.hubAzs})`)
      .addOption(
        new Option(
          '--fleet <mode>',
          `proxy fleet: ${orList(MODES.map((m) => m.summary))} (default: the mode in --config, else ${DEFAULT_PROXY_MODE})`,
        ).choices(PROXY_MODES),
      )
      .addOption(
        new Option(
          '--hub-nat <mode>',
          "hub egress: one NAT gateway, one per AZ, one regional NAT gateway, or public proxy IPs (default: the config's, else one)",
        ).choices(['one', 'per-az', 'regional', 'public']),
      )
      .addOption(
        new Option(
          '--nat-billing <reading>',
          'how a regional NAT gateway is billed (AWS does not say): per AZ it serves, or per gateway (default per-az; both are shown)',
        ).choices(['per-az', 'per-gateway']),
      )
      .option(
        '--instance-type <type>',
        `proxy instance type (default: the config's, else the hub's default for the fleet: ${Object.entries(DEFAULT_INSTANCE_TYPES)
          .map(([m, t]) => `${m} ${t}`)
          .join(', ')})`,
      )
      .option('--endpoint-azs <n>', `AZs each resource endpoint spans, 2 to 6 (default ${DEFAULTS.endpointAzs})`)
      .addOption(
        new Option('--attachment <kind>', 'how VPCs attach: a resource endpoint each, or a service network (default endpoint)').choices([
          'endpoint',
          'service-network',
        ]),
      )
      .option('--tenants <n>', "resource configurations in the hub (default: the config's tenants, else one per VPC)")
      .addOption(
        new Option(
          '--endpoint-billing <reading>',
          'how resource endpoint hours are billed (AWS does not say): per endpoint per AZ, or per endpoint (default per-az; both are shown)',
        ).choices(['per-az', 'per-endpoint']),
      )
      .option('--kb-per-request <kb>', `mean KB per request, which sets the access-log volume (default ${DEFAULTS.kbPerRequest})`)
      .option('--log-retention-days <days>', `access-log retention (default: the config's, else ${DEFAULTS.logRetentionDays})`)
      .option('--tenant-metrics <n>', "tenants with metrics: true (default: the config's, else 0)")
      .option('--compare', 'also price the alternatives: NAT instance per VPC, shared NAT behind Transit Gateway, Network Firewall proxy')
      .option(
        '--price <key=value>',
        'override a price in USD (repeatable), e.g. --price endpoint.hour=0.014',
        (v: string, prev: string[] = []) => [...prev, v],
      )
      .option('--sensitivity-vpcs <list>', 'VPC counts of the sensitivity table, e.g. 5,10,50')
      .option('--sensitivity-gb <list>', 'GB/month per VPC of the sensitivity table, e.g. 10,100,1000')
      .option('--chart <file.svg>', 'write an SVG chart of baseline vs. hub cost over the number of VPCs');
  },
  run: async ({ printer }, opts) => {
    // The chart's path is checked before anything is printed: a bad path fails alone, not after the report.
    const chart = typeof opts.chart === 'string' ? opts.chart : undefined;
    if (chart !== undefined && !chart.toLowerCase().endsWith('.svg'))
      throw new UsageError(`--chart writes SVG: give a file name ending in .svg (got "${chart}")`);
    const chartFile =
      chart === undefined
        ? undefined
        : writableFile('--chart', chart, 'cost.svg', [{ option: '--config', path: optionalConfigFile(opts) }]);
    const plan = optionalPlanFromOptions(opts);
    const inputs = costInputs(opts, plan);
    const book = priceBook(inputs.region, parsePriceOverrides((opts.price as string[] | undefined) ?? []));
    const svg = chartFile === undefined ? undefined : await renderChartSvg(inputs, book);
    print(printer, inputs, book, opts);
    if (chartFile !== undefined && svg !== undefined) {
      writeOutput('--chart', chartFile, svg);
      printer.step(`chart written to ${chart}`);
    }
    return 0;
  },
};
