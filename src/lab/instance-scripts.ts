// The instances' own shell functions (src/hub/user-data.ts, the apply document), run for a lab proxy: its peek
// certificate, its tenant limits (nftables) and its fair-share tree (HTB), never a copy, so the lab proves them.
import { APPLY_FAIR_SHARE, APPLY_TENANT_LIMITS, ENSURE_TLS_PEEK } from '../hub/user-data';
import { inNs, run } from './sh';
import type { LabProxy } from './topology';
import { LAB_SQUID_USER } from './state';

/** The instance's own `ensure_tls_peek` (user-data.ts), run for a lab proxy: same check of the build, same certificate. */
export function ensurePeekCert(file: string): void {
  run(['bash', '-c', `set -euo pipefail\n${ENSURE_TLS_PEEK}\nensure_tls_peek "$1" "$2"`, 'ensure_tls_peek', file, LAB_SQUID_USER]);
}

/** The instance's own `apply_tenant_limits` (user-data.ts), run in a lab proxy's namespace: its nftables, its ports. */
export function applyTenantLimits(proxy: Pick<LabProxy, 'ns'>, conf: string, check = false): void {
  inNs(proxy.ns, [
    'bash',
    '-c',
    `set -euo pipefail\n${APPLY_TENANT_LIMITS}\napply_tenant_limits "$1" $2`,
    'apply_tenant_limits',
    conf,
    check ? '-c' : '',
  ]);
}

/**
 * The instance's own `apply_fair_share` (policy-rollout.ts's document), run in a lab proxy's namespace: its tree on
 * the device holding the proxy's address, as the listener ENI on a fixed proxy. Throws when the tree did not load
 * and the policy sets bandwidth ceilings (the instance's script then only warns: the lab is where that must show).
 */
export function applyFairShare(proxy: Pick<LabProxy, 'ns' | 'ip'>, conf: string): void {
  inNs(proxy.ns, [
    'env',
    `LISTENER_IP=${proxy.ip}`,
    'bash',
    '-c',
    `set -euo pipefail\n${APPLY_FAIR_SHARE}\napply_fair_share "$1"`,
    'apply_fair_share',
    conf,
  ]);
}

/** The apply document's `keep_inert_delay_pool`: a reconfigure that drops every delay pool keeps one inert pool. */
export function keepInertDelayPool(running: string, candidate: string): void {
  run([
    'bash',
    '-c',
    `set -euo pipefail\n${APPLY_FAIR_SHARE}\nkeep_inert_delay_pool "$1" "$2"`,
    'keep_inert_delay_pool',
    running,
    candidate,
  ]);
}
