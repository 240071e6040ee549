# shellcheck shell=bash
# squid_parse_ok CONF: `squid -k parse` plus a scan of its output, because Squid reports some errors (an
# http_access line it cannot read, for one) and still exits 0; seen with Squid 5.7.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
squid_parse_ok() {
  local out
  out=$(squid -k parse -f "$1" 2>&1) || { echo "$out"; return 1; }
  echo "$out"
  # Squid echoes every config line ("Processing: …"); only its own diagnostics count. grep -c reads all of
  # its input: with -q it would stop early, the first grep would die of SIGPIPE, and under pipefail the
  # pipeline's failure would read as "no diagnostics".
  local diagnostics
  diagnostics=$(grep -v 'Processing: ' <<<"$out" | grep -Ec 'ERROR|FATAL|Bungled|unrecognized|aclParse' || true)
  [ "$diagnostics" = 0 ]
}
