// The fleet-mode seam holds: every mode of MODES answers every question the code asks of a mode, the list drives
// the config's enum, the plan, the cost CLI's choices and the bill, the CDK-free side loads no CDK, and no code
// outside the mode files compares a mode's name (docs/architecture.md, "How to add … A fleet mode").
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { cost, costInputs } from '../../src/cli/commands/cost';
import { DEFAULT_INSTANCE_TYPES, PROXY_MODES as SCHEMA_MODES } from '../../src/config';
import { fleetMode, fleetModeNamed, MODES, PROXY_MODES } from '../../src/config/fleet-modes';
import { hubBill, monitoringCounts } from '../../src/cost/model';
import { proxyReplacementWarning } from '../../src/diff/diff';
import { renderSquidConf } from '../../src/policy';
import { NLB_HEALTH_LISTENER } from '../../src/policy/squid-conf';
import { HOURS_PER_MONTH, priceBook, PRICED_REGIONS } from '../../src/cost/prices';
import { buildTopology } from '../../src/lab/topology';
import { planOf, variantConfig } from '../support/stack';

const NAMES = MODES.map((m) => m.name);

describe('every fleet mode answers every question', () => {
  it.each(NAMES)('%s', (name) => {
    const m = fleetMode(name);
    expect(m.name).toBe(name);
    expect(fleetModeNamed(name)).toBe(m);
    expect(m.summary.length).toBeGreaterThan(0);
    expect(m.describe(3).length).toBeGreaterThan(0);
    // The drain the policy rollout runs exists as a script.
    expect(existsSync(`src/hub/scripts/drain-${m.drain}.sh`)).toBe(true);
    expect(['failover', 'spread']).toContain(m.labRouting);
    expect(['rolling', 'interruption']).toContain(m.replacement);
    for (const azs of [1, 2, 3, 6]) {
      const fixed = m.fixedProxyAzs(Array.from({ length: azs }, (_, i) => i));
      expect(fixed.length).toBe(m.cost.fixedProxies(azs));
      expect(fixed.every((i, k) => i === k)).toBe(true);
      for (const n of [m.cost.proxies(azs), m.cost.fixedProxies(azs), m.cost.autoScalingGroups(azs)]) {
        expect(Number.isInteger(n) && n >= 0).toBe(true);
      }
      expect(m.cost.proxies(azs)).toBeGreaterThanOrEqual(1);
      expect(m.cost.autoScalingGroups(azs)).toBeGreaterThanOrEqual(1);
    }
  });

  it('knows no mode by another name', () => {
    expect(fleetModeNamed('bogus')).toBeUndefined();
    expect(new Set(NAMES).size).toBe(NAMES.length);
  });
});

describe('the list drives every mode union and choice', () => {
  it('the config schema and the instance-type defaults', () => {
    expect([...SCHEMA_MODES]).toEqual(NAMES);
    expect(Object.keys(DEFAULT_INSTANCE_TYPES).sort()).toEqual([...NAMES].sort());
  });

  it('refuses a mode outside the list, naming every mode of it', () => {
    let message = '';
    try {
      planOf(variantConfig('bogus', 'nat'));
    } catch (e) {
      message = (e as Error).message;
    }
    for (const name of NAMES) expect(message).toContain(name);
  });

  it.each(NAMES)('%s: the plan, the policy rollout, squid.conf and the lab ask the mode', (name) => {
    const plan = planOf(variantConfig(name, 'nat'));
    const m = fleetMode(name);
    expect(plan.hub.proxy.mode).toBe(name);
    expect(plan.hub.proxy.fixed.map((f) => f.availabilityZone)).toEqual(m.fixedProxyAzs(plan.hub.availabilityZones));
    expect(renderSquidConf(plan).includes(`name=${NLB_HEALTH_LISTENER.name}`)).toBe(m.nlbHealthListener);
    expect(buildTopology(plan, '/tmp/egresshub-mode-seam').routing).toBe(m.labRouting);
  });

  it("the cost CLI's --fleet choices and help", () => {
    const cmd = new Command('cost');
    cost.configure!(cmd);
    const fleet = cmd.options.find((o) => o.long === '--fleet');
    expect(fleet?.argChoices).toEqual([...PROXY_MODES]);
    for (const m of MODES) expect(fleet?.description).toContain(m.summary);
  });

  it.each(NAMES)('%s: the bill and the monitoring counts follow the cost inputs', (name) => {
    const m = fleetMode(name);
    const inputs = costInputs({ region: PRICED_REGIONS[0], vpcs: '10', gbPerVpc: '50', hubAzs: '3', fleet: name });
    expect(inputs.hub.fleet).toBe(name);
    const book = priceBook(PRICED_REGIONS[0]!);
    const items = new Map(hubBill(inputs, book).items.map((i) => [i.id, i.quantity]));
    expect(items.get('nlb-hours')! > 0).toBe(m.cost.loadBalancer);
    expect(items.get('proxies')).toBe(m.cost.proxies(3) * HOURS_PER_MONTH);
    expect(monitoringCounts(inputs.hub).compositeAlarms).toBe(m.cost.fixedProxies(3) >= 2 ? 1 : 0);
  });

  it.each(NAMES)("%s: diff's replacement warning", (name) => {
    const warning = proxyReplacementWarning(name);
    expect(warning.includes('no interruption')).toBe(fleetMode(name).replacement === 'rolling');
  });
});

// ---------------------------------------------------------------- no mode names outside the mode files

const MODE_NAME = NAMES.map((n) => n.replace(/[-]/g, '\\-')).join('|');
/** A comparison with a mode's name, or a `case` on one: the decisions that belong to the mode. */
const COMPARISON = new RegExp(
  `(?:[!=]==\\s*['"\`](?:${MODE_NAME})['"\`])|(?:['"\`](?:${MODE_NAME})['"\`]\\s*[!=]==)|(?:\\bcase\\s+['"\`](?:${MODE_NAME})['"\`])`,
);
/** Where a mode's name may be compared: the mode files, and the places the compiler checks or that are not modes. */
const ALLOWED: readonly { file: RegExp; line?: string; why: string }[] = [
  { file: /^src\/(config|hub)\/fleet-modes\//, why: 'the modes themselves' },
  { file: /^src\/config\/plan\.ts$/, line: 'case ', why: "proxyPlanOf's exhaustive switch over ProxyPlan (each mode's plan shape)" },
  {
    file: /^src\/config\/checks\.ts$/,
    why: "the config checks of mode-specific fields (scaling is nlb's, multi-az needs two AZs): to move to the descriptors",
  },
  {
    file: /^src\/cli\/commands\/lab\.ts$/,
    line: "r.mode === 'single'",
    why: "the lab replacement's kind (one proxy or rolling), not a fleet mode",
  },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Comparisons with a mode's name in `text`, comments left out. */
function comparisons(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l))
    .filter((l) => COMPARISON.test(l))
    .map((l) => l.trim());
}

describe('no code outside the mode files decides by mode name', () => {
  it('finds a comparison where one is written', () => {
    expect(comparisons("  if (plan.hub.proxy.mode === 'nlb') {")).toHaveLength(1);
    expect(comparisons('  return mode !== "single" ? a : b;')).toHaveLength(1);
    expect(comparisons("    case 'multi-az':")).toHaveLength(1);
    expect(comparisons("  // proxy.mode === 'nlb' in a comment")).toHaveLength(0);
    expect(comparisons("  const routing = 'failover';")).toHaveLength(0);
  });

  it('src/ has none outside the allowed places', () => {
    const found = sourceFiles('src').flatMap((file) =>
      comparisons(readFileSync(file, 'utf8'))
        .filter((line) => !ALLOWED.some((a) => a.file.test(file) && (a.line === undefined || line.includes(a.line))))
        .map((line) => `${file}: ${line}`),
    );
    expect(found).toEqual([]);
  });

  it('the CDK-free side loads no CDK, and the cost, lab, policy, diff and CLI code reach modes only through it', () => {
    for (const file of sourceFiles('src/config/fleet-modes')) {
      const imports = [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      expect(imports.filter((i) => !i.startsWith('./'))).toEqual([]);
    }
    for (const dir of ['src/cost', 'src/lab', 'src/policy', 'src/diff', 'src/cli']) {
      for (const file of sourceFiles(dir)) {
        expect(readFileSync(file, 'utf8'), file).not.toMatch(/from '[^']*hub\/fleet-modes/);
      }
    }
  });
});
