# shellcheck shell=bash
# policy_apply: the proxies' "apply policy" script (src/hub/policy-rollout.ts renders it with its parameters as
# KEY='value' lines first): fetch $POLICY_OBJECT, check it (parse, TLS peek, delay pools, nft limits), drain the
# proxy as its fleet mode says (drain-<mode>.sh), squid -k reconfigure, wait for every port, undrain; restore the
# previous policy if Squid does not serve the new one. Exit 0 = applied or nothing to do, 1 = not applied.
# Parameters: CONF STATE BOOTSTRAPPED ENV_FILE PEEK_CERT SQUID_GROUP SYSCTL_FILE LISTEN_SECONDS BOOT_WAIT_SECONDS
# POLICY_OBJECT LOG_DAEMON CWAGENT_CONFIG_FILE.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
# squid -k reconfigure only signals Squid: the old listeners are still open when it returns. Squid logs
# "Accepting [SSL bumped ]HTTP Socket connections" once per listener it (re)opens, so wait for that many new lines.
reconfigure() {
  local want=$1 log offset _
  log=$(awk '$1 == "cache_log" { print $2 }' "$CONF")
  offset=$(stat -c %s "$log" 2>/dev/null || echo 0)
  squid -k reconfigure -f "$CONF" || return 1
  for _ in $(seq 1 $((LISTEN_SECONDS * 10))); do
    [ "$(tail -c +$((offset + 1)) "$log" 2>/dev/null | grep -Ec 'Accepting (SSL bumped )?HTTP Socket connections')" -ge "$want" ] && return 0
    sleep 0.1
  done
  say "squid did not reopen $want listener(s) within $LISTEN_SECONDS s"
  return 1
}
# On exit: drop the candidate, and give the proxy back to its fleet if it was drained.
finish() {
  local rc=$?
  rm -f "$CANDIDATE"
  if [ -n "$DRAINED" ]; then undrain || say "warning: undrain failed"; fi
  exit "$rc"
}
policy_apply() {
  # State Manager may run this as soon as a new instance registers, before its boot script is done: wait for it
  # (bounded), so the proxy gets what only this document installs (the fair-share tree) on that first run.
  local waited=0
  while [ ! -f "$BOOTSTRAPPED" ] && [ "$waited" -lt "$BOOT_WAIT_SECONDS" ]; do
    sleep 1
    waited=$((waited + 1))
  done
  if [ ! -f "$BOOTSTRAPPED" ]; then
    say "bootstrap has not finished: it installs the current policy itself"
    exit 0
  fi
  # shellcheck disable=SC1090 # the boot script's facts (REGION, INSTANCE_ID, LISTENER_IP)
  . "$ENV_FILE"
  # One apply at a time on this instance (the association, a scheduled run, a manual send-command).
  exec 9>"$STATE/apply.lock"
  flock -w 900 9
  CANDIDATE="$STATE/squid.conf.candidate"
  BACKUP="$STATE/squid.conf.previous"
  DRAINED=
  trap finish EXIT

  fetch_policy "$REGION" "$POLICY_OBJECT" "$CANDIDATE"
  keep_inert_delay_pool "$CONF" "$CANDIDATE"
  if cmp -s "$CANDIDATE" "$CONF"; then
    # A proxy gets its fair-share tree here on the first run after its boot (the boot script does not load it).
    apply_fair_share "$CONF" --ensure || say "warning: the bandwidth ceilings of the running policy are not enforced on this proxy"
    say "unchanged: $POLICY_OBJECT is the running policy"
    exit 0
  fi
  # The log daemon the candidate names (squid -k parse insists on it) and the CloudWatch agent's config travel in
  # the policy object; a proxy booted by an older release gets them here.
  AGENT_CONFIG_CHANGED=$(install_proxy_files "$CANDIDATE" "$LOG_DAEMON" "$CWAGENT_CONFIG_FILE")
  # A proxy booted by an older release has no peek certificate yet; a policy with ssl-bump ports needs one.
  if ! ensure_tls_peek "$PEEK_CERT" "$SQUID_GROUP"; then
    say "FAILED: this proxy cannot peek at TLS; the running policy stays"
    exit 1
  fi
  if ! squid_has_delay_pools "$CANDIDATE"; then
    say "FAILED: $POLICY_OBJECT limits bandwidth, which this Squid build cannot; the running policy stays"
    exit 1
  fi
  if grep -q '^# ceilings ' "$CANDIDATE" && ! command -v tc >/dev/null && ! timeout 300 dnf install -y -q iproute-tc >/dev/null 2>&1; then
    say "FAILED: $POLICY_OBJECT sets bandwidth ceilings, which need tc (dnf install iproute-tc); the running policy stays"
    exit 1
  fi
  if ! squid_parse_ok "$CANDIDATE" > "$STATE/parse.log"; then
    grep -v 'Processing: ' "$STATE/parse.log" | tail -n 20 || true
    say "FAILED: $POLICY_OBJECT does not pass squid -k parse; the running policy stays"
    exit 1
  fi
  if ! apply_tenant_limits "$CANDIDATE" -c > "$STATE/limits.log" 2>&1; then
    tail -n 20 "$STATE/limits.log" || true
    say "FAILED: the tenant connection limits of $POLICY_OBJECT do not load (nft -c); the running policy stays"
    exit 1
  fi
  mapfile -t OLD_PORTS < <(squid_ports "$CONF")
  mapfile -t NEW_PORTS < <(squid_ports "$CANDIDATE")
  # Old and new ports stay reserved: a listener that goes away is harmless, one that cannot bind is not.
  reserve_ports "$SYSCTL_FILE" "${OLD_PORTS[@]}" "${NEW_PORTS[@]}"

  # Squid's own answer is checked after the change only if it answered before: a proxy whose probe never worked
  # (another Squid version) still takes policy changes, one whose answer the change breaks gets the old policy back.
  ANSWERED_BEFORE=
  if proxy_healthy "${OLD_PORTS[0]:-0}" /nonexistent 2>/dev/null; then ANSWERED_BEFORE=1; fi
  DRAINED=1
  drain
  cp -p "$CONF" "$BACKUP"
  # cat keeps squid.conf's owner and mode.
  cat "$CANDIDATE" > "$CONF"
  say "reconfiguring squid (master pid $(cat "$(awk '$1 == "pid_filename" { print $2 }' "$CONF")" 2>/dev/null || echo '?'))"
  if reconfigure "${#NEW_PORTS[@]}" && wait_listening "$LISTEN_SECONDS" "${NEW_PORTS[@]}" \
    && { [ -z "$ANSWERED_BEFORE" ] || proxy_healthy "${NEW_PORTS[0]}" /nonexistent; }; then
    # The limits follow the tenants Squid now serves (checked above, so this load is not expected to fail).
    apply_tenant_limits "$CONF" || say "warning: the tenant connection limits did not load; the previous ones stay"
    apply_fair_share "$CONF" || say "warning: the bandwidth ceilings of $POLICY_OBJECT are not enforced on this proxy"
    if [ -n "$AGENT_CONFIG_CHANGED" ] && [ -x "$CWAGENT_CTL" ]; then
      "$CWAGENT_CTL" -a fetch-config -m ec2 -s -c "file:$CWAGENT_CONFIG_FILE" > /dev/null \
        || say "warning: the CloudWatch agent did not take its new configuration"
    fi
    say "applied $POLICY_OBJECT (ports: ${NEW_PORTS[*]})"
    exit 0
  fi
  say "FAILED: squid did not serve every port of $POLICY_OBJECT; restoring the previous policy"
  cat "$BACKUP" > "$CONF"
  reconfigure "${#OLD_PORTS[@]}" || true
  wait_listening "$LISTEN_SECONDS" "${OLD_PORTS[@]}" || say "warning: the previous policy is not listening on every port either"
  exit 1
}
