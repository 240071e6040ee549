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

/**
 * Shell function `egress_ok HOST PORT`: returns 0 only when HOST resolves through the system resolver (the VPC
 * resolver on an instance, which Squid also asks) to a public IPv4 address within 3 s and a TCP connection to it
 * on PORT opens within 3 s, through the proxy's own route out (its AZ's NAT gateway, or its Elastic IP). An answer
 * in private space (a VPC endpoint) fails: it would prove nothing about the way out. Prints the reason on stderr.
 */
export const EGRESS_OK = shellLibrary('egress-ok');

/** Seconds one egress check can take at most: the resolver's 3 s and the connection's 3 s. */
export const EGRESS_CHECK_SECONDS = 6;
