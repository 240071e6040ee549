# shellcheck shell=bash
# attach_listener_eni: claims the fleet's fixed ENI (claim_eni) and waits until its address is configured; its
# primary IP is the resource configuration's target. Needs REGION, IID, ENI, ENI_IP, ATTACH_ATTEMPTS.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
attach_listener_eni() {
  local _
  claim_eni "$ENI" "$IID" "$REGION" "$ATTACH_ATTEMPTS" 10
  # amazon-ec2-net-utils configures the hot-plugged ENI and its policy routes; wait for its address.
  for _ in $(seq 1 60); do ip -4 -o addr show | grep -q " $ENI_IP/" && break; sleep 2; done
  ip -4 -o addr show | grep -q " $ENI_IP/"
}
