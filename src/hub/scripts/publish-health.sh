# shellcheck shell=bash
# shellcheck disable=SC2153 # EGRESS_* are the publisher's own KEY='value' lines (user-data.ts, renderHealthPublisher)
# publish_health PARAMS: the health publisher's one run (the systemd timer's service). Healthy (1) means Squid
# answers proxy_healthy on the first tenant port (read from squid.conf at each run, since tenants come and go), the
# proxy is not draining, and its own egress works (egress_ok EGRESS_HOST EGRESS_PORT) — or does not work on any
# other proxy either (fail open). The multi-az alarms and Route 53 health checks read the 1 or 0; missing data
# counts as unhealthy there. PARAMS is the KEY='value' file install_health_publisher wrote (REGION CONF DRAIN_FILE
# NAMESPACE METRIC DIMENSION); EGRESS_HOST (empty: no egress check) EGRESS_PORT EGRESS_METRIC EGRESS_DIMENSION
# EGRESS_WINDOW and NLB_HEALTH_PORT come with the publisher.
# Behind an NLB (NLB_HEALTH_PORT set: a scaling fleet, no failover name) there is no health metric: a withdrawn proxy
# refuses the target groups' TCP health check on that port (an nftables table of its own) until its egress works or
# no other proxy's does, so the NLB stops sending it new connections; Squid down fails that check by itself.
# Egress: a proxy in service publishes its check (1 or 0) on EGRESS_METRIC, one series for the whole hub
# (EGRESS_DIMENSION) at 1-second resolution. After 2 failed checks in a row it reads that series' Maximum over the
# last EGRESS_WINDOW seconds: 1 means another proxy's egress works, and this one publishes 0 (withdrawn); no 1 (or
# no answer) means no other proxy is better off, and it stays healthy (fail open). A draining or unanswering proxy
# publishes no egress result, so it never counts as a way out for its peers.
# https://docs.aws.amazon.com/cli/latest/reference/cloudwatch/put-metric-data.html
# https://docs.aws.amazon.com/cli/latest/reference/cloudwatch/get-metric-statistics.html
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
put_health() {
  aws cloudwatch put-metric-data --region "$REGION" --cli-connect-timeout 5 --cli-read-timeout 10 --namespace "$NAMESPACE" "$@"
}
egress_datum() {
  echo "MetricName=$EGRESS_METRIC,Dimensions=[{Name=${EGRESS_DIMENSION%%=*},Value=${EGRESS_DIMENSION#*=}}],Value=$1,Unit=Count,StorageResolution=1"
}
# Behind an NLB: 1 lets the target groups' health check through, 0 refuses it.
nlb_health() {
  if [ "$1" = 1 ]; then
    nft delete table inet egresshub_health 2>/dev/null || true
  else
    printf 'table inet egresshub_health {\n chain input {\n  type filter hook input priority -5; policy accept;\n  tcp dport %s reject with tcp reset\n }\n}\n' "$NLB_HEALTH_PORT" | nft -f -
  fi
}
# 0 = stay in service, 1 = withdraw, 2 = in service and published. Publishes this proxy's egress result (with
# ProxyHealthy when it is 1, except behind an NLB).
egress_verdict() {
  local fails n peers
  fails="$(dirname "$DRAIN_FILE")/egress-failures"
  if egress_ok "$EGRESS_HOST" "$EGRESS_PORT"; then
    rm -f "$fails"
    if [ -n "${NLB_HEALTH_PORT:-}" ]; then
      put_health --metric-data "$(egress_datum 1)"
      return 0
    fi
    put_health --metric-data "MetricName=$METRIC,Dimensions=[{Name=${DIMENSION%%=*},Value=${DIMENSION#*=}}],Value=1,Unit=Count" "$(egress_datum 1)"
    return 2
  fi
  n=$(($(cat "$fails" 2>/dev/null || echo 0) + 1))
  mkdir -p "$(dirname "$fails")" && echo "$n" > "$fails"
  put_health --metric-data "$(egress_datum 0)" || true
  if [ "$n" -lt 2 ]; then echo "egress: first failed check; staying in service until the next" >&2; return 0; fi
  peers=$(aws cloudwatch get-metric-statistics --region "$REGION" --cli-connect-timeout 5 --cli-read-timeout 10 \
    --namespace "$NAMESPACE" --metric-name "$EGRESS_METRIC" --dimensions "$EGRESS_DIMENSION" --statistics Maximum \
    --period 1 --start-time "$(date -u -d "-$EGRESS_WINDOW seconds" +%FT%TZ)" --end-time "$(date -u +%FT%TZ)" \
    --query 'max(Datapoints[].Maximum)' --output text 2>/dev/null) || peers='no answer'
  if [ "${peers%.*}" = 1 ]; then echo "egress: another proxy's egress works: withdrawing this one" >&2; return 1; fi
  echo "egress: no other proxy reports working egress ($peers): failing open, staying in service" >&2
  return 0
}
publish_health() {
  local port token state value rc=
  # shellcheck disable=SC1090 # written by the boot script
  . "$1"
  port=$(squid_ports "$CONF" | sed -n 1p)
  # Being replaced (the group's termination lifecycle hook holds the instance): drain, so the failover name moves
  # away while this proxy still serves. https://docs.aws.amazon.com/autoscaling/ec2/userguide/retrieving-target-lifecycle-state-through-imds.html
  token=$(curl -s -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token || true)
  state=$(curl -s -m 2 -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/autoscaling/target-lifecycle-state || true)
  if [ "$state" = Terminated ]; then echo "terminating: draining" > "$DRAIN_FILE"; fi
  if [ -n "$port" ] && proxy_healthy "$port" "$DRAIN_FILE"; then value=1; else value=0; fi
  if [ "$value" = 1 ] && [ -n "${EGRESS_HOST:-}" ]; then
    egress_verdict && rc=0 || rc=$?
    # 2: published already, with the egress result.
    [ "$rc" = 2 ] && return 0
    [ "$rc" = 1 ] && value=0
  fi
  if [ -n "${NLB_HEALTH_PORT:-}" ]; then
    # Squid down (or draining): the NLB's check fails by itself; only a withdrawal for egress refuses it here.
    [ "$value" = 0 ] && [ "${rc:-}" != 1 ] && value=1
    nlb_health "$value"
    return 0
  fi
  put_health --metric-name "$METRIC" --dimensions "$DIMENSION" --value "$value" --unit Count
}
