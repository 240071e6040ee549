# shellcheck shell=bash
# fetch_policy REGION URI DEST: copy the policy object to DEST, retrying for a minute; non-zero when it gives up.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
fetch_policy() {
  local region=$1 uri=$2 dest=$3
  for _ in $(seq 1 12); do
    aws s3 cp --region "$region" --only-show-errors "$uri" "$dest" && [ -s "$dest" ] && return 0
    sleep 5
  done
  echo "could not download $uri" >&2
  return 1
}
