#!/usr/bin/env bash
# Fair-share prototype for egresshub issue 24: one real Squid (two http_ports = two tenants) in a network
# namespace with ONE interface (clients and origin both behind it, like the proxy's single ENI), HTB on that
# interface's egress, tenants classified by nftables `meta priority set` from a Squid socket mark
# (mark_client_packet / tcp_outgoing_mark) or from the tenant's listener port (tcp sport).
#
# Usage: proto.sh [SECONDS_PER_RUN]   (default 10; every download is bounded by curl --max-time)
# Writes: /tmp/fair/results.txt (human) and /tmp/fair/results.tsv (one line per run). Namespaces fs-*, torn down
# on exit. Addresses: 198.51.100.0/24 only, on a bridge inside fs-br; nothing is routed to the host.
set -euo pipefail

T=${1:-10}
OUT=/tmp/fair/day2
RUN=$OUT/run
# shellcheck disable=SC2034 # (unused here; kept from proto.sh)
RATE=400 # Mbit/s: the emulated instance line rate (the HTB root)
NS_BR=fs-br NS_CLI=fs-cli NS_PX=fs-px NS_ORG=fs-org
CLI_IP=198.51.100.10 PX_IP=198.51.100.2 ORG_IP=198.51.100.100
PORT_A=3130 PORT_B=3131
MARK_A=0x10 MARK_B=0x11
PIDS=()
SQUID_PID=

log() { printf '%s\n' "$*" | tee -a "$OUT/results.txt" >&2; }
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do # bounded: at most ~5 s each, then SIGKILL
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$p" 2>/dev/null || true
  done
  for ns in $NS_CLI $NS_PX $NS_ORG $NS_BR fs-probe; do ip netns del "$ns" 2>/dev/null || true; done
}
[[ $(id -u) -eq 0 ]] || { echo "proto.sh: needs root (network namespaces)" >&2; exit 1; }
for t in ip tc nft squid curl node; do command -v "$t" >/dev/null || { echo "proto.sh: needs $t" >&2; exit 1; }; done
for ns in $NS_CLI $NS_PX $NS_ORG $NS_BR fs-probe; do
  if ip netns list | grep -qw "$ns"; then echo "proto.sh: namespace $ns exists; remove it first" >&2; exit 1; fi
done
# Only now: a namespace found above belongs to someone else and must not be deleted on the way out.
trap cleanup EXIT INT TERM

rm -rf "$RUN" # this script's own scratch directory: no stale per-run files
mkdir -p "$RUN/logs"
: >"$OUT/results.txt"
printf 'run\ttree\tclassify\tconns_a\tconns_b\tmbit_a\tmbit_b\tpct_a\tpct_b\n' >"$OUT/results.tsv"
chown -R proxy:proxy "$RUN"

# --- topology: fs-br holds a bridge; client, proxy and origin each hang off it with one veth.
ip netns add $NS_BR
inns $NS_BR ip link add br0 type bridge
inns $NS_BR ip link set br0 up
inns $NS_BR ip link set lo up
attach() { # ns ifname ip
  ip netns add "$1"
  ip link add "$2" netns "$1" type veth peer name "br-$2" netns $NS_BR
  inns $NS_BR ip link set "br-$2" master br0 up
  inns "$1" ip link set lo up
  inns "$1" ip addr add "$3/24" dev "$2"
  inns "$1" ip link set "$2" up
}
attach $NS_CLI cli0 $CLI_IP
attach $NS_PX px0 $PX_IP
attach $NS_ORG org0 $ORG_IP
# Segmentation offloads would hand HTB 64 KB super-packets; the ENA does TSO too, so keep them (realistic).

# --- origin: streams N zero bytes from memory (no disk), HTTP/1.1.
cat >"$RUN/origin.js" <<'EOF'
const http = require('node:http');
const chunk = Buffer.alloc(256 * 1024);
http.createServer((req, res) => {
  if (req.method === 'POST' || req.method === 'PUT') {
    let got = 0;
    req.on('data', (d) => { got += d.length; });
    req.on('end', () => res.end(String(got)));
    return;
  }
  const n = Number(new URL(req.url, 'http://x').searchParams.get('n') ?? 1e9);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n), 'cache-control': 'no-store' });
  let left = n;
  const pump = () => {
    while (left > 0) {
      const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= c.length;
      if (!res.write(c)) return res.once('drain', pump);
    }
    res.end();
  };
  pump();
}).listen(8080, process.argv[2]);
EOF
# `ip netns exec` execs node, so $! is node itself (a backgrounded shell function would be a subshell whose
# death leaves node running).
ip netns exec $NS_ORG node "$RUN/origin.js" $ORG_IP >"$RUN/logs/origin.log" 2>&1 &
PIDS+=($!)

# --- squid: two tenants = two ports; marks by listener name (fast ACL myportname; localport works too).
write_conf() { # $1 = with-marks|no-marks
  {
    echo "http_port $PX_IP:$PORT_A name=ta"
    echo "http_port $PX_IP:$PORT_B name=tb"
    echo "acl ta myportname ta"
    echo "acl tb myportname tb"
    if [[ ${2:-} == delay-pool ]]; then # today's isolation: tenant A held to 64 Mbit/s (8,000,000 bytes/s)
      echo "delay_pools 1"
      echo "delay_class 1 1"
      echo "delay_parameters 1 8000000/8000000"
      echo "delay_access 1 allow ta"
      echo "delay_access 1 deny all"
    fi
    if [[ $1 == with-marks ]]; then
      echo "mark_client_packet $MARK_A ta"
      echo "mark_client_packet $MARK_B tb"
      echo "tcp_outgoing_mark $MARK_A ta"
      echo "tcp_outgoing_mark $MARK_B tb"
    fi
    cat <<EOF
http_access allow ta
http_access allow tb
http_access deny all
cache deny all
cache_mem 8 MB
dns_nameservers 127.0.0.1
shutdown_lifetime 1 seconds
cache_effective_user proxy
pid_filename $RUN/squid.pid
cache_log $RUN/logs/cache.log
access_log stdio:$RUN/logs/access.log
coredump_dir $RUN
EOF
  } >"$RUN/squid.conf"
}

start_squid() {
  ip netns exec $NS_PX squid -N -f "$RUN/squid.conf" >>"$RUN/logs/squid.out" 2>&1 &
  SQUID_PID=$!
  PIDS+=("$SQUID_PID")
  local i
  for i in $(seq 1 40); do
    inns $NS_PX bash -c "exec 3<>/dev/tcp/$PX_IP/$PORT_B" 2>/dev/null && return 0
    sleep 0.25
  done
  echo "proto.sh: squid did not listen" >&2
  exit 1
}

stop_squid() { # ends the Squid this script started (by its PID), waits (bounded), forgets its PID
  [[ -n $SQUID_PID ]] || return 0
  kill "$SQUID_PID" 2>/dev/null || true
  local i p kept=()
  for i in $(seq 1 40); do kill -0 "$SQUID_PID" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$SQUID_PID" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [[ $p == "$SQUID_PID" ]] || kept+=("$p"); done
  PIDS=("${kept[@]}")
  SQUID_PID=
}

# --- what the kernel offers, probed on a veth pair in a throwaway namespace (no modprobe: a module loads on demand)
NS_PROBE=fs-probe
probe_setup() {
  ip netns add $NS_PROBE
  inns $NS_PROBE ip link add fsp0 type veth peer name fsp1
  inns $NS_PROBE ip link set fsp0 up
  inns $NS_PROBE ip link set fsp1 up
}
probe_qdisc() { # kind -> 0 when the kernel accepts it as a root qdisc
  inns $NS_PROBE tc qdisc del dev fsp0 root 2>/dev/null || true
  inns $NS_PROBE tc qdisc add dev fsp0 root "$@" 2>/dev/null
}
probe_filter() { # filter args after "parent 1:" on an htb root -> 0 when accepted
  inns $NS_PROBE tc qdisc del dev fsp0 root 2>/dev/null || true
  inns $NS_PROBE tc qdisc add dev fsp0 root handle 1: htb 2>/dev/null || return 1
  inns $NS_PROBE tc filter add dev fsp0 parent 1: "$@" 2>/dev/null
}
probe_ifb() { # an ifb device fed by act_mirred from the ingress hook
  inns $NS_PROBE ip link add fsifb type ifb 2>/dev/null || return 1
  inns $NS_PROBE tc qdisc add dev fsp1 handle ffff: ingress 2>/dev/null || return 1
  inns $NS_PROBE tc filter add dev fsp1 parent ffff: protocol ip u32 match u32 0 0 action mirred egress redirect dev fsifb 2>/dev/null
}
yn() { if "$@"; then echo yes; else echo no; fi; }
probe_setup
PROBES="htb=$(yn probe_qdisc htb) fq_codel=$(yn probe_qdisc fq_codel) sfq=$(yn probe_qdisc sfq) fq=$(yn probe_qdisc fq) pfifo=$(yn probe_qdisc pfifo) tbf=$(yn probe_qdisc tbf rate 1mbit burst 10k latency 10ms)"
PROBES+=" cls_fw=$(yn probe_filter handle 0x10 fw classid 1:10) cls_u32=$(yn probe_filter protocol ip u32 match ip sport 3130 0xffff classid 1:10)"
PROBES+=" u32_mark=$(yn probe_filter protocol ip u32 match mark 0x10 0xffff classid 1:10) cls_bpf=$(yn probe_filter bpf bytecode '1,6 0 0 0' classid 1:10)"
PROBES+=" ifb+mirred=$(yn probe_ifb)"
PROBES+=" nft_meta_priority=$(yn inns $NS_PROBE nft -c 'add table inet t; add chain inet t c { type filter hook output priority 0; }; add rule inet t c meta priority set meta mark map { 0x10 : 1:10 }')"
ip netns del $NS_PROBE
LEAF=pfifo
if [[ $PROBES == *fq_codel=yes* ]]; then LEAF=fq_codel; fi
log "kernel $(uname -r): $PROBES -> leaf qdisc $LEAF"

# --- tc trees on the proxy's only interface (egress). Minor ids: 1:10 tenant A, 1:11 tenant B, 1:99 the rest.
tc_clear() { inns $NS_PX tc qdisc del dev px0 root 2>/dev/null || true; }
leaf() { # classid
  if [[ $LEAF == fq_codel ]]; then inns $NS_PX tc qdisc add dev px0 parent "$1" fq_codel
  else inns $NS_PX tc qdisc add dev px0 parent "$1" pfifo limit 1000; fi
}
tc_single() { # root_mbit: the instance's line rate only, no isolation (the "no isolation" baseline)
  tc_clear
  inns $NS_PX tc qdisc add dev px0 root handle 1: htb default 99
  inns $NS_PX tc class add dev px0 parent 1: classid 1:1 htb rate "${1}mbit" ceil "${1}mbit" quantum 60000
  inns $NS_PX tc class add dev px0 parent 1:1 classid 1:99 htb rate "${1}mbit" ceil "${1}mbit" quantum 60000
  leaf 1:99
}
tc_fair() { # root_mbit weight_a weight_b
  local root=$1 wa=$2 wb=$3 other sum ra rb
  tc_clear
  other=$((root / 20)) # 5 % guaranteed to unclassified traffic (ACKs to origins, health checks, SSH)
  sum=$((wa + wb))
  ra=$(((root - other) * wa / sum))
  rb=$(((root - other) * wb / sum))
  inns $NS_PX tc qdisc add dev px0 root handle 1: htb default 99
  inns $NS_PX tc class add dev px0 parent 1: classid 1:1 htb rate "${root}mbit" ceil "${root}mbit" quantum 60000
  # One prio for all: a class under its rate is served before any borrower whatever its prio, so control packets
  # (ACKs toward origins) stay fast; borrowed bandwidth is shared in proportion to quantum, i.e. by weight.
  inns $NS_PX tc class add dev px0 parent 1:1 classid 1:99 htb rate "${other}mbit" ceil "${root}mbit" prio 1 quantum 15000
  inns $NS_PX tc class add dev px0 parent 1:1 classid 1:10 htb rate "${ra}mbit" ceil "${root}mbit" prio 1 quantum $((15000 * wa))
  inns $NS_PX tc class add dev px0 parent 1:1 classid 1:11 htb rate "${rb}mbit" ceil "${root}mbit" prio 1 quantum $((15000 * wb))
  leaf 1:99
  leaf 1:10
  leaf 1:11
}

# --- nftables classification: skb->priority = HTB class id (htb_classify takes it when its major is the qdisc's).
nft_classify() { # mark|sport|none
  inns $NS_PX nft -f - <<EOF
table inet fs_fair {}
delete table inet fs_fair
table inet fs_fair {
  counter mark_a {}
  counter mark_b {}
  chain out {
    type filter hook output priority 0; policy accept;
    meta mark $MARK_A counter name mark_a
    meta mark $MARK_B counter name mark_b
  }
}
EOF
  inns $NS_PX tc filter del dev px0 parent 1: 2>/dev/null || true
  case $1 in
    u32) # no nftables at all: the kernel's u32 classifier on the tenant port (IPv4 here; IPv6 needs its own filter)
      inns $NS_PX tc filter add dev px0 parent 1: protocol ip prio 1 u32 match ip sport $PORT_A 0xffff flowid 1:10
      inns $NS_PX tc filter add dev px0 parent 1: protocol ip prio 1 u32 match ip sport $PORT_B 0xffff flowid 1:11 ;;
    u32mark) # u32 on the socket mark (accepted by tc here; whether it matches is what the run shows)
      inns $NS_PX tc filter add dev px0 parent 1: protocol ip prio 1 u32 match mark $MARK_A 0xffffffff flowid 1:10
      inns $NS_PX tc filter add dev px0 parent 1: protocol ip prio 1 u32 match mark $MARK_B 0xffffffff flowid 1:11 ;;
    mark) inns $NS_PX nft add rule inet fs_fair out meta priority set meta mark map "{ $MARK_A : 1:10, $MARK_B : 1:11 }" ;;
    sport) inns $NS_PX nft add rule inet fs_fair out meta priority set tcp sport map "{ $PORT_A : 1:10, $PORT_B : 1:11 }" ;;
    none) ;;
  esac
}

# --- one measurement: n_a downloads through tenant A's port and n_b through B's, all at once, for T seconds.
RUNNO=0
measure() { # label tree classify n_a n_b
  local label=$1 tree=$2 cls=$3 na=$4 nb=$5 i f a=0 b=0 pa pb ma mb
  RUNNO=$((RUNNO + 1))
  local dir=$RUN/m$RUNNO
  mkdir -p "$dir"
  quiet_proxy
  for i in $(seq 1 "$na"); do
    inns $NS_CLI curl -s -o /dev/null --max-time "$T" -w '%{size_download}\n' -x "http://$PX_IP:$PORT_A" \
      "http://$ORG_IP:8080/?n=20000000000" >"$dir/a$i" 2>/dev/null &
  done
  if [[ $nb == up* ]]; then # tenant B uploads (client -> proxy -> origin): bytes leave the proxy toward the origin
    nb=${nb#up}
    for i in $(seq 1 "$nb"); do
      inns $NS_CLI bash -c "head -c 20000000000 /dev/zero | curl -s -o /dev/null --max-time $T -w '%{size_upload}\n' \
        -x http://$PX_IP:$PORT_B -H 'Expect:' -T - http://$ORG_IP:8080/up" >"$dir/b$i" 2>/dev/null &
    done
    nb="${nb}up"
  else
    for i in $(seq 1 "$nb"); do
      inns $NS_CLI curl -s -o /dev/null --max-time "$T" -w '%{size_download}\n' -x "http://$PX_IP:$PORT_B" \
        "http://$ORG_IP:8080/?n=20000000000" >"$dir/b$i" 2>/dev/null &
    done
  fi
  wait_bounded $((T + 10))
  for f in "$dir"/a*; do [[ -e $f ]] && a=$((a + $(num "$f"))); done
  for f in "$dir"/b*; do [[ -e $f ]] && b=$((b + $(num "$f"))); done
  ma=$(awk -v x="$a" -v t="$T" 'BEGIN{printf "%.0f", x*8/t/1e6}')
  mb=$(awk -v x="$b" -v t="$T" 'BEGIN{printf "%.0f", x*8/t/1e6}')
  pa=$(awk -v x="$a" -v y="$b" 'BEGIN{ if (x+y>0) printf "%.1f", 100*x/(x+y); else print "0" }')
  pb=$(awk -v x="$a" -v y="$b" 'BEGIN{ if (x+y>0) printf "%.1f", 100*y/(x+y); else print "0" }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$tree" "$cls" "$na" "$nb" "$ma" "$mb" "$pa" "$pb" >>"$OUT/results.tsv"
  log "$(printf '%-46s A %2s conn %5s Mbit/s (%5s %%)   B %2s conn %5s Mbit/s (%5s %%)' "$label" "$na" "$ma" "$pa" "$nb" "$mb" "$pb")"
  if [[ $tree != none ]]; then inns $NS_PX tc -s class show dev px0 >"$dir/tc-classes.txt"; fi
  inns $NS_PX nft list counters table inet fs_fair >"$dir/nft-counters.txt" 2>/dev/null || true
}

quiet_proxy() { # wait (bounded) until no tenant connection is left over from an earlier run
  local i n
  for i in $(seq 1 30); do
    n=$(inns $NS_PX ss -Htn state established "( sport = :$PORT_A or sport = :$PORT_B )" | wc -l)
    [[ $n -eq 0 ]] && return 0
    sleep 1
  done
  log "WARNING: $n tenant connections still open before run $RUNNO"
}

num() { local v; v=$(head -c 20 "$1" | tr -dc 0-9); echo "${v:-0}"; }

# --- latency of a quiet tenant (B: sequential 100 KB GETs) while A downloads flat out with 4 connections
latency() { # label
  local i dir=$RUN/lat$RUNNO.$1 n=40
  mkdir -p "$dir"
  for i in 1 2 3 4; do # ip netns exec execs curl: the job's PID is curl's, so pkill_children ends it
    ip netns exec $NS_CLI curl -s -o /dev/null --max-time $((T + 20)) -x "http://$PX_IP:$PORT_A" "http://$ORG_IP:8080/?n=20000000000" &
  done
  sleep 2
  for i in $(seq 1 $n); do
    inns $NS_CLI curl -s -o /dev/null --max-time 5 -w '%{time_total}\n' -x "http://$PX_IP:$PORT_B" "http://$ORG_IP:8080/?n=100000" >>"$dir/ms" 2>/dev/null || echo 5 >>"$dir/ms"
  done
  pkill_children
  wait_bounded 10
  quiet_proxy
  local idle
  idle=$(for i in $(seq 1 10); do inns $NS_CLI curl -s -o /dev/null --max-time 5 -w '%{time_total}\n' -x "http://$PX_IP:$PORT_B" "http://$ORG_IP:8080/?n=100000"; done | sort -n | awk '{a[NR]=$1} END{printf "%.1f", a[int(NR/2)+1]*1000}')
  log "$(sort -n "$dir/ms" | awk -v l="$1" -v idle="$idle" '{a[NR]=$1} END{printf "%-46s quiet B 100 KB GET under A x4: p50 %.1f ms, p99 %.1f ms, max %.1f ms (idle p50 %s ms, n=%d)", l, a[int(NR*0.5)+1]*1000, a[int(NR*0.99)+(NR*0.99>int(NR*0.99))]*1000, a[NR]*1000, idle, NR}')"
}

pkill_children() { # end this shell's curl jobs (never the origin or squid): by PID, one at a time
  local p
  for p in $(jobs -rp); do
    if ! printf '%s\n' "${PIDS[@]}" | grep -qx "$p"; then kill "$p" 2>/dev/null || true; fi
  done
}

wait_bounded() { # seconds: wait for this shell's curl jobs, at most that long
  local deadline=$((SECONDS + $1))
  while [[ -n $(jobs -rp | grep -vxF -f <(printf '%s\n' "${PIDS[@]}") || true) ]]; do
    if ((SECONDS > deadline)); then echo "proto.sh: downloads outlived their bound" >&2; break; fi
    sleep 0.5
  done
}

# --- day 2: what happens to a transfer running under a delay pool when the policy changes by squid -k reconfigure
# (T = seconds before the reconfigure; the transfer runs 3T seconds, sampled every second on px0)
write_conf_pool() { # rate_bytes_per_s | none
  write_conf no-marks
  if [[ $1 == deny ]]; then # the pool stays, nobody is assigned to it any more
    sed -i "/^http_access allow ta/i delay_pools 1\ndelay_class 1 1\ndelay_parameters 1 8000000/8000000\ndelay_access 1 deny all" "$RUN/squid.conf"
  elif [[ $1 != none ]]; then
    sed -i "/^http_access allow ta/i delay_pools 1\ndelay_class 1 1\ndelay_parameters 1 $1/$1\ndelay_access 1 allow ta\ndelay_access 1 deny all" "$RUN/squid.conf"
  fi
}
transfer_across_reconfigure() { # label before after [CONNECT]
  local label=$1 before=$2 after=$3 mode=${4:-http} prev now series="" sec out=$RUN/t.$RANDOM
  stop_squid
  write_conf_pool "$before"
  start_squid
  tc_clear
  if [[ $mode == connect ]]; then # a CONNECT tunnel to the origin's port (plain bytes inside)
    ip netns exec $NS_CLI curl -s -o /dev/null --max-time $((T * 3)) -p -w '%{size_download} exit=%{exitcode}\n' \
      -x "http://$PX_IP:$PORT_A" "http://$ORG_IP:8080/?n=20000000000" >"$out" 2>&1 &
  else
    ip netns exec $NS_CLI curl -s -o /dev/null --max-time $((T * 3)) -w '%{size_download} exit=%{exitcode}\n' \
      -x "http://$PX_IP:$PORT_A" "http://$ORG_IP:8080/?n=20000000000" >"$out" 2>&1 &
  fi
  prev=$(inns $NS_PX cat /sys/class/net/px0/statistics/tx_bytes)
  for sec in $(seq 1 $((T * 3 - 1))); do
    sleep 1
    now=$(inns $NS_PX cat /sys/class/net/px0/statistics/tx_bytes)
    series+="$(((now - prev) * 8 / 1000000)) "
    prev=$now
    if [[ $sec -eq $T ]]; then
      write_conf_pool "$after"
      inns $NS_PX squid -f "$RUN/squid.conf" -k reconfigure
      series+="| "
    fi
  done
  wait_bounded 10
  log "$(printf '%-52s' "$label ($mode):") $series => $(cat "$out")"
  # a new download after the change
  log "$(printf '%-52s' "   a new download after it:") $(ip netns exec $NS_CLI curl -s -o /dev/null --max-time 3 -w '%{size_download} exit=%{exitcode}' -x "http://$PX_IP:$PORT_A" "http://$ORG_IP:8080/?n=20000000000") bytes in 3 s"
}
log "squid $(squid -v | head -1 | sed 's/.*Version //'); Mbit/s on the proxy's interface each second; | = squid -k reconfigure"
case ${2:-all} in
  long)
    transfer_across_reconfigure "pool 64 Mbit/s -> no pool" 8000000 none ;;
  more)
    transfer_across_reconfigure "pool 64 Mbit/s -> pool -1/-1 (unlimited)" 8000000 -1
    transfer_across_reconfigure "pool 64 Mbit/s -> pool kept, delay_access deny all" 8000000 deny
    transfer_across_reconfigure "pool 64 Mbit/s -> pool -1/-1 (unlimited)" 8000000 -1 connect ;;
  more2)
    transfer_across_reconfigure "pool kept, delay_access deny all -> no pool" deny none
    transfer_across_reconfigure "pool -1/-1 (unlimited) -> no pool" -1 none
    transfer_across_reconfigure "pool 64 Mbit/s -> pool kept, delay_access deny all" 8000000 deny connect ;;
  *)
    transfer_across_reconfigure "no pool -> no pool (control)" none none
    transfer_across_reconfigure "pool 64 Mbit/s -> no pool" 8000000 none
    transfer_across_reconfigure "pool 64 Mbit/s -> pool 8 Gbit/s" 8000000 1000000000
    transfer_across_reconfigure "pool 64 Mbit/s -> pool 64 Mbit/s (unchanged)" 8000000 8000000
    transfer_across_reconfigure "pool 64 Mbit/s -> no pool" 8000000 none connect
    transfer_across_reconfigure "pool 64 Mbit/s -> pool 8 Gbit/s" 8000000 1000000000 connect ;;
esac
