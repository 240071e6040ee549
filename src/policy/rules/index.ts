// The policy's rules, in order: the order of their `rule=` declarations in squid.conf and of docs/policy.md's rule
// table. Where each one's lines go in the file is its slots' business (rule.ts, SLOTS); within a slot, this order.
import { blockedDestination } from './blocked-destination';
import { cacheManager } from './cache-manager';
import { connectPort } from './connect-port';
import { defaultDeny } from './default-deny';
import { fairShare } from './fair-share';
import { httpPort } from './http-port';
import { ipLiteralSpelling } from './ip-literal-spelling';
import { noSni } from './no-sni';
import { notAllowlisted } from './not-allowlisted';
import { notTls } from './not-tls';
import type { PolicyRule, RenderContext, Slot } from './rule';
import { scheme } from './scheme';
import { sniMismatch } from './sni-mismatch';
import { tenantAllow } from './tenant-allow';
import { tenantConnections } from './tenant-connections';
import { hubCidr } from './hub-cidr';

export const POLICY_RULES: readonly PolicyRule[] = [
  cacheManager,
  ipLiteralSpelling,
  notAllowlisted,
  connectPort,
  httpPort,
  scheme,
  sniMismatch,
  noSni,
  notTls,
  hubCidr,
  blockedDestination,
  tenantAllow,
  defaultDeny,
  tenantConnections,
  fairShare,
];

/** The rule of a `rule=` name, if it is one of ours. */
export const ruleById = (id: string): PolicyRule | undefined => POLICY_RULES.find((r) => r.id === id);

/** The rules Squid decides by: each tags the transaction with `decision=` and `rule=` (the access log's fields). */
export const SQUID_RULES = POLICY_RULES.filter((r) => r.decision !== undefined);

/**
 * Rules an audit-mode tenant logs as `decision=would-deny` instead of enforcing: the allowlist and the TLS checks.
 * Every other rule (address checks, IP spellings, ports, scheme) denies in both modes.
 */
export const AUDITABLE_RULES: readonly string[] = POLICY_RULES.filter((r) => r.auditable).map((r) => r.id);

/** Every rule's lines for one slot, in registry order. */
export const renderSlot = (slot: Slot, ctx: RenderContext): string[] => POLICY_RULES.flatMap((r) => r.render?.[slot]?.(ctx) ?? []);

export * from './rule';
export * from './case';
export { BLOCKED_DESTINATIONS } from './blocked-destination';
export { fairShareTree, OTHER_CLASS_ID, TC_DEVICE, tenantClassId } from './fair-share';
export { nftName } from './tenant-connections';

/** Rule names as they appear in the access log's `rule=` field, by a short handle for code that names one. */
export const RULES = {
  manager: cacheManager.id,
  ipSpelling: ipLiteralSpelling.id,
  notAllowlisted: notAllowlisted.id,
  connectPort: connectPort.id,
  httpPort: httpPort.id,
  scheme: scheme.id,
  sniMismatch: sniMismatch.id,
  noSni: noSni.id,
  notTls: notTls.id,
  hub: hubCidr.id,
  blocked: blockedDestination.id,
  allow: tenantAllow.id,
  default: defaultDeny.id,
  tenantConnections: tenantConnections.id,
} as const;
