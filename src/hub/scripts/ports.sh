# shellcheck shell=bash
# port_ranges, reserve_ports SYSCTL_FILE PORT..., wait_listening SECONDS PORT...: the tenant ports'
# reservation from the ephemeral range and the wait for Squid's listeners (user-data.ts, PORT_FUNCTIONS).
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
port_ranges() {
  sort -n -u | awk 'NR == 1 { s = $1; e = $1; next } $1 == e + 1 { e = $1; next } { printf "%s%s,", s, (s == e ? "" : "-" e); s = $1; e = $1 } END { if (NR) printf "%s%s", s, (s == e ? "" : "-" e) }'
}
reserve_ports() {
  local file=$1 ranges
  shift
  ranges=$(printf '%s\n' "$@" | port_ranges)
  echo "net.ipv4.ip_local_reserved_ports = $ranges" > "$file"
  sysctl -q -w "net.ipv4.ip_local_reserved_ports=$ranges"
}
wait_listening() {
  local seconds=$1 p i missing
  shift
  for i in $(seq 0 "$seconds"); do
    missing=
    for p in "$@"; do [ -n "$(ss -ltnH "sport = :$p")" ] || { missing=$p; break; }; done
    [ -z "$missing" ] && return 0
    [ "$i" -lt "$seconds" ] && sleep 1
  done
  echo "port $missing is not listening after $seconds s" >&2
  return 1
}
