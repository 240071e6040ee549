// Runs the config-change cases (cases.ts) against real synthesized apps: the example config (or the
// case's starting variant) before, the edited config after, and the diff `egresshub diff` would show.
import { describe, expect, it } from 'vitest';
import { spokeStackId } from '../../src/app';
import { diffApps, handoffsOf, snapshotOf, type AppDiff, type AppSnapshot, type ResourceChange } from '../../src/diff';
import { exampleConfig, planOf } from '../support/stack';
import { CASES, type Config, type DiffCase, type TypeCounts } from './cases';

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

/** The diff of one case: its starting config against the edited one. */
export function diffOf(c: Pick<DiffCase, 'from' | 'edit'>): AppDiff {
  const start = exampleConfig() as unknown as Config;
  c.from?.(start);
  const edited = structuredClone(start);
  c.edit(edited);
  const after = snapshotFor(edited);
  return diffApps(snapshotFor(start), after, handoffsOf(after.plan, spokeStackId));
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
      it(c.change, () => {
        const d = diffOf(c);
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
