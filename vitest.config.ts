import { defineConfig } from 'vitest/config';

/**
 * Tests that build network namespaces and run real Squid (root, Linux): `EGRESSHUB_TEST_SCOPE=unit` leaves
 * them out, which is how CI runs the rest on the other supported Node versions (.ci/run).
 */
const LAB_TESTS = [
  'test/lab/**',
  'test/doctor/lab.test.ts',
  'test/usage/lab.test.ts',
  'test/hub/bootstrap.test.ts',
  'test/hub/health-probe.test.ts',
  'test/hub/policy-rollout.test.ts',
  'test/hub/user-data.test.ts',
  'test/policy/nlb-health-listener.test.ts',
  'test/policy/log-disk-full.test.ts',
];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fails the run if the suite changed the host outside its temporary directories and namespaces.
    globalSetup: ['test/support/host-guard.ts'],
    exclude: ['**/node_modules/**', ...(process.env.EGRESSHUB_TEST_SCOPE === 'unit' ? LAB_TESTS : [])],
    // CDK synthesis and the lab are CPU-heavy; two cores is what CI has.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
