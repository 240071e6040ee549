#!/bin/sh
# egresshub proxy setup: points an Amazon Linux 2023 or Ubuntu host at its tenant's egress proxy (login
# shells, systemd services, dnf or apt, the Docker daemon and containers), or removes exactly what it added.
# The SSM document and the user-data snippet run this very file; keep it POSIX sh (Ubuntu's sh is dash).
#
# Inputs (environment; the action may also be the first argument):
#   EGRESSHUB_ACTION      apply (default) | remove
#   EGRESSHUB_PROXY_URL   http://<tenant>.<domain>:<port>         (apply only)
#   EGRESSHUB_NO_PROXY    comma-separated list, as client-env prints it
#   EGRESSHUB_ROOT        root of the tree to change (default /); anything else skips systemctl
#   EGRESSHUB_DOCKER      auto (default: only when Docker is installed) | yes | no
#   EGRESSHUB_RESTART_DOCKER  yes to restart a running Docker daemon (stops containers without live-restore)
set -eu

action=${1:-${EGRESSHUB_ACTION:-apply}}
root=${EGRESSHUB_ROOT:-/}
root=${root%/}
[ -d "$root/" ] || {
  printf 'egresshub-proxy: error: EGRESSHUB_ROOT %s is not a directory\n' "$root" >&2
  exit 2
}
proxy_url=${EGRESSHUB_PROXY_URL:-}
no_proxy_list=${EGRESSHUB_NO_PROXY:-}
docker_mode=${EGRESSHUB_DOCKER:-auto}
restart_docker=${EGRESSHUB_RESTART_DOCKER:-no}

marker='managed by egresshub'
begin_mark="# BEGIN egresshub proxy ($marker; undo with the remove action)"
end_mark='# END egresshub proxy'

profile_file=/etc/profile.d/egresshub-proxy.sh
manager_file=/etc/systemd/system.conf.d/egresshub-proxy.conf
docker_unit_file=/etc/systemd/system/docker.service.d/egresshub-proxy.conf
docker_client_file=/root/.docker/config.json
apt_file=/etc/apt/apt.conf.d/95egresshub-proxy
dnf_file=/etc/dnf/dnf.conf
# What this script created (files with their checksum, directories), so remove undoes exactly that.
state_dir=/var/lib/egresshub
state_file=$state_dir/created

nl='
'
manager_changed=no
docker_changed=no

say() { printf 'egresshub-proxy: %s\n' "$*"; }
warn() { printf 'egresshub-proxy: warning: %s\n' "$*" >&2; }
die() {
  printf 'egresshub-proxy: error: %s\n' "$*" >&2
  exit 2
}

sum_of() { cksum <"$1" | awk '{ print $1 "-" $2 }'; }

# Sets $missing to the directories of host path $1 that do not exist yet, outermost first. Stops at /
# (the root itself is checked at start-up), so a bad root can never make it loop.
missing_dirs() {
  d=$1
  missing=''
  while [ "$d" != / ] && [ ! -d "$root$d" ]; do
    missing="$d $missing"
    d=$(dirname "$d")
  done
}

# Creates the missing directories of a host path; records each one so remove can delete it again.
ensure_dir() {
  missing_dirs "$1"
  for m in $missing; do mkdir "$root$m"; done
  for m in $missing; do state_put dir - "$m"; done
}

# The state file itself lives in a directory that may need creating: record those without recursion.
ensure_state_dir() {
  [ -d "$root$state_dir" ] && return 0
  missing_dirs "$state_dir"
  for m in $missing; do mkdir "$root$m"; done
  for m in $missing; do printf 'dir - %s\n' "$m" >>"$root$state_file"; done
}

# state_put KIND SUM PATH: one line per path, replaced in place so a second apply leaves the same file.
state_put() {
  ensure_state_dir
  f=$root$state_file
  if [ -f "$f" ] && awk -v p="$3" '$3 == p { found = 1 } END { exit !found }' "$f"; then
    awk -v k="$1" -v s="$2" -v p="$3" '$3 == p { print k " " s " " p; next } { print }' "$f" >"$f.tmp"
    cat "$f.tmp" >"$f"
    rm -f "$f.tmp"
  else
    printf '%s %s %s\n' "$1" "$2" "$3" >>"$f"
  fi
}

state_sum() {
  [ -f "$root$state_file" ] || return 0
  awk -v p="$1" '$1 == "file" && $3 == p { print $2 }' "$root$state_file"
}

# write_owned PATH MODE CONTENT: writes a file this script owns. A file that exists but is neither marked
# as ours nor recorded unchanged in the state belongs to someone else and is left alone.
write_owned() {
  path=$1
  dest=$root$path
  if [ -f "$dest" ]; then
    recorded=$(state_sum "$path")
    if ! grep -q "$marker" "$dest" && [ "$recorded" != "$(sum_of "$dest")" ]; then
      warn "$path exists and is not ours; left unchanged (add the proxy settings to it by hand)"
      return 1
    fi
    before=$(sum_of "$dest")
  else
    before=none
  fi
  ensure_dir "$(dirname "$path")"
  printf '%s' "$3" >"$dest"
  chmod "$2" "$dest"
  after=$(sum_of "$dest")
  state_put file "$after" "$path"
  if [ "$before" = "$after" ]; then
    say "unchanged $path"
    return 1
  fi
  say "wrote $path"
  return 0
}

# Runs awk over a file in place, keeping its inode, mode and owner, and a missing final newline missing.
awk_in_place() {
  f=$1
  shift
  awk "$@" "$f" >"$f.egresshub.tmp"
  if [ -s "$f" ] && [ "$(tail -c 1 "$f" | wc -l)" -eq 0 ]; then
    printf '%s' "$(cat "$f.egresshub.tmp")" >"$f"
  else
    cat "$f.egresshub.tmp" >"$f"
  fi
  rm -f "$f.egresshub.tmp"
}

strip_block() {
  awk_in_place "$1" -v b="$begin_mark" -v e="$end_mark" '$0 == b { skip = 1; next } skip && $0 == e { skip = 0; next } !skip { print }'
}

field_of_os_release() {
  f=$root/etc/os-release
  [ -f "$f" ] || f=$root/usr/lib/os-release
  [ -f "$f" ] || return 0
  sed -n "s/^$1=//p" "$f" | head -n 1 | tr -d '"'"'"
}

package_manager() {
  id=$(field_of_os_release ID)
  like=$(field_of_os_release ID_LIKE)
  case " $id $like " in
  *" debian "* | *" ubuntu "*) echo apt ;;
  *" amzn "* | *" fedora "* | *" rhel "* | *" centos "*) echo dnf ;;
  *) echo none ;;
  esac
}

docker_wanted() {
  case $docker_mode in
  yes) return 0 ;;
  no) return 1 ;;
  esac
  for f in /usr/bin/dockerd /usr/sbin/dockerd /usr/lib/systemd/system/docker.service /lib/systemd/system/docker.service /etc/systemd/system/docker.service; do
    [ -e "$root$f" ] && return 0
  done
  return 1
}

validate() {
  case $proxy_url in
  *"$nl"*) die "EGRESSHUB_PROXY_URL must be one line" ;;
  esac
  case $no_proxy_list in
  *"$nl"*) die "EGRESSHUB_NO_PROXY must be one line" ;;
  esac
  printf '%s\n' "$proxy_url" | grep -Eq '^https?://[A-Za-z0-9.-]+:[0-9]{1,5}/?$' ||
    die "EGRESSHUB_PROXY_URL must look like http://project-a.egress.internal:3201 (got '$proxy_url'); print it with egresshub client-env"
  printf '%s\n' "$no_proxy_list" | grep -Eq '^[A-Za-z0-9.,:/*_-]*$' ||
    die "EGRESSHUB_NO_PROXY may hold only names, addresses and CIDRs separated by commas (got '$no_proxy_list')"
}

# Each tool reads its own spelling; the values are validated above, so no quoting surprises.
env_lines() { # FORMAT: printf format with two %s (name, value)
  for name in HTTP_PROXY HTTPS_PROXY http_proxy https_proxy; do printf "$1" "$name" "$proxy_url"; done
  if [ -n "$no_proxy_list" ]; then
    for name in NO_PROXY no_proxy; do printf "$1" "$name" "$no_proxy_list"; done
  fi
}

apply_all() {
  validate
  write_owned "$profile_file" 0644 "# egresshub proxy for login shells ($marker; undo with the remove action)
$(env_lines "export %s='%s'\n")
" || true

  # DefaultEnvironment reaches every service the manager starts after it re-reads its configuration.
  if write_owned "$manager_file" 0644 "# egresshub proxy for systemd services ($marker; undo with the remove action)
[Manager]
DefaultEnvironment=$(env_lines '"%s=%s" ' | sed 's/ $//')
"; then manager_changed=yes; fi

  case $(package_manager) in
  dnf)
    f=$root$dnf_file
    if [ -f "$f" ] && grep -q '^\[main\]' "$f"; then
      before=$(sum_of "$f")
      strip_block "$f"
      awk_in_place "$f" -v b="$begin_mark" -v e="$end_mark" -v p="proxy=$proxy_url" '{ print } !done && $0 == "[main]" { print b; print p; print e; done = 1 }'
      if [ "$before" = "$(sum_of "$f")" ]; then say "unchanged $dnf_file"; else say "edited $dnf_file ([main] proxy=)"; fi
      if awk '/^\[/ { main = ($0 == "[main]") } main && /^proxy[ \t]*=/ { n++ } END { exit !(n > 1) }' "$f"; then
        warn "$dnf_file already sets proxy= in [main]; the later line wins"
      fi
    else
      warn "$dnf_file has no [main] section; dnf not configured"
    fi
    ;;
  apt)
    write_owned "$apt_file" 0644 "// egresshub proxy for apt ($marker; undo with the remove action)
Acquire::http::Proxy \"$proxy_url\";
Acquire::https::Proxy \"$proxy_url\";
" || true
    ;;
  *) warn "neither dnf nor apt recognised in /etc/os-release; package manager not configured" ;;
  esac

  if docker_wanted; then
    if write_owned "$docker_unit_file" 0644 "# egresshub proxy for the Docker daemon ($marker; undo with the remove action)
[Service]
Environment=$(env_lines '"%s=%s" ' | sed 's/ $//')
"; then docker_changed=yes; fi
    # Containers started by root's docker CLI inherit these (Docker CLI 17.07+); JSON has no comments,
    # so ownership is proven by the checksum kept in the state file.
    if [ ! -d "$root/root" ]; then
      warn "no /root directory; Docker client proxies not configured"
    else
      [ -d "$root/root/.docker" ] || new_docker_dir=yes
      write_owned "$docker_client_file" 0600 "{
  \"proxies\": {
    \"default\": {
      \"httpProxy\": \"$proxy_url\",
      \"httpsProxy\": \"$proxy_url\",
      \"noProxy\": \"$no_proxy_list\"
    }
  }
}
" || true
      # Docker creates ~/.docker private; do the same, but never change a directory that was already there.
      if [ "${new_docker_dir:-no}" = yes ] && [ -d "$root/root/.docker" ]; then chmod 0700 "$root/root/.docker"; fi
    fi
  else
    say "Docker not installed; skipped (EGRESSHUB_DOCKER=yes configures it anyway)"
  fi
}

remove_all() {
  f=$root$dnf_file
  if [ -f "$f" ] && grep -qxF "$begin_mark" "$f"; then
    strip_block "$f"
    say "edited $dnf_file (egresshub lines removed)"
  fi
  state=$root$state_file
  if [ -f "$state" ]; then
    # Files first, then directories deepest first, then the state itself.
    awk '$1 == "file" { print $2 " " $3 }' "$state" | while read -r sum path; do
      dest=$root$path
      [ -f "$dest" ] || continue
      if grep -q "$marker" "$dest" || [ "$sum" = "$(sum_of "$dest")" ]; then
        rm -f "$dest"
        say "removed $path"
        case $path in
        "$manager_file") echo manager >>"$state.changed" ;;
        "$docker_unit_file") echo docker >>"$state.changed" ;;
        esac
      else
        warn "$path changed since egresshub wrote it; left in place (remove its proxy settings by hand)"
      fi
    done
    if [ -f "$state.changed" ]; then
      grep -qx manager "$state.changed" && manager_changed=yes
      grep -qx docker "$state.changed" && docker_changed=yes
      rm -f "$state.changed"
    fi
    dirs=$(awk '$1 == "dir" { print $3 }' "$state" | sort -r)
    rm -f "$state"
    for d in $dirs; do
      if rmdir "$root$d" 2>/dev/null; then say "removed $d/"; else [ -d "$root$d" ] && warn "$d/ is not empty; left in place"; fi
    done
  fi
  # Without a state file (lost, or never applied) still remove the files that carry our marker.
  for path in "$profile_file" "$manager_file" "$docker_unit_file" "$apt_file"; do
    if [ -f "$root$path" ] && grep -q "$marker" "$root$path"; then
      rm -f "$root$path"
      say "removed $path"
    fi
  done
}

# systemctl only on the real root of a running systemd, never on a test tree.
reload_services() {
  [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 || return 0
  if [ "$manager_changed" = yes ]; then
    # daemon-reexec makes the manager re-read system.conf.d; services started from now on get the
    # environment, running ones keep theirs until restarted (or the next boot).
    systemctl daemon-reexec
    say "systemd manager re-executed: services started from now on use the proxy; restart running ones to apply"
  fi
  if [ "$docker_changed" = yes ]; then
    systemctl daemon-reload
    if systemctl is-active --quiet docker 2>/dev/null; then
      if [ "$restart_docker" = yes ]; then
        systemctl restart docker
        say "Docker daemon restarted"
      else
        say "Docker daemon still runs with its old environment: systemctl restart docker (or EGRESSHUB_RESTART_DOCKER=yes)"
      fi
    fi
  fi
}

case $action in
apply) apply_all ;;
remove) remove_all ;;
*) die "action must be apply or remove (got '$action')" ;;
esac
reload_services
say "$action done"
