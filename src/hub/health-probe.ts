// The proxy's health probe: one bash function shared by the instance's health timer (CloudWatch metric
// for the multi-az failover alarms), the policy rollout's drain step and the lab. Healthy means "Squid itself
// answers a real HTTP request on a tenant port, and the proxy is not being drained".
import { shellLibrary } from './scripts';

/** Seconds the probe waits for Squid's answer: a proxy that needs longer is not one to send tenants to. */
export const PROBE_TIMEOUT_SECONDS = 3;

/**
 * Shell function `proxy_healthy PORT DRAIN_FILE`: returns 0 only when DRAIN_FILE does not exist and Squid
 * answers `GET /squid-internal-mgr/info` on 127.0.0.1:PORT with 200 within PROBE_TIMEOUT_SECONDS. Squid serves
 * that page itself (its cache manager): no DNS lookup, no upstream connection, so the probe tests this proxy and
 * nothing beyond it. renderSquidConf allows exactly this request from 127.0.0.1 and keeps it out of the access
 * log (HEALTH_PROBE). `--noproxy '*'` keeps any proxy variables of the caller out of the way. Prints the reason
 * for a failure on stderr (the health timer's journal).
 */
export const PROXY_HEALTHY = shellLibrary('proxy-healthy');
