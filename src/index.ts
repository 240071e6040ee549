/**
 * egresshub as a construct library: centralised HTTP(S) egress for overlapping VPCs, a Squid hub published
 * over a VPC Lattice resource gateway, one resource configuration per tenant, a resource endpoint per spoke.
 *
 * Build the system from typed props (`EgressHubConfig`, the fields of egresshub.yaml) in your own stacks:
 * `EgressHub` (the hub VPC, proxies, gateway, monitoring), `EgressTenants` (each tenant's resource
 * configuration) and `EgressSpoke` (a project VPC's endpoint). Or let `buildApp` make the stacks the
 * `egresshub` CLI deploys. The pure helpers render the proxy policy (`renderSquidConf`) and price a hub
 * (`estimate`). README, "Use as a construct library", has a complete app.
 *
 * @packageDocumentation
 */

// Config: typed props, validation and the plan every part is built from.
export type {
  AlarmsConfig,
  ClientSetupConfig,
  DnsConfig,
  EgressCheckConfig,
  EgressHubConfig,
  HubConfig,
  ProxyConfig,
  QuotasConfig,
  RawTunnelPortConfig,
  ScalingConfig,
  SpokeConfig,
  TenantConfig,
  TenantLimitsConfig,
} from './config/props';
export { loadConfigFile, parseConfig, planEgress, validateConfig } from './config/load';
export { buildPlan, findTenant } from './config/plan';
export { TenantNotFoundError } from './config/plan';
export type {
  Allowlist,
  DnsPlan,
  EgressPlan,
  FixedProxyPlan,
  HubPlan,
  MultiAzProxyPlan,
  NlbProxyPlan,
  ProxyPlan,
  SingleProxyPlan,
  SpokePlan,
  TenantLimits,
  TenantPlan,
  TenantStackPlan,
} from './config/plan';
export { ConfigError, UsageError } from './config/errors';
export type { ConfigProblem } from './config/errors';

// Constructs and the stacks the CLI deploys.
export { EgressHub } from './hub/egress-hub';
export type { EgressHubProps } from './hub/egress-hub';
export { EgressTenants } from './hub/egress-tenants';
export type { EgressTenantsProps } from './hub/egress-tenants';
export { TenantEndpoints } from './hub/tenant-endpoints';
export type { ProxyTarget, TenantEndpoint, TenantEndpointsProps } from './hub/tenant-endpoints';
export { EgressSpoke, SpokeError } from './spoke/egress-spoke';
export type { EgressSpokeProps } from './spoke/egress-spoke';
export { EgressHubStack } from './hub/hub-stack';
export type { EgressHubStackProps } from './hub/hub-stack';
export { EgressTenantsStack } from './hub/tenants-stack';
export type { EgressTenantsStackProps } from './hub/tenants-stack';
export { EgressSpokeStack } from './spoke/spoke-stack';
export type { EgressSpokeStackProps } from './spoke/spoke-stack';
export { buildApp, cdkJsonContext, firstSynthContext, followEndpoint, PLACEHOLDER_IMAGE, synthesize } from './app';
export type { BuildAppOptions, SynthesizedStack } from './app';

// The hub's parts, as EgressHub's members expose them (hub.fleets, hub.policy, hub.observability, …).
export { FixedProxy, ProxyFleet, ProxyFleetError, ScalingProxyFleet } from './hub/proxy-fleet';
export type { FixedProxyProps, ProxyFleetProps, ScalingProxyFleetProps } from './hub/proxy-fleet';
export { PolicyRolloutError, ProxyPolicy } from './hub/policy-rollout';
export type { DrainMode, PolicyApplyOptions, ProxyPolicyProps } from './hub/policy-rollout';
export type { DrainKind } from './config/fleet-modes';
export type { ProxyPaths } from './hub/user-data';
export { FailoverDns, FailoverDnsError } from './hub/failover-dns';
export type { FailoverDnsProps, FailoverProxy } from './hub/failover-dns';
export { NlbFront, NlbFrontError } from './hub/nlb-front';
export type { NlbFrontProps } from './hub/nlb-front';
export { HubObservability } from './hub/observability';
export type { AccessLogMetricFilter, FleetModeMonitoring, HubObservabilityProps, TopTenantsRule } from './hub/observability';
export { DomainVerification } from './hub/domain-verification';
export type { DomainVerificationProps } from './hub/domain-verification';
export { ClientProxySetup, ClientProxySetupError } from './client/client-proxy-setup';
export type { ClientProxySetupProps } from './client/client-proxy-setup';
export { IpamPoolError, ProjectIpamPool } from './cidr/ipam';
export type { ProjectIpamPoolProps } from './cidr/ipam';

// Pure helpers: the proxy policy and the cost model.
export { renderSquidConf } from './policy/squid-conf';
export type { SquidConfOptions, TcpKeepalive } from './policy/squid-conf';
export { alternatives, estimate } from './cost/model';
export type { Alternative, BaselineMode, Bill, CostInputs, CostResult, LineItem, MonitoringInputs } from './cost/model';
export { priceBook, PRICED_REGIONS } from './cost/prices';
export type { Price, PriceBook } from './cost/prices';
