# shellcheck shell=bash
# apply_fair_share CONF [--ensure]: load the fair-share tree that squid.conf carries as '#tc: ' lines (a `tc -batch`
# script, squid-conf.ts fairShareTree) onto the device that carries the tenants' responses, and check that every
# class loaded. Fails open: without tc, HTB or the device, tenants share the proxy per connection, as before, and
# one line says so; it returns 1 only when the policy sets a bandwidth ceiling that then goes unenforced. --ensure
# leaves a complete tree alone (the policy is unchanged: nothing to rebuild). A policy without '#tc: ' lines
# removes a tree an earlier one left.
# keep_inert_delay_pool RUNNING CANDIDATE: Squid before 6.0.1 stops refilling the buckets of transfers that started
# under a delay pool when a reconfigure removes every pool, and they stall for good (measured with 5.7; fixed by
# Squid commit a928fdf). When the running policy has delay pools and the candidate none, one pool that limits
# nobody is appended to the candidate, so those transfers finish at their old rate while new ones are shared fairly.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
fair_share_device() {
  # Fixed proxies answer tenants from the listener ENI (LISTENER_IP, the boot script's env file); others by the
  # default route.
  if [ -n "${LISTENER_IP:-}" ]; then
    ip -o -4 addr show to "$LISTENER_IP" | awk '{ print $2; exit }'
  else
    ip -o route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }'
  fi
}
apply_fair_share() {
  local dev want have
  dev=$(fair_share_device)
  if ! grep -q '^#tc: ' "$1"; then
    if [ -n "$dev" ] && tc qdisc show dev "$dev" root 2>/dev/null | grep -q '^qdisc htb 1: '; then
      tc qdisc del dev "$dev" root
    fi
    return 0
  fi
  want=$(grep -c '^#tc: class add ' "$1")
  # Fedora-family images ship tc in its own package (iproute-tc); whether the AL2023 AMI has it is UNCONFIRMED.
  if ! command -v tc >/dev/null && command -v dnf >/dev/null; then
    timeout 300 dnf install -y -q iproute-tc >/dev/null 2>&1 || true
  fi
  if [ -z "$dev" ] || ! command -v tc >/dev/null; then
    echo "egresshub: fair share not applied (no tc command, or no device for ${LISTENER_IP:-the default route}): tenants share this proxy per connection" >&2
    ! grep -q '^# ceilings ' "$1"
    return
  fi
  if [ "${2:-}" = --ensure ] && tc qdisc show dev "$dev" root | grep -q '^qdisc htb 1: ' \
    && [ "$(tc class show dev "$dev" | grep -c '^class htb ')" = "$want" ]; then
    return 0
  fi
  # -force: a line that fails (fq_codel on a kernel without it, then the pfifo fallback where it has it) fails alone.
  sed -n 's/^#tc: //p' "$1" | sed "s/@DEV@/$dev/g" | tc -force -batch - >/dev/null 2>&1 || true
  have=$(tc class show dev "$dev" 2>/dev/null | grep -c '^class htb ' || true)
  [ "$have" = "$want" ] && return 0
  tc qdisc del dev "$dev" root 2>/dev/null || true
  echo "egresshub: fair share not applied: $have of $want HTB classes loaded on $dev (is sch_htb available?); tenants share this proxy per connection" >&2
  ! grep -q '^# ceilings ' "$1"
}
keep_inert_delay_pool() {
  grep -q '^delay_pools ' "$1" || return 0
  grep -q '^delay_pools ' "$2" && return 0
  printf '%s\n' '' '# kept by the apply script: transfers that started under a delay pool finish (Squid < 6.0.1)' \
    'delay_pools 1' 'delay_class 1 1' 'delay_parameters 1 -1/-1' 'delay_access 1 deny all' >> "$2"
}
