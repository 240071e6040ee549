// The fault suite's registry: one file per fault in this folder, listed here.
import { dnsLoss } from './dns-loss';
import { egressLoss } from './egress-loss';
import { egressLossAll } from './egress-loss-all';
import type { Fault } from './fault';
import { idleTimeout } from './idle-timeout';
import { originBlackhole } from './origin-blackhole';
import { logDiskFullFault } from './log-disk-full';

export type { Fault, FaultContext, FaultResult } from './fault';

/** Every fault `egresshub lab fault` knows, in the order docs/reliability.md lists them. */
export const FAULTS: readonly Fault[] = [logDiskFullFault, egressLoss, egressLossAll, dnsLoss, originBlackhole, idleTimeout];
