// The health probe the lab's supervisor runs inside each proxy namespace: the instances' own (`proxy_healthy PORT
// DRAIN_FILE`, then `egress_ok HOST PORT`, src/hub/health-probe.ts), never a copy, so the lab's failover reacts to exactly what the
// instances' health metric reports.
export { EGRESS_CHECK_SECONDS, EGRESS_OK, PROBE_TIMEOUT_SECONDS, PROXY_HEALTHY } from '../hub/health-probe';
