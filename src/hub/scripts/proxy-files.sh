# shellcheck shell=bash
# install_proxy_files CONF LOG_DAEMON [AGENT_CONFIG_FILE]: installs what travels in the policy object beside squid.conf
# (policy-rollout.ts, policyObjectText): the access-log daemon (`#logd: ` lines) at LOG_DAEMON, which squid -k parse
# insists on, and the CloudWatch agent's config (the `#cwagent: ` line) at AGENT_CONFIG_FILE. A policy without them
# (an older release's) leaves the installed files as they are. Prints `agent-config-changed` when that file changed.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
install_proxy_files() {
  sed -n 's/^#logd: \{0,1\}//p' "$1" > "$2.new" && [ -s "$2.new" ] && chmod 755 "$2.new" && mv -f "$2.new" "$2"
  rm -f "$2.new"
  [ -n "${3:-}" ] || return 0
  sed -n 's/^#cwagent: //p' "$1" > "$3.new" && [ -s "$3.new" ] && ! cmp -s "$3.new" "$3" && mv -f "$3.new" "$3" \
    && echo agent-config-changed
  rm -f "$3.new"
}
