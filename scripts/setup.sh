#!/usr/bin/env bash
# Makes a fresh Debian/Ubuntu machine ready for `npm start` (the lab demo) and `npm test`:
# the system packages the lab runs (real Squid, dnsmasq, nftables, iproute2, curl, openssl) and the
# npm dependencies. Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# squid-openssl, not squid: Debian's squid is built with GnuTLS and cannot peek at a TLS ClientHello
# (SslBump), which the policy's SNI check needs. The two packages conflict; apt swaps them.
PACKAGES=(squid-openssl shellcheck dnsmasq-base nftables iproute2 iptables curl openssl ca-certificates apache2-utils procps psmisc python3)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "egresshub setup: missing system packages: ${missing[*]}" >&2
    echo "  install them as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
  echo "egresshub setup: installing ${missing[*]} (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts a host-wide squid.service on install; the lab runs its own Squid in a namespace.
  if [[ " ${missing[*]} " == *" squid-openssl "* ]] && command -v systemctl >/dev/null; then
    systemctl disable --now squid >/dev/null 2>&1 || true
  fi
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "egresshub setup: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >/dev/null
fi
