// A tenant's destination ports, as the policy and the hub's security groups read them.
import type { TenantPlan } from '../config';

/**
 * Destination ports a tenant may CONNECT to: its TLS ports (SNI checked) and its raw tunnel ports. Not its
 * httpPorts: plain HTTP goes through the proxy as a request, where the Host is checked; a raw tunnel to port 80
 * would carry any Host unseen (docs/policy.md).
 */
export function tunnelPortsOf(t: TenantPlan): readonly number[] {
  return [...new Set([...t.connectPorts, ...t.rawTunnelPorts])].sort((a, b) => a - b);
}

/** Every destination port a tenant's traffic may leave the hub on (the proxies' egress security group). */
export function egressPortsOf(t: TenantPlan): readonly number[] {
  return [...new Set([...tunnelPortsOf(t), ...t.httpPorts])].sort((a, b) => a - b);
}
