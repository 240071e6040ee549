# shellcheck shell=bash
# drain/undrain through the multi-az failover name: the drain file turns this proxy's health to 0, so its alarm
# and Route 53 health check withdraw its record; drain waits (at most MAX_DRAIN_SECONDS) until FAILOVER_NAME no
# longer answers LISTENER_IP, then SETTLE_SECONDS for cached answers; undrain waits until it answers again.
# Parameters: DRAIN_FILE FAILOVER_NAME MAX_DRAIN_SECONDS SETTLE_SECONDS (and LISTENER_IP from the env file).
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
answers_me() { [ -n "$FAILOVER_NAME" ] && [ -n "${LISTENER_IP:-}" ] && getent ahostsv4 "$FAILOVER_NAME" | awk '{ print $1 }' | grep -qxF "$LISTENER_IP"; }
# A proxy the name does not answer carries no new connections: it is not drained at all. A drain file there would
# publish it unhealthy for minutes after its reconfigure (alarm and health check take that long to clear), and
# should the next proxy be the primary, Route 53, seeing every record unhealthy, would keep answering the primary.
drain() {
  if [ -n "$FAILOVER_NAME" ] && ! answers_me; then
    say "drain: $FAILOVER_NAME does not answer this proxy; no new connections to wait for (not draining)"
    return 0
  fi
  [ -n "$FAILOVER_NAME" ] && ANSWERED=1
  mkdir -p "$(dirname "$DRAIN_FILE")"
  touch "$DRAIN_FILE"
  say "drain: waiting (at most $MAX_DRAIN_SECONDS s) until $FAILOVER_NAME stops answering this proxy"
  local i
  for i in $(seq 1 $(((MAX_DRAIN_SECONDS + 4) / 5))); do
    answers_me || { say "drain: withdrawn after about $(((i - 1) * 5)) s; waiting $SETTLE_SECONDS s for cached answers to expire"; sleep "$SETTLE_SECONDS"; return 0; }
    sleep 5
  done
  say "drain: still answered after $MAX_DRAIN_SECONDS s (no other healthy proxy?); reconfiguring anyway"
}
# A proxy the name answered before its drain is back only once the name answers it again; until then the
# association must not move on to the next proxy (one at a time), which would otherwise be drained while this one
# is still withdrawn.
undrain() {
  rm -f "$DRAIN_FILE"
  [ -n "${ANSWERED:-}" ] || return 0
  say "undrain: waiting (at most $MAX_DRAIN_SECONDS s) until $FAILOVER_NAME answers this proxy again"
  local i
  for i in $(seq 1 "$MAX_DRAIN_SECONDS"); do
    answers_me && { say "undrain: answered again after about $((i - 1)) s"; return 0; }
    sleep 1
  done
  say "undrain: $FAILOVER_NAME still does not answer this proxy after $MAX_DRAIN_SECONDS s"
  return 1
}
