// lab fault origin-blackhole: an origin one tenant may reach drops SYNs while that tenant hammers it with bounded
// waves of CONNECTs. Another tenant's load and the same tenant's load to a healthy origin see no failure; Squid's
// descriptors come back to where they were once its connect_timeout has passed; nothing is withdrawn.
import { describe, expect, it } from 'vitest';
import { buildPlan, loadConfigFile } from '../../../src/config';
import { setSupervisorSettings } from '../../../src/lab/fleet';
import { labUp } from '../../../src/lab/lab';
import { HAMMER, originBlackhole } from '../../../src/lab/faults/origin-blackhole';
import { FAULTS } from '../../../src/lab/faults';
import { holdLabForThisFile } from '../../support/lab-lock';

const CONFIG = 'examples/egresshub.yaml';
const quiet = () => {};
holdLabForThisFile();

interface Use {
  fds: number;
  rssKb: number;
}

describe('lab fault origin-blackhole (root, real Squid)', () => {
  it('costs the other tenants nothing and gives the descriptors back', async () => {
    const plan = buildPlan(loadConfigFile(CONFIG));
    const { topo } = await labUp(plan, CONFIG, quiet);
    setSupervisorSettings(topo, { intervalMs: 500, unhealthyThreshold: 2, healthyThreshold: 2 });
    expect(FAULTS).toContain(originBlackhole);
    const r = await originBlackhole.run({ plan, configFile: CONFIG, step: quiet });
    console.log(JSON.stringify(r));
    const b = r.blackholed as { tenant: string; attempts: number; outcomes: Record<string, number>; synsDropped: number };
    expect(b.tenant).toBe('project-b');
    // The blackhole really swallowed the hammer's connections, and no attempt got through.
    expect(b.synsDropped).toBeGreaterThan(0);
    expect(Object.values(b.outcomes).reduce((a, n) => a + n, 0)).toBe(HAMMER.waves * HAMMER.parallel);
    expect(Object.keys(b.outcomes).every((o) => !o.endsWith(' 200'))).toBe(true);
    // The other loads (another tenant, and the same tenant to a healthy origin) lost nothing.
    expect(r.requests).toBeGreaterThan(200);
    expect(r.failed).toBe(0);
    const loads = r.loads as Record<string, { requests: number; failed: number }>;
    expect(Object.keys(loads).sort()).toEqual(['project-a', 'project-b']);
    for (const l of Object.values(loads)) expect(l.requests).toBeGreaterThan(50);
    // Descriptors held for blackholed connections are released once Squid's connect_timeout has passed.
    for (const s of Object.values(r.squid as Record<string, { before: Use; peak: Use; after: Use }>)) {
      expect(s.peak.fds).toBeGreaterThan(s.before.fds);
      expect(s.after.fds).toBeLessThanOrEqual(s.before.fds + 10);
    }
    expect(r.withdrawn).toEqual([]);
  });
});
