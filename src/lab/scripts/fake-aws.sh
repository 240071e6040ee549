#!/bin/bash
# egresshub lab: stands in for the AWS CLI in the proxies' apply script (src/lab/rollout.ts, writeFakeAws).
# Only `aws s3 cp s3://$FAKE_S3_BUCKET/<key> <file>` is emulated: it copies $FAKE_S3_DIR/<key>.
set -euo pipefail
: "${FAKE_S3_BUCKET:?the lab sets FAKE_S3_BUCKET}" "${FAKE_S3_DIR:?the lab sets FAKE_S3_DIR}"
if [ "${1:-} ${2:-}" != "s3 cp" ]; then
  echo "fake aws (egresshub lab): only 's3 cp' is emulated, got: $*" >&2
  exit 2
fi
shift 2
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --region) shift 2 ;;
    --only-show-errors) shift ;;
    *) args+=("$1"); shift ;;
  esac
done
key=${args[0]#s3://"$FAKE_S3_BUCKET"/}
[ "$key" != "${args[0]}" ] || { echo "fake aws (egresshub lab): not in s3://$FAKE_S3_BUCKET/: ${args[0]}" >&2; exit 1; }
cp "$FAKE_S3_DIR/$key" "${args[1]}"
