# shellcheck shell=bash
# proxy_healthy PORT DRAIN_FILE: 0 only when DRAIN_FILE does not exist and Squid answers its cache manager's
# info page on 127.0.0.1:PORT with 200 within 3 s (health-probe.ts: PROBE_TIMEOUT_SECONDS, HEALTH_PROBE).
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
proxy_healthy() {
  local port=$1 drain=$2 code
  if [ -e "$drain" ]; then echo "unhealthy: draining ($drain exists)" >&2; return 1; fi
  code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --connect-timeout 3 --max-time 3 \
    "http://127.0.0.1:$port/squid-internal-mgr/info" 2>/dev/null) || code="none (curl exit $?)"
  if [ "$code" != 200 ]; then echo "unhealthy: squid on port $port answered $code" >&2; return 1; fi
  return 0
}
