// The fault suite's registry: one file per fault in this folder, listed here.
import type { Fault } from './fault';
import { logDiskFullFault } from './log-disk-full';

export type { Fault, FaultContext, FaultResult } from './fault';

/** Every fault `egresshub lab fault` knows, in the order docs/reliability.md lists them. */
export const FAULTS: readonly Fault[] = [logDiskFullFault];
