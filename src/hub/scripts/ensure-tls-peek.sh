# shellcheck shell=bash
# ensure_tls_peek CERT GROUP: fail with one line when Squid cannot peek at TLS (no OpenSSL); make the
# never-presented peek certificate once, readable by root and GROUP only.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
ensure_tls_peek() {
  local cert=$1 group=$2 dir
  if ! squid -v 2>/dev/null | grep -q -- '--with-openssl'; then
    echo "egresshub: this Squid build has no OpenSSL (squid -v lacks --with-openssl): it cannot check the SNI of tunnels" >&2
    return 1
  fi
  [ -s "$cert" ] && return 0
  dir=$(mktemp -d)
  (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650     -subj '/CN=egresshub peek (never presented)' -keyout "$dir/key" -out "$dir/crt" >/dev/null 2>&1) || { rm -rf "$dir"; return 1; }
  install -m 0640 -g "$group" /dev/null "$cert"
  cat "$dir/key" "$dir/crt" > "$cert"
  rm -rf "$dir"
}
