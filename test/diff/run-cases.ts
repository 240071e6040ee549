// Runs the config-change cases (cases.ts) against real synthesized apps: the example config (or the
// case's starting variant) before, the edited config after, and the diff `egresshub diff` would show.
import { describe, expect, it } from 'vitest';
import { spokeStackId } from '../../src/app';
import { diffApps, handoffsOf, refusedChanges, snapshotOf, type AppDiff, type AppSnapshot, type ResourceChange } from '../../src/diff';
import { protectedReason } from '../../src/diff/protected';
import { exampleConfig, planOf } from '../support/stack';
import { CASES, type Config, type DiffCase, type TypeCounts } from './cases';
import { judge, type Judgement } from './judge';

/** Protected resources by CloudFormation type. */
export function countsByType(changes: readonly ResourceChange[]): TypeCounts {
  const counts: Record<string, number> = {};
  for (const r of changes) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
}

const snapshots = new Map<string, AppSnapshot>();

/** The app synthesized from a config; one synth per distinct config in this test file. */
export function snapshotFor(config: Config): AppSnapshot {
  const key = JSON.stringify(config);
  let s = snapshots.get(key);
  if (!s) {
    s = snapshotOf(planOf(config as unknown as Record<string, unknown>));
    snapshots.set(key, s);
  }
  return s;
}

function configsOf(c: Pick<DiffCase, 'from' | 'edit'>): [Config, Config] {
  const start = exampleConfig() as unknown as Config;
  c.from?.(start);
  const edited = structuredClone(start);
  c.edit(edited);
  return [start, edited];
}

/** The diff of one case: its starting config against the edited one. */
export function diffOf(c: Pick<DiffCase, 'from' | 'edit'>): AppDiff {
  return judged(c).diff;
}

/** The diff and the independent judgement (judge.ts) of one case, from the same two synths. */
export function judged(c: Pick<DiffCase, 'from' | 'edit'>): { diff: AppDiff; judgement: Judgement; after: AppSnapshot } {
  const [start, edited] = configsOf(c);
  const before = snapshotFor(start);
  const after = snapshotFor(edited);
  return { diff: diffApps(before, after, handoffsOf(after.plan, spokeStackId)), judgement: judge(before, after), after };
}

/**
 * The catalogue's invariants, judged from the registry data by judge.ts (not by src/diff): no consumer of a
 * changed value is left with an unchanged template; no replaced resource keeps a fixed name (unless the
 * case expects diff to refuse it); proxies are replaced only when the change asks for it; and diff says the same.
 */
export function checkCatalogue(c: DiffCase, d: AppDiff, j: Judgement, after: AppSnapshot): void {
  expect(j.stale, 'consumers left with an unchanged template').toEqual([]);
  expect(d.stacks.filter((s) => s.stale).map((s) => s.stackName)).toEqual([]);
  const problems = c.problems ?? [];
  expect(j.fixedNames.length > 0, `replaced resources with fixed names: ${j.fixedNames.join(', ')}`).toBe(problems.includes('fixed-name'));
  expect(j.subnetConflicts.length > 0, `subnet conflicts: ${j.subnetConflicts.join(', ')}`).toBe(problems.includes('subnet-conflict'));
  expect([...new Set(d.problems.map((p) => p.kind))].sort()).toEqual([...problems].sort());
  expect(j.proxiesReplaced.length > 0, `proxies replaced: ${j.proxiesReplaced.join(', ')}`).toBe(c.replacesProxies ?? false);
  expect(d.proxies.length > 0).toBe(c.replacesProxies ?? false);
  // Every cross-account value that changes has a rollout (the operator hands it over), and no other.
  const handed = handoffsOf(after.plan, spokeStackId).flatMap((h) =>
    after.stacks.flatMap((p) =>
      [...p.paths].filter(([, path]) => path.endsWith(h.outputPathSuffix)).map(([id]) => `${h.consumerStackId} ${p.stackName}#${id}`),
    ),
  );
  const mustRoll = handed.filter((h) => j.changedOutputs.has(h.split(' ')[1]!) && after.stacks.some((s) => s.id === h.split(' ')[0]));
  expect(d.rollouts.map((r) => `${r.consumerStackId} ${r.producerStackName}#${r.outputName}`).sort()).toEqual(mustRoll.sort());
  // Diff's replacements of what users hold are exactly the judge's (stacks that stay; new stacks aside; a
  // cross-account spoke's endpoint is replaced when the operator rolls the new ARN).
  const key = (r: ResourceChange) => `${r.stack}/${r.logicalId}`;
  const rolled = new Set(d.rollouts.map((r) => r.consumerStackName));
  const fromDiff = d.replacedProtected
    .filter((r) => !r.replacedBy.includes('(new stack)') && !r.replacedBy.includes('(moves stack)') && !rolled.has(r.stack))
    .map(key);
  const fromJudge = [...j.replaced].filter((k) => {
    const [stack, id] = k.split('/') as [string, string];
    return protectedReason(after.stacks.find((x) => x.stackName === stack)?.template.Resources?.[id]) !== undefined;
  });
  expect(fromDiff.sort()).toEqual(fromJudge.sort());
  // A stack diff calls unchanged is one the CDK skips; one it calls changed is one the CDK deploys.
  for (const s of d.stacks.filter((x) => (x.status === 'unchanged' || x.status === 'changed') && !rolled.has(x.stackName))) {
    expect(j.deployed.has(s.stackName), `${s.stackName} is ${s.status}`).toBe(s.status === 'changed');
  }
}

/** One `it` per case of this part: exactly the protected replacements and removals it declares. */
export function describeCases(part: DiffCase['part'], checks: Readonly<Record<string, (d: AppDiff) => void>> = {}): void {
  describe(`egresshub diff: which config changes replace what users hold (${part})`, () => {
    for (const c of CASES.filter((x) => x.part === part)) {
      if (c.pending) {
        // The behaviour is not built yet (c.pending names the missing piece): enable the case when it lands.
        it.todo(`${c.change} (pending: ${c.pending})`);
        continue;
      }
      if (c.refused) {
        it(`${c.change} (refused)`, () => {
          const [start, edited] = configsOf(c);
          // Refused by validation (one config), or by diff (the pair).
          let refused: string[];
          try {
            refused = refusedChanges(
              planOf(start as unknown as Record<string, unknown>),
              planOf(edited as unknown as Record<string, unknown>),
            );
          } catch (e) {
            refused = [(e as Error).message];
          }
          expect(refused.join('\n')).toMatch(c.refused!);
        });
        continue;
      }
      it(c.change, () => {
        const { diff: d, judgement, after } = judged(c);
        checkCatalogue(c, d, judgement, after);
        expect(d.counts.add + d.counts.update + d.counts.replace + d.counts['may-replace'] + d.counts.remove).toBeGreaterThan(0);
        expect({ replaces: countsByType(d.replacedProtected), removes: countsByType(d.removedProtected) }).toEqual({
          replaces: c.replaces,
          removes: c.removes ?? {},
        });
        expect(d.summary).toMatch(Object.keys(c.replaces).length === 0 ? /^nothing users hold is replaced/ : /^REPLACES: /);
        checks[c.change]?.(d);
      });
    }
  });
}

/** The resources of one stack (by construct ID prefix, e.g. `Hub`, `Tenants-`) that changed. */
export function changesIn(d: AppDiff, stackId: string): ResourceChange[] {
  return d.stacks.filter((s) => s.id === stackId || (stackId.endsWith('-') && s.id.startsWith(stackId))).flatMap((s) => s.resources);
}
