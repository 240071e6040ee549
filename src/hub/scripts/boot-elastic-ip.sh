# shellcheck shell=bash
# associate_elastic_ip (public egress): the instance launched with an ephemeral public IP (to reach the EC2 API at
# all) swaps it for the fleet's Elastic IP before anything else uses the internet, so every later connection (dnf,
# Squid) leaves from the static address partners allowlist. --allow-reassociation takes it from a predecessor.
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateAddress.html
# Needs REGION, IID, EIP_ALLOCATION.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
associate_elastic_ip() {
  local i
  for i in $(seq 1 30); do
    aws ec2 associate-address --region "$REGION" --allocation-id "$EIP_ALLOCATION" --instance-id "$IID" --allow-reassociation && break
    [ "$i" -lt 30 ] && sleep 5
  done
  aws ec2 describe-addresses --region "$REGION" --allocation-ids "$EIP_ALLOCATION" --query 'Addresses[0].InstanceId' --output text | grep -qx "$IID"
}
