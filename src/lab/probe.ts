// The health probe the lab's supervisor runs inside each proxy namespace. It must be the one the instances run
// (src/hub/health-probe.ts, `proxy_healthy PORT DRAIN_FILE`): until that file is committed this is a copy of
// its contract (HEALTH_PROBE in src/policy/squid-conf.ts; drain file absent and Squid answering its own info page on 127.0.0.1:PORT with 200).

export const PROBE_TIMEOUT_SECONDS = 3;

export const PROXY_HEALTHY = `proxy_healthy() {
  local port=$1 drain=$2 code
  if [ -e "$drain" ]; then echo "unhealthy: draining ($drain exists)" >&2; return 1; fi
  code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --connect-timeout ${PROBE_TIMEOUT_SECONDS} --max-time ${PROBE_TIMEOUT_SECONDS} \\
    "http://127.0.0.1:$port/squid-internal-mgr/info" 2>/dev/null) || code="none (curl exit $?)"
  if [ "$code" != 200 ]; then echo "unhealthy: squid on port $port answered $code" >&2; return 1; fi
  return 0
}`;
