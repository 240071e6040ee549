# shellcheck shell=bash
# squid_ports CONF: the ports of squid.conf's http_port lines, sorted, one a line.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
squid_ports() {
  awk '$1 == "http_port" { p = $2; sub(/.*:/, "", p); print p }' "$1" | sort -n -u
}
