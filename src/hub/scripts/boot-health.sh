# shellcheck shell=bash
# install_health_publisher: installs the health publisher (the S3 object HEALTH_PUBLISHER: renderHealthPublisher,
# publish-health.sh; downloaded, not carried, because user data is limited to 16 KB; retried for a minute, as IAM
# changes take seconds to apply) with its parameters in a KEY='value' file beside the boot's facts, and a systemd
# timer that runs it every HEALTH_INTERVAL seconds. Needs REGION, CONF, ENV_FILE, HEALTH_SCRIPT, HEALTH_PUBLISHER,
# HEALTH_INTERVAL, HEALTH_DRAIN_FILE, HEALTH_NAMESPACE, HEALTH_METRIC, HEALTH_DIMENSION (`Name=value`).
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
install_health_publisher() {
  local params
  params="$(dirname "$ENV_FILE")/health.env"
  printf 'REGION=%q\nCONF=%q\nDRAIN_FILE=%q\nNAMESPACE=%q\nMETRIC=%q\nDIMENSION=%q\n' "$REGION" "$CONF" \
    "$HEALTH_DRAIN_FILE" "$HEALTH_NAMESPACE" "$HEALTH_METRIC" "$HEALTH_DIMENSION" > "$params"
  for _ in $(seq 12); do
    aws s3 cp --region "$REGION" --only-show-errors "$HEALTH_PUBLISHER" "$HEALTH_SCRIPT" && break
    sleep 5
  done
  [ -s "$HEALTH_SCRIPT" ]
  chmod 0755 "$HEALTH_SCRIPT"
  printf '[Unit]\nDescription=egresshub proxy health metric\nAfter=squid.service\n[Service]\nType=oneshot\nTimeoutStartSec=30\nExecStart=%s %s\n' \
    "$HEALTH_SCRIPT" "$params" > /etc/systemd/system/egresshub-health.service
  printf '[Unit]\nDescription=egresshub proxy health metric every %s s\n[Timer]\nOnActiveSec=0\nOnUnitActiveSec=%ss\nAccuracySec=1s\n[Install]\nWantedBy=timers.target\n' \
    "$HEALTH_INTERVAL" "$HEALTH_INTERVAL" > /etc/systemd/system/egresshub-health.timer
  systemctl daemon-reload
  systemctl enable --now egresshub-health.timer
}
