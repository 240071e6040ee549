# shellcheck shell=bash
# apply_tenant_limits CONF [-c]: load (or with -c only check) the tenants' connection limits that squid.conf
# carries as '#nft: ' lines; squid_has_delay_pools CONF: refuse a policy with delay pools on a Squid built without them.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
apply_tenant_limits() {
  grep -q '^#nft: ' "$1" || return 0
  if ! command -v nft >/dev/null; then
    # A proxy booted by an older release may lack nftables: the policy still applies, without connection limits.
    echo "egresshub: nft is not installed: the tenant connection limits are not applied on this proxy" >&2
    return 0
  fi
  sed -n 's/^#nft: //p' "$1" | nft ${2:+"$2"} -f -
}

# Bandwidth limits are Squid delay pools, which only a build configured with --enable-delay-pools has (Debian's
# does; Amazon Linux 2023's is checked here rather than assumed). One clear line instead of a parse error.
squid_has_delay_pools() {
  grep -q '^delay_pools ' "$1" || return 0
  squid -v 2>/dev/null | grep -q -- '--enable-delay-pools' && return 0
  echo "egresshub: this Squid build has no delay pools (squid -v lacks --enable-delay-pools), so it cannot limit tenants' bandwidth; set hub.tenantLimits.bandwidthMbps: 0 (and no tenant limits.bandwidthMbps) to run without bandwidth limits" >&2
  return 1
}
