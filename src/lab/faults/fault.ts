// What every lab fault is: a named experiment that breaks one thing on the emulated hub under load and measures
// what tenants saw. `egresshub lab fault <name> [--json]` runs one; each also has a lab test under test/lab/faults/.
import type { EgressPlan } from '../../config';
import type { Step } from '../lab';

/** One fault's outcome: the JSON `lab fault --json` prints on one line. Faults add fields of their own. */
export interface FaultResult {
  /** The fault's name, as on the command line. */
  readonly fault: string;
  /** Requests the load sent during the experiment. */
  readonly requests: number;
  /** Requests that failed (no answer, or an answer the policy does not explain). */
  readonly failed: number;
  /** Requests that failed after the hub detected the fault (after `detectMs`): what the hub's reaction left. */
  readonly failedAfterDetect: number;
  /** Milliseconds from injecting the fault to the hub's reaction; null when the hub is not meant to react. */
  readonly detectMs: number | null;
  readonly [extra: string]: unknown;
}

export interface FaultContext {
  readonly plan: EgressPlan;
  /** The config file the plan came from (the lab records it). */
  readonly configFile: string;
  /** Progress lines (stderr). */
  readonly step: Step;
}

export interface Fault {
  /** kebab-case; the CLI argument. */
  readonly name: string;
  /** One line for `lab fault --help` and docs/reliability.md. */
  readonly summary: string;
  /** Builds (or reuses) the lab, injects the fault under load, undoes it, and measures. Never leaves the fault in place. */
  run(ctx: FaultContext): Promise<FaultResult>;
}
