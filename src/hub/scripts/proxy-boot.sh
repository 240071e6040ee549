# shellcheck shell=bash
# shellcheck disable=SC2154 # the parameters come from the KEY='value' lines user-data.ts puts first
# proxy_boot: the proxy's boot script (src/hub/user-data.ts renders the user data: `set -Eeuo pipefail`, the
# parameters as KEY='value' lines, the shell libraries, this file, then `proxy_boot`). Installs Squid, claims the
# fixed ENI or Elastic IP, downloads the policy the SSM parameter names, checks it, starts Squid and only then
# signals success; on failure signals failure and gives the instance up (give_up). Names no policy, port or tenant.
# Parameters: STACK RESOURCE REGION POLICY_PARAMETER CONF ENV_FILE STATE BOOTSTRAPPED SIGNALLED GAVE_UP SYSCTL_FILE
# PEEK_CERT SQUID_GROUP ENI ENI_IP ATTACH_ATTEMPTS EIP_ALLOCATION HEALTH CWAGENT_CONFIG_FILE (empty: that step is skipped)
# LOG_DAEMON.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
# Once only: with -E a failure inside a command substitution traps in the subshell and again in the script.
signal() {
  [ -e "$SIGNALLED" ] && return 0
  mkdir -p "$(dirname "$SIGNALLED")" && touch "$SIGNALLED"
  /opt/aws/bin/cfn-signal -e "$1" --stack "$STACK" --resource "$RESOURCE" --region "$REGION" || true
}
proxy_boot() {
  exec > >(tee -a /var/log/egresshub-bootstrap.log) 2>&1
  trap 'echo "bootstrap failed at line $LINENO"; signal 1; give_up' ERR

  TOKEN=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
  IID=$(curl -sf -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id)
  if [ -n "$EIP_ALLOCATION" ]; then associate_elastic_ip; fi
  # openssl makes the peek certificate (ensure_tls_peek), nftables enforces the tenants' connection limits; listed
  # in case an image leaves them out.
  dnf install -y squid aws-cfn-bootstrap openssl nftables
  if [ -n "$ENI" ]; then attach_listener_eni; fi
  mkdir -p "$(dirname "$ENV_FILE")" "$STATE"
  printf "REGION='%s'\nINSTANCE_ID='%s'\nLISTENER_IP='%s'\n" "$REGION" "$IID" "$ENI_IP" > "$ENV_FILE"

  POLICY=
  fetch_current_policy "$CONF"
  install_proxy_files "$CONF" "$LOG_DAEMON" "$CWAGENT_CONFIG_FILE"
  ensure_tls_peek "$PEEK_CERT" "$SQUID_GROUP"
  squid_has_delay_pools "$CONF"
  squid_parse_ok "$CONF"
  # Before Squid listens: no tenant ever gets more than its share of this proxy.
  apply_tenant_limits "$CONF"
  # The ports come from squid.conf's http_port lines, not from this script (it must not change with the policy).
  mapfile -t PORTS < <(squid_ports "$CONF")
  [ "${#PORTS[@]}" -gt 0 ]
  reserve_ports "$SYSCTL_FILE" "${PORTS[@]}"

  mkdir -p /etc/systemd/system/squid.service.d
  # ~2 file descriptors per concurrent client; systemd's default soft limit (1,024) fails requests from a few
  # hundred clients on (docs/benchmarks.md). LimitNOFILE sets soft and hard limit for the service.
  printf '[Service]\nRestart=always\nRestartSec=5\nLimitNOFILE=65536\n' > /etc/systemd/system/squid.service.d/egresshub.conf
  systemctl daemon-reload
  systemctl enable --now squid
  wait_listening 30 "${PORTS[@]}"
  if [ -n "$HEALTH" ]; then install_health_publisher; fi
  if [ -n "$CWAGENT_CONFIG_FILE" ]; then start_cloudwatch_agent; fi

  # From here on the policy rollout (SSM State Manager) applies policy changes to this proxy.
  touch "$BOOTSTRAPPED"
  apply_policy_changed_during_boot
  signal 0
}
# A change deployed while this instance booted was skipped by the rollout (bootstrap not finished): apply it, under
# the apply script's lock (policy-apply.sh), since the rollout may now run here too.
apply_policy_changed_during_boot() {
  local booted_with=$POLICY
  exec 9>"$STATE/apply.lock"
  flock -w 900 9
  fetch_current_policy "$CONF.next"
  if [ "$POLICY" != "$booted_with" ] && ! cmp -s "$CONF.next" "$CONF"; then
    echo "the policy changed during boot: applying $POLICY"
    install_proxy_files "$CONF.next" "$LOG_DAEMON"
    squid_has_delay_pools "$CONF.next"
    squid_parse_ok "$CONF.next"
    apply_tenant_limits "$CONF.next" -c
    mapfile -t PORTS < <(squid_ports "$CONF.next")
    reserve_ports "$SYSCTL_FILE" "${PORTS[@]}"
    # cat keeps squid.conf's owner and mode (mv would give it the new file's).
    cat "$CONF.next" > "$CONF"
    apply_tenant_limits "$CONF"
    squid -k reconfigure -f "$CONF"
    wait_listening 30 "${PORTS[@]}"
  fi
  rm -f "$CONF.next"
  exec 9>&-
}
