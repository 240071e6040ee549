// vitest global setup: records the host state the suite could touch (test/support/host-state.ts) before the run and
// fails the run, naming each difference, if the suite left it otherwise. EGRESSHUB_HOST_GUARD=off skips it (for a
// run beside other work on the same host, e.g. a lab demo in another terminal).
import { hostChanges, hostState } from './host-state';

export default function setup(): (() => void) | undefined {
  if (process.env.EGRESSHUB_HOST_GUARD === 'off') return undefined;
  const before = hostState();
  return () => {
    const changes = hostChanges(before, hostState());
    if (changes.length === 0) return;
    // vitest reports an error thrown here but still exits 0: the exit code is set here, so the run fails.
    process.exitCode = 1;
    throw new Error(
      `the test suite left the host changed (tests may write only to their temporary directories, their own network ` +
        `namespaces and the lab state directory, and must remove what they made):\n  ${changes.join('\n  ')}\n` +
        `(+ left behind, - removed, ~ changed; EGRESSHUB_HOST_GUARD=off skips this check when other work shares the host)`,
    );
  };
}
