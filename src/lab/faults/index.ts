// The fault suite's registry: one file per fault in this folder, listed here.
import type { Fault } from './fault';
import { idleTimeout } from './idle-timeout';

export type { Fault, FaultContext, FaultResult } from './fault';

/** Every fault `egresshub lab fault` knows, in the order docs/reliability.md lists them. */
export const FAULTS: readonly Fault[] = [idleTimeout];
