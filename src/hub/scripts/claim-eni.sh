# shellcheck shell=bash
# claim_eni ENI INSTANCE REGION ATTEMPTS SLEEP: attach the fixed ENI as device 1, asking a predecessor to let
# go and forcing the detach only after six attempts; non-zero when it gives up.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
claim_eni() {
  local eni=$1 iid=$2 region=$3 attempts=$4 pause=$5 i status owner attachment
  for i in $(seq 1 "$attempts"); do
    # A failed call (throttling, IAM propagation) must not end the loop under set -e.
    read -r status owner attachment < <(aws ec2 describe-network-interfaces --region "$region" --network-interface-ids "$eni" \
      --query 'NetworkInterfaces[0].[Status,Attachment.InstanceId,Attachment.AttachmentId]' --output text || echo 'unknown None None') || true
    if [ "$owner" = "$iid" ]; then return 0; fi
    if [ "$status" = available ]; then
      aws ec2 attach-network-interface --region "$region" --network-interface-id "$eni" --instance-id "$iid" --device-index 1 || true
    elif [ "$attachment" != None ] && [ "$i" -gt 6 ]; then
      aws ec2 detach-network-interface --region "$region" --attachment-id "$attachment" --force || true
    elif [ "$attachment" != None ]; then
      aws ec2 detach-network-interface --region "$region" --attachment-id "$attachment" || true
    fi
    sleep "$pause"
  done
  echo "could not attach $eni after $attempts attempts" >&2
  return 1
}
