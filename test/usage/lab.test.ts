// End to end: the usage report on an access log that the lab's real Squid wrote while the lab matrix
// ran both example tenants through it. Needs root; holds the lab lock, and waits while another lab
// (a benchmark run without the lock) still has its namespaces up, rather than tearing it down.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile } from '../../src/config';
import { ACCESS_LOG_TRANSFORMER, TOP_TENANT_RULES, topTenantsRuleBody } from '../../src/hub/observability';
import { labDown, labUp } from '../../src/lab/lab';
import { labNamespaces, labPaths } from '../../src/lab/state';
import { accessLogLength, runMatrix, type MatrixRow } from '../../src/lab/matrix';
import { usageReport, type UsageReport } from '../../src/usage';
import { contributions, transform } from '../observability/emulate';
import { runCli } from '../support/cli';
import { acquireLabLock } from '../support/lab-lock';

const quiet = () => {};
const plan = buildPlan(loadConfigFile('examples/egresshub.yaml'));
const FOREIGN_LAB_WAIT_MS = 10 * 60_000;

let release: (() => void) | undefined;
let built = false;
beforeAll(async () => {
  release = await acquireLabLock();
  // Namespaces while we hold the lock belong to someone who did not take it: wait for them, bounded.
  const deadline = Date.now() + FOREIGN_LAB_WAIT_MS;
  while (labNamespaces().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20_000));
  if (labNamespaces().length > 0)
    throw new Error(`another lab (${labNamespaces().join(', ')}) stayed up for 10 minutes; not tearing it down`);
  built = true;
}, FOREIGN_LAB_WAIT_MS + 60_000);
afterAll(async () => {
  try {
    if (built) await labDown(quiet);
  } finally {
    release?.();
  }
});

describe('usage report on the lab access log (root, real Squid)', () => {
  let lines: string[] = [];
  let rows: MatrixRow[] = [];
  let file = '';

  it('runs the matrix and copies the lines Squid wrote', async () => {
    const { topo } = await labUp(plan, 'examples/egresshub.yaml', quiet);
    const from = accessLogLength(topo);
    rows = runMatrix(topo);
    lines = readFileSync(labPaths().accessLog, 'utf8').split('\n').filter(Boolean).slice(from);
    file = join(mkdtempSync(join(tmpdir(), 'egresshub-usage-lab-')), 'access.log');
    writeFileSync(file, `${lines.join('\n')}\n`);
    expect(lines.length).toBeGreaterThan(40);
  }, 300_000);

  it('per tenant: requests, decisions and bytes equal counts taken from the raw lines', () => {
    const r = usageReport(lines);
    expect(r.malformed).toBe(0);
    const num = (l: string, k: string) => Number(new RegExp(`(?:^| )${k}=(\\d+)`).exec(l)?.[1] ?? 0);
    for (const t of plan.tenants) {
      const mine = lines.filter((l) => l.includes(` tenant=${t.name} `));
      const got = r.tenants.find((x) => x.tenant === t.name)!;
      expect({
        tenant: t.name,
        requests: got.requests,
        allowed: got.allowed,
        denied: got.denied,
        bytesIn: got.bytesIn,
        bytesOut: got.bytesOut,
      }).toEqual({
        tenant: t.name,
        requests: mine.length,
        allowed: mine.filter((l) => l.includes(' decision=allowed ')).length,
        denied: mine.filter((l) => l.includes(' decision=denied ')).length,
        bytesIn: mine.reduce((n, l) => n + num(l, 'bytes_in'), 0),
        bytesOut: mine.reduce((n, l) => n + num(l, 'bytes_out'), 0),
      });
      // And every request a client made that reached Squid is one counted request of its tenant.
      const reached = rows.filter((x) => x.tenant === t.name).flatMap((x) => Object.values(x.got).filter((g) => g !== 'no-connect')).length;
      expect(got.requests).toBe(reached);
      expect(got.denied).toBeGreaterThan(0);
      expect(got.topDenials.map((d) => d.rule)).toContain('blocked-destination');
    }
    // project-a has an allowlist: the matrix's unlisted name is its denial, never project-b's ("*").
    const rules = (name: string) => r.tenants.find((x) => x.tenant === name)!.topDenials.map((d) => d.rule);
    expect(
      usageReport(lines, { top: 100 })
        .tenants.find((x) => x.tenant === 'project-a')!
        .topDenials.map((d) => d.rule),
    ).toContain('not-allowlisted');
    expect(rules('project-b')).not.toContain('not-allowlisted');
  });

  it('the CLI prints the same report from the copied file', async () => {
    const cli = await runCli('usage', '--log', file, '--format', 'json', '--top', '100');
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout) as UsageReport).toEqual(JSON.parse(JSON.stringify(usageReport(lines, { top: 100 }))));
  });

  it('the Contributor Insights rules (emulated) rank tenants by the same numbers', () => {
    const r = usageReport(lines);
    const events = lines.map((l) => transform(l, ACCESS_LOG_TRANSFORMER));
    const by = new Map(TOP_TENANT_RULES.map((rule) => [rule.id, contributions(topTenantsRuleBody('g', rule), events)]));
    for (const t of r.tenants) {
      expect([t.tenant, ...['Requests', 'Denied', 'BytesIn', 'BytesOut'].map((id) => by.get(id)!.get(t.tenant) ?? 0)]).toEqual([
        t.tenant,
        t.requests,
        t.denied,
        t.bytesIn,
        t.bytesOut,
      ]);
    }
  });
});
