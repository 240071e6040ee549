# shellcheck shell=bash
# publish_health PARAMS: the health publisher's one run (the systemd timer's service): proxy_healthy on the first
# tenant port (read from squid.conf at each run, since tenants come and go), 1 or 0 into the proxy's metric. The
# multi-az alarms and Route 53 health checks read it; missing data counts as unhealthy there. PARAMS is the
# KEY='value' file install_health_publisher wrote (REGION CONF DRAIN_FILE NAMESPACE METRIC DIMENSION).
# https://docs.aws.amazon.com/cli/latest/reference/cloudwatch/put-metric-data.html
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
publish_health() {
  local port token state value
  # shellcheck disable=SC1090 # written by the boot script
  . "$1"
  port=$(squid_ports "$CONF" | sed -n 1p)
  # Being replaced (the group's termination lifecycle hook holds the instance): drain, so the failover name moves
  # away while this proxy still serves. https://docs.aws.amazon.com/autoscaling/ec2/userguide/retrieving-target-lifecycle-state-through-imds.html
  token=$(curl -s -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token || true)
  state=$(curl -s -m 2 -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/autoscaling/target-lifecycle-state || true)
  if [ "$state" = Terminated ]; then echo "terminating: draining" > "$DRAIN_FILE"; fi
  if [ -n "$port" ] && proxy_healthy "$port" "$DRAIN_FILE"; then value=1; else value=0; fi
  aws cloudwatch put-metric-data --region "$REGION" --cli-connect-timeout 5 --cli-read-timeout 10 \
    --namespace "$NAMESPACE" --metric-name "$METRIC" --dimensions "$DIMENSION" --value "$value" --unit Count
}
