// The health publisher's parameters file as the boot script's install_health_publisher writes it (the boot test
// checks that file against this shape), for tests that run the publisher on its own.
import { writeFileSync } from 'node:fs';
import type { EgressPlan } from '../../../src/config';

export function healthParams(plan: EgressPlan, at: { conf: string; drainFile: string; id?: string }): string {
  const { namespace, metricName, dimension } = plan.hub.proxyHealth;
  return (
    `REGION=ap-northeast-1\nCONF=${at.conf}\nDRAIN_FILE=${at.drainFile}\nNAMESPACE=${namespace}\nMETRIC=${metricName}\n` +
    `DIMENSION=${dimension}=${at.id ?? 'ProxyA'}\n`
  );
}

/** healthParams written to `file`; returns `file`. */
export function writeHealthParams(file: string, plan: EgressPlan, at: { conf: string; drainFile: string; id?: string }): string {
  writeFileSync(file, healthParams(plan, at));
  return file;
}
