# shellcheck shell=bash
# shellcheck disable=SC2034 # POLICY is this function's result: the boot script reads it.
# fetch_current_policy DEST: the object the policy parameter names, copied to DEST; sets POLICY.
# Needs REGION and POLICY_PARAMETER.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
fetch_current_policy() {
  local dest=$1 i uri
  for i in $(seq 1 12); do
    if uri=$(aws ssm get-parameter --region "$REGION" --name "$POLICY_PARAMETER" --query Parameter.Value --output text) \
      && [ -n "$uri" ] && aws s3 cp --region "$REGION" --only-show-errors "$uri" "$dest" && [ -s "$dest" ]; then
      POLICY=$uri
      return 0
    fi
    [ "$i" -lt 12 ] && sleep 5
  done
  echo "could not download the policy named by $POLICY_PARAMETER" >&2
  return 1
}
