# shellcheck shell=bash
# egress_ok HOST PORT: 0 when this proxy's own way out works as Squid's does: HOST resolves through the system
# resolver (on an instance the VPC resolver, which Squid also asks) to a public IPv4 address within 3 s, and a TCP
# connection to it on PORT opens within 3 s (through the subnet's route: the NAT gateway, or the Elastic IP's
# internet gateway). An answer in private or shared space (a VPC endpoint's address) is no way out and fails.
# Prints the reason on stderr. health-probe.ts: EGRESS_OK; the health publisher and the lab's supervisor run it.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
egress_ok() {
  local host=$1 port=$2 ip
  ip=$(timeout 3 getent ahostsv4 "$host" 2>/dev/null | awk 'NR == 1 { print $1 }') || true
  if [ -z "$ip" ]; then echo "egress: $host did not resolve within 3 s (resolver unreachable or no answer)" >&2; return 1; fi
  case $ip in
    10.* | 127.* | 169.254.* | 192.168.* | 172.1[6-9].* | 172.2[0-9].* | 172.3[01].* | 100.6[4-9].* | 100.[7-9][0-9].* | 100.1[01][0-9].* | 100.12[0-7].*)
      echo "egress: $host resolves to $ip, a private address (a VPC endpoint?), not a way out" >&2
      return 1
      ;;
  esac
  # shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
  if ! timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$ip" "$port" 2>/dev/null; then
    echo "egress: no connection to $host ($ip) port $port within 3 s" >&2
    return 1
  fi
}
