// Config changes `egresshub diff` refuses (exit 2) because no deploy can make them safe: the plan alone
// cannot see them (it knows one config), the pair of configs can.
import type { EgressPlan } from '../config/plan';

/** Problems with moving from `before` to `after`, each with how to get there instead. */
export function refusedChanges(before: EgressPlan, after: EgressPlan): string[] {
  const problems: string[] = [];
  for (const t of after.tenants) {
    const old = before.tenants.find((x) => x.name === t.name);
    if (!old || old.port === t.port) continue;
    // The port is the tenant's identity at the proxy and part of every proxy URL its servers use; another
    // block of 50 also moves the tenant to another stack (a new configuration, share and endpoints).
    problems.push(
      `tenants[${t.name}].port: ${old.port} → ${t.port} is refused: the port is the tenant's identity at the proxy and part of every proxy URL its servers use. ` +
        `Keep ${old.port}; to move, add a tenant with the new port, point the servers at it, then remove the old tenant`,
    );
  }
  return problems;
}
