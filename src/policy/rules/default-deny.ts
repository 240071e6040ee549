// default-deny: the last line; whatever no rule allowed (a listener no tenant owns, such as nlb's health port).
import { ruleAcl, type PolicyRule } from './rule';

export const defaultDeny: PolicyRule = {
  id: 'default-deny',
  kind: 'verdict',
  enforcedBy: 'http_access',
  auditable: false,
  decision: 'denied',
  logHost: 'none',
  render: {
    'access.final': () => [`http_access deny all ${ruleAcl('default-deny')}`],
  },
  // The lab's endpoints reach tenant listeners only, so no matrix case can arrive on a port no tenant owns.
  provenBy: ['test/policy/nlb-health-listener.test.ts'],
  doc: { refuses: 'anything else', notes: "a listener no tenant owns (nlb's health port), for instance" },
};
