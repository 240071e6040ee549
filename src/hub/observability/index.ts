// The hub's observability, by concern: the agent's config, the access log's pipeline, the alarms (the hub's in
// hub-observability.ts, a fleet mode's own in its file, e.g. nlb.ts), the dashboard's widgets and shared metrics.
export { LOG_DAEMON_REPORTS, renderCloudWatchAgentConfig, SQUID_ACCESS_LOGS, SQUID_CACHE_LOG } from './agent-config';
export { HubObservability, type FleetModeMonitoring, type HubObservabilityProps } from './hub-observability';
export {
  ACCESS_LOG_TRANSFORMER,
  HUB_METRIC_FILTERS,
  LOG_LOSS_FILTERS,
  SAVED_QUERIES,
  TOP_TENANT_RULES,
  tenantMetricFilters,
  topTenantsRuleBody,
  topTenantsRuleName,
  type AccessLogMetricFilter,
  type TopTenantsRule,
} from './log-pipeline';
export { deniedByTenantQuery, insightRuleMetric, proxyHealthMetric } from './metrics';
export { addNlbAlarms, nlbHostsQuery, nlbWidgets } from './nlb';
