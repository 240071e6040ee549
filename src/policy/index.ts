export * from './squid-conf';
export * from './log-daemon';
export { POLICY_RULES, ruleById, SQUID_RULES, type PolicyRule, type RuleKind } from './rules';
