// The cost model against scenarios worked out by hand; each expected number's arithmetic is written next to it.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  ACCESS_LOG_LINE_BYTES,
  alternatives,
  assumptionSensitivity,
  attachmentOptions,
  baselineBill,
  endpointBillingReadings,
  MONITORING_PRICE_KEYS,
  natBillingReadings,
  monitoringCounts,
  breakEvenVpcs,
  estimate,
  hubBill,
  parsePriceOverrides,
  priceBook,
  PRICE_KEYS,
  PRICED_REGIONS,
  sensitivity,
  type CostInputs,
} from '../../src/cost';
import data from '../../src/cost/prices.json';

/** Prices of the hub's monitoring and of the resource gateway (listed at $0): lines the infrastructure tests leave out. */
const MONITORING_KEYS: readonly string[] = MONITORING_PRICE_KEYS;
const OUT_OF_INFRA = new Set([...MONITORING_KEYS, 'resource-gateway.hour']);
const byId = (items: readonly { id: string; monthly: number; priceKey: string }[]) =>
  Object.fromEntries(items.filter((i) => !OUT_OF_INFRA.has(i.priceKey)).map((i) => [i.id, i.monthly]));
/** A price book with monitoring at $0: the infrastructure's own bill, as the hand computations below give it. */
const infraBook = (region: string, overrides: Record<string, number> = {}) =>
  priceBook(region, { ...Object.fromEntries(MONITORING_KEYS.map((k) => [k, 0])), ...overrides });
const MONITORING = { kbPerRequest: 64, logRetentionDays: 90, tenantMetrics: 0 };

/** us-east-1, 10 VPCs in 2 AZs, 100 GB each; hub: 1 t4g.small, 1 NAT, endpoints in 2 AZs. */
const scenarioA: CostInputs = {
  region: 'us-east-1',
  vpcs: 10,
  azsPerVpc: 2,
  gbPerVpc: 100,
  baseline: 'per-vpc',
  hub: {
    azs: 2,
    fleet: 'single',
    egress: 'one',
    instanceType: 't4g.small',
    endpointAzs: 2,
    attachment: 'endpoint',
    resourceConfigurations: 10,
    monitoring: MONITORING,
  },
};

describe('price book', () => {
  it('carries every price key with a source, a date read and an assumption flag in every region', () => {
    expect(PRICED_REGIONS).toEqual(expect.arrayContaining(['us-east-1', 'ap-northeast-1']));
    for (const region of PRICED_REGIONS) {
      const book = priceBook(region);
      for (const key of PRICE_KEYS) {
        const p = book[key]!;
        expect(p, `${region} ${key}`).toBeDefined();
        expect(p.source).toMatch(/^https:\/\/(aws\.amazon\.com|docs\.aws\.amazon\.com)\//);
        expect(p.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(typeof p.assumption).toBe('boolean');
      }
      // The resource endpoint's hourly amount is published nowhere: it must stay flagged.
      expect(book['endpoint.hour']!.assumption).toBe(true);
      expect(book['service-network.resource-hour']!.assumption).toBe(true);
    }
    expect(data.hoursPerMonth).toBe(730);
  });

  it('uses the prices stated in AWS-FACTS for NAT gateways', () => {
    expect(priceBook('us-east-1')['nat.hour']!.usd).toBe(0.045);
    expect(priceBook('ap-northeast-1')['nat.gb']!.usd).toBe(0.062);
  });

  it('applies --price overrides and marks them', () => {
    const book = priceBook('us-east-1', parsePriceOverrides(['endpoint.hour=0.02', 'ec2.m7g.large=0.0816']));
    expect(book['endpoint.hour']).toMatchObject({ usd: 0.02, overridden: true, assumption: false, source: '--price' });
    expect(book['ec2.m7g.large']!.usd).toBe(0.0816);
  });

  it('fails when a --price key is unknown', () => {
    expect(() => parsePriceOverrides(['nat.hours=1'])).toThrow(/--price: unknown price key "nat\.hours"; known keys: nat\.hour, nat\.gb/);
  });

  it('fails when a --price value is not a non-negative number', () => {
    expect(() => parsePriceOverrides(['nat.hour=-1'])).toThrow(
      /--price nat\.hour: expected an amount in USD from 0 to 1,000,000 such as 0\.014 \(got "-1"\)/,
    );
    expect(() => parsePriceOverrides(['nat.hour'])).toThrow(/--price expects key=value in USD/);
  });

  it('fails when the region has no prices', () => {
    expect(() => priceBook('eu-west-9')).toThrow(/no prices for region "eu-west-9": prices\.json covers ap-northeast-1, us-east-1/);
  });
});

describe('cost model', () => {
  it('prices scenario A (us-east-1, 10 VPCs × 100 GB, one NAT per VPC vs. a single-proxy hub)', () => {
    const book = infraBook('us-east-1');
    const r = estimate(scenarioA, book);
    expect(byId(r.baseline.items)).toEqual({
      'nat-hours': expect.closeTo(328.5, 6), // 10 NAT × 730 h = 7,300 h × $0.045
      'nat-gb': expect.closeTo(45, 6), // 10 × 100 GB = 1,000 GB × $0.045
      eips: expect.closeTo(36.5, 6), // 7,300 IP-h × $0.005
      'cross-az': expect.closeTo(10, 6), // half of 1,000 GB crosses to the NAT's AZ: 500 GB × 2 directions × $0.01
    });
    expect(r.baseline.total).toBeCloseTo(420, 6); // 328.5 + 45 + 36.5 + 10
    expect(byId(r.hub.items)).toEqual({
      'nat-hours': expect.closeTo(32.85, 6), // 1 NAT × 730 h × $0.045
      'nat-gb': expect.closeTo(45, 6), // 1,000 GB × $0.045
      'endpoint-hours': expect.closeTo(146, 6), // 10 endpoints × 2 AZs × 730 h = 14,600 × $0.01 (assumed)
      'endpoint-gb': expect.closeTo(10, 6), // 1,000 GB × $0.01
      proxies: expect.closeTo(12.264, 6), // 730 h × $0.0168
      eips: expect.closeTo(3.65, 6), // 730 IP-h × $0.005
      'cross-az': expect.closeTo(10, 6), // half of 1,000 GB lands on the gateway ENI in the proxy's other AZ: 500 × 2 × $0.01
    });
    expect(r.hub.total).toBeCloseTo(259.764, 6); // 32.85 + 45 + 146 + 10 + 12.264 + 3.65 + 10
    expect(r.savings).toBeCloseTo(160.236, 6); // 420 − 259.764
    expect(r.savingsPercent).toBeCloseTo(38.151, 3); // 160.236 / 420
    // Per VPC the baseline costs 32.85 + 4.5 + 3.65 + 1 = $42.00; the hub costs a fixed 32.85 + 12.264 + 3.65 = $48.764
    // plus 4.5 (NAT GB) + 14.6 (endpoint h) + 1 (endpoint GB) + 1 (cross-AZ) = $21.10 per VPC.
    // 42n ≥ 48.764 + 21.1n  ⇔  n ≥ 2.333  ⇒  3 VPCs.
    expect(r.breakEvenVpcs).toBe(3);
  });

  it('prices scenario B (Tokyo, per-AZ baseline in 3 AZs vs. an NLB fleet with a NAT per AZ, endpoint.hour overridden)', () => {
    const book = infraBook('ap-northeast-1', { 'endpoint.hour': 0.02 });
    const inputs: CostInputs = {
      region: 'ap-northeast-1',
      vpcs: 20,
      azsPerVpc: 3,
      gbPerVpc: 50,
      baseline: 'per-az',
      hub: {
        azs: 3,
        fleet: 'nlb',
        egress: 'per-az',
        instanceType: 't4g.small',
        endpointAzs: 2,
        attachment: 'endpoint',
        resourceConfigurations: 20,
        monitoring: MONITORING,
      },
    };
    const base = baselineBill(inputs, book);
    expect(byId(base.items)).toEqual({
      'nat-hours': expect.closeTo(2715.6, 6), // 20 VPCs × 3 NAT = 60 × 730 h = 43,800 h × $0.062
      'nat-gb': expect.closeTo(62, 6), // 1,000 GB × $0.062
      eips: expect.closeTo(219, 6), // 43,800 IP-h × $0.005; no cross-AZ line: every AZ has its NAT
    });
    const hub = hubBill(inputs, book);
    expect(byId(hub.items)).toEqual({
      'nat-hours': expect.closeTo(135.78, 6), // 3 NAT × 730 h = 2,190 h × $0.062
      'nat-gb': expect.closeTo(62, 6),
      'endpoint-hours': expect.closeTo(584, 6), // 20 × 2 AZs × 730 h = 29,200 × $0.02 (override)
      'endpoint-gb': expect.closeTo(10, 6),
      proxies: expect.closeTo(47.304, 6), // 3 × 730 h = 2,190 × $0.0216
      'nlb-hours': expect.closeTo(17.739, 6), // 730 h × $0.0243
      'nlb-lcu': expect.closeTo(6, 6), // 1,000 GB ⇒ 1,000 LCU-h × $0.006
      eips: expect.closeTo(10.95, 6), // 3 NAT EIPs × 730 h × $0.005
      'cross-az': expect.closeTo(13.3333, 3), // 2/3 of 1,000 GB reach another AZ's proxy: 666.67 × 2 × $0.01; NAT is local
    });
    expect(hub.total).toBeCloseTo(887.1063, 3);
  });

  it('prices scenario C (service network, public proxy IPs, no traffic): the hub costs more than 4 small VPCs', () => {
    const book = infraBook('us-east-1');
    const r = estimate(
      {
        region: 'us-east-1',
        vpcs: 4,
        azsPerVpc: 2,
        gbPerVpc: 0,
        baseline: 'per-vpc',
        hub: {
          azs: 2,
          fleet: 'multi-az',
          egress: 'public',
          instanceType: 't4g.small',
          endpointAzs: 2,
          attachment: 'service-network',
          resourceConfigurations: 2,
          monitoring: MONITORING,
        },
      },
      book,
    );
    // Baseline: 4 × 730 = 2,920 h × ($0.045 + $0.005) = $146.00.
    expect(r.baseline.total).toBeCloseTo(146, 6);
    expect(byId(r.hub.items)).toEqual({
      'endpoint-hours': expect.closeTo(146, 6), // 2 resource configurations × 730 h × $0.10 (assumed)
      proxies: expect.closeTo(24.528, 6), // 2 proxies × 730 h × $0.0168
      eips: expect.closeTo(7.3, 6), // 2 public proxy IPs × 730 h × $0.005; no NAT at all
    });
    expect(r.savings).toBeCloseTo(-31.828, 6); // 146 − 177.828
    // Baseline $36.50 per VPC vs. a fixed hub of $177.828: n ≥ 4.872 ⇒ 5.
    expect(r.breakEvenVpcs).toBe(5);
  });

  it('tiers resource endpoint data processing past 1 PB a month', () => {
    const book = infraBook('us-east-1');
    const pb = 1024 * 1024;
    const hub = hubBill({ ...scenarioA, vpcs: 2, gbPerVpc: pb }, book); // 2 PB in total
    const items = byId(hub.items);
    expect(items['endpoint-gb']).toBeCloseTo(pb * 0.01, 4); // first PB at $0.01
    expect(items['endpoint-gb-next-4pb']).toBeCloseTo(pb * 0.006, 4); // second PB at $0.006
    expect(items['endpoint-gb-over-5pb']).toBeUndefined();
  });

  it('finds no break-even when every added VPC costs the hub more than a NAT gateway', () => {
    // An endpoint in 3 AZs at $0.02/h costs 3 × 730 × 0.02 = $43.80 a month, more than one NAT gateway's $32.85 + $3.65.
    const book = infraBook('us-east-1', { 'endpoint.hour': 0.02 });
    expect(breakEvenVpcs({ ...scenarioA, gbPerVpc: 0, hub: { ...scenarioA.hub, endpointAzs: 3 } }, book)).toBeNull();
  });

  it('builds the sensitivity grid from the same bills', () => {
    const book = infraBook('us-east-1');
    const grid = sensitivity(scenarioA, book, [1, 10], [100]);
    // 10 VPCs × 100 GB is scenario A: $160.236. 1 VPC × 100 GB: baseline 42.00 vs. hub 48.764 + 21.10 = 69.864.
    expect(grid.savings[1]![0]).toBeCloseTo(160.236, 6);
    expect(grid.savings[0]![0]).toBeCloseTo(42 - 69.864, 6);
  });

  it('shows how the result moves with the assumed endpoint hourly rate', () => {
    const book = infraBook('us-east-1');
    const { key, rows } = assumptionSensitivity(scenarioA, book, [0, 0.01]);
    expect(key).toBe('endpoint.hour');
    // At $0 the 14,600 endpoint AZ-hours cost nothing: hub 259.764 − 146 = 113.764.
    expect(rows[0]!.hubTotal).toBeCloseTo(113.764, 6);
    expect(rows[1]!.hubTotal).toBeCloseTo(259.764, 6);
    // Per VPC the hub then adds only 4.5 + 1 + 1 = $6.50 against $42: 35.5n ≥ 48.764 ⇒ n ≥ 1.37 ⇒ 2.
    expect(rows[0]!.breakEvenVpcs).toBe(2);
    // Savings at $0/h: 420 − 113.764 = 306.236, lost at 14,600 endpoint AZ-hours × r ⇒ r = 306.236 / 14,600 = $0.020975/h.
    expect(assumptionSensitivity(scenarioA, book, []).breakEvenRate).toBeCloseTo(0.020975, 6);
  });

  it('fails when the VPC count is not a whole number', () => {
    expect(() => estimate({ ...scenarioA, vpcs: 2.5 }, infraBook('us-east-1'))).toThrow(
      /--vpcs must be a whole number ≥ 0 \(got 2\.5\); give the number of project VPCs/,
    );
  });

  it('fails when the instance type has no price', () => {
    expect(() => hubBill({ ...scenarioA, hub: { ...scenarioA.hub, instanceType: 'x9z.huge' } }, infraBook('us-east-1'))).toThrow(
      /no price for instance type x9z\.huge in this region; known: .*t4g\.small.*; add it with --price ec2\.x9z\.huge=<USD per hour>/,
    );
  });
});

describe('the bill counts monitoring', () => {
  it("prices scenario A's CloudWatch lines by hand", () => {
    const r = estimate(scenarioA, priceBook('us-east-1'));
    const m = Object.fromEntries(
      r.hub.items.filter((i) => MONITORING_KEYS.includes(i.priceKey)).map((i) => [i.id, [i.quantity, i.monthly]]),
    );
    expect(m).toEqual({
      // 1,000 GB at 64 KB per request = 15,625,000 lines × (230 + 26) bytes = 4.0 GB × $0.50
      'logs-ingest': [expect.closeTo(4, 6), expect.closeTo(2, 6)],
      // 90 days held = 3 months of 4 GB = 12 GB-month × $0.03
      'logs-store': [expect.closeTo(12, 6), expect.closeTo(0.36, 6)],
      // 4 hub-wide + lost access-log lines + 1 proxy health (single) + the hub's egress series = 7 × $0.30
      'cw-metrics': [7, expect.closeTo(2.1, 6)],
      // capacity (2 metrics) + health (1) + no egress (1) + NAT port allocation (1) and drops (3) + denied spike (1)
      // + lost log lines (1) = 10 × $0.10
      'cw-alarms': [10, expect.closeTo(1.0, 6)],
      'cw-dashboard': [1, 3],
      'ci-rules': [4, 2],
      // 3 rules match every line: 46.875 million × $0.02
      'ci-events': [expect.closeTo(46.875, 6), expect.closeTo(0.9375, 6)],
    });
    // The resource gateway has no published charge: a $0 line that keeps the assumption visible.
    expect(r.hub.items.find((i) => i.id === 'resource-gateway')).toMatchObject({ quantity: 730, monthly: 0 });
    expect(r.hub.total).toBeCloseTo(259.764 + 11.3975, 6);
  });

  it("the line size is the mean of the lab's real access-log lines (within 20 %)", () => {
    const lines = ['lab-bench.log', 'lab-matrix.log'].flatMap((f) =>
      readFileSync(`test/usage/fixtures/${f}`, 'utf8').split('\n').filter(Boolean),
    );
    const mean = lines.reduce((a, l) => a + l.length + 1, 0) / lines.length;
    expect(Math.abs(mean - ACCESS_LOG_LINE_BYTES) / mean).toBeLessThan(0.2);
  });

  it('opted-in tenants add 4 metrics each and one alarm', () => {
    const base = monitoringCounts(scenarioA.hub);
    const opted = monitoringCounts({ ...scenarioA.hub, monitoring: { ...MONITORING, tenantMetrics: 5 } });
    expect(opted.customMetrics - base.customMetrics).toBe(20);
    expect(opted.alarmMetrics - base.alarmMetrics).toBe(1);
  });
});

describe('a regional NAT gateway: both readings of its hours', () => {
  const book = infraBook('us-east-1');
  /** Scenario A with a proxy in each of 3 AZs behind one regional NAT gateway. */
  const regional: CostInputs = { ...scenarioA, hub: { ...scenarioA.hub, azs: 3, fleet: 'multi-az', egress: 'regional' } };

  it('bills one NAT gateway-hour per AZ served by default, an EIP per AZ, and no cross-AZ trip to the NAT', () => {
    expect(byId(hubBill(regional, book).items)).toMatchObject({
      'nat-hours': expect.closeTo(98.55, 6), // 3 AZs × 730 h = 2,190 NAT gateway AZ-h × $0.045
      'nat-gb': expect.closeTo(45, 6), // 1,000 GB × $0.045
      eips: expect.closeTo(10.95, 6), // automatic mode: an address in each of 3 AZs × 730 h × $0.005
      'cross-az': expect.closeTo(13.3333, 3), // only gateway ENI → proxy: 2/3 of 1,000 GB × 2 × $0.01; the NAT is in every AZ
    });
    // With `one`, the proxies outside the NAT's AZ cross again: 2 × 666.67 GB × 2 × $0.01 in all.
    expect(byId(hubBill({ ...regional, hub: { ...regional.hub, egress: 'one' } }, book).items)['cross-az']).toBeCloseTo(26.6667, 3);
  });

  it('per gateway bills a third of the hours of per AZ served in three AZs; the two readings differ by exactly that', () => {
    const [perAz, perGateway] = natBillingReadings(regional, book);
    expect([perAz!.reading, perGateway!.reading]).toEqual(['per-az', 'per-gateway']);
    expect(perAz!.hubTotal).toBeCloseTo(estimate(regional, book).hub.total, 6);
    // 2 × 730 h × $0.045 = $65.70 fewer.
    expect(perAz!.hubTotal - perGateway!.hubTotal).toBeCloseTo(65.7, 6);
    expect(perGateway!.savings - perAz!.savings).toBeCloseTo(65.7, 6);
  });

  it('shows no NAT readings for zonal or public egress, and alarms one NAT gateway', () => {
    expect(natBillingReadings(scenarioA, book)).toEqual([]);
    expect(monitoringCounts(regional.hub).alarmMetrics - monitoringCounts({ ...regional.hub, egress: 'one' }).alarmMetrics).toBe(0);
  });
});

describe('both endpoint-hour readings, the cheapest attachment, and the alternatives', () => {
  const book = infraBook('us-east-1');

  it('per endpoint bills half the hours of per endpoint per AZ with two AZs', () => {
    const [perAz, perEndpoint] = endpointBillingReadings(scenarioA, book);
    expect(perAz!.reading).toBe('per-az');
    expect(perAz!.hubTotal).toBeCloseTo(259.764, 6);
    // 10 endpoints × 730 h × $0.01 = $73 instead of $146.
    expect(perEndpoint!.hubTotal).toBeCloseTo(259.764 - 73, 6);
    expect(perEndpoint!.savings - perAz!.savings).toBeCloseTo(73, 6);
  });

  it('names the cheapest attachment: 20 endpoint AZ-hours per VPC-hour beat 10 resource configurations at $0.10', () => {
    const [first, second] = attachmentOptions(scenarioA, book);
    expect(first!.attachment).toBe('endpoint');
    // Service network: 10 configurations × 730 × $0.10 = $730 and $0.01/GB, against $146 + $10 of endpoints.
    expect(second!.hubTotal - first!.hubTotal).toBeCloseTo(730 - 146, 6);
  });

  it('prices the alternatives by hand and says which ones serve overlapping VPCs', () => {
    const a = Object.fromEntries(alternatives(scenarioA, book).map((x) => [x.id, x]));
    expect(a['nat-gateway-per-vpc']!.bill.total).toBeCloseTo(420, 6);
    // 10 × t4g.nano 730 h × $0.0042 = 30.66; 10 EIPs 36.5; cross-AZ as the baseline 10.
    expect(a['nat-instance-per-vpc']!.bill.total).toBeCloseTo(30.66 + 36.5 + 10, 6);
    // 11 attachments × 730 × $0.05 = 401.5; 1,000 GB × $0.02 = 20; 2 NAT × 730 × $0.045 = 65.7; NAT GB 45; 2 EIPs 7.3.
    expect(a['shared-nat-tgw']!.bill.total).toBeCloseTo(401.5 + 20 + 65.7 + 45 + 7.3, 6);
    expect(a['shared-nat-tgw']!.overlappingVpcs).toBe(false);
    // 10 VPCs × 2 AZs × 730 × $0.395 = 5,767; 1,000 GB × $0.065 = 65.
    expect(a['network-firewall-proxy']!.bill.total).toBeCloseTo(5767 + 65, 6);
    expect(a.egresshub!.bill.total).toBeCloseTo(259.764, 6);
    expect(
      Object.values(a)
        .filter((x) => x.overlappingVpcs)
        .map((x) => x.id),
    ).toEqual(['nat-gateway-per-vpc', 'nat-instance-per-vpc', 'network-firewall-proxy', 'egresshub']);
  });
});
