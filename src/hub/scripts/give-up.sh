# shellcheck shell=bash
# give_up: the boot script's ERR trap, after the failure signal: hand back the fixed ENI, mark the instance
# Unhealthy (or shut it down) so that its group replaces it. Needs REGION, ENI, BOOTSTRAPPED, GAVE_UP, IID.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
give_up() {
  [ -e "$GAVE_UP" ] && return 0
  mkdir -p "$(dirname "$GAVE_UP")" && touch "$GAVE_UP"
  if [ -e "$BOOTSTRAPPED" ]; then
    echo 'squid serves the policy it booted with: this instance stays in service'
    return 0
  fi
  local owner=None attachment=None
  if [ -n "$ENI" ] && [ -n "${IID:-}" ]; then
    read -r owner attachment < <(aws ec2 describe-network-interfaces --region "$REGION" --network-interface-ids "$ENI" \
      --query 'NetworkInterfaces[0].[Attachment.InstanceId,Attachment.AttachmentId]' --output text || echo 'None None') || true
    if [ "$owner" = "$IID" ]; then
      echo "releasing $ENI for the replacement"
      aws ec2 detach-network-interface --region "$REGION" --attachment-id "$attachment" || true
    fi
  fi
  if [ -n "${IID:-}" ] && aws autoscaling set-instance-health --region "$REGION" --instance-id "$IID" --health-status Unhealthy \
    --no-should-respect-grace-period; then
    echo 'marked this instance Unhealthy: its group replaces it'
    return 0
  fi
  echo 'could not mark this instance Unhealthy: shutting down, so that its group replaces it'
  shutdown -h now || true
}
