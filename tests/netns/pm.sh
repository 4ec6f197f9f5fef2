#!/usr/bin/env bash
# A two-path network for `mptcp pm`: a client namespace running the daemon
# (the kernel's userspace path manager) and a server namespace with the
# in-kernel path manager, joined by two veth links. Needs root and iproute2.
#
#   pm.sh up NAME [rate MBIT]              build it (tearing down any old one)
#   pm.sh set NAME rate MBIT               shape both paths, both directions, with HTB (0 = off)
#   pm.sh down NAME                        delete the namespaces (and everything in them)
#   pm.sh env NAME                         print the names and addresses as KEY=VALUE lines
#   pm.sh kernel NAME                      switch the client to the in-kernel path manager
#                                          (endpoints: subflow on c1; used by the benchmark)
#
# The network (every address lives only inside these namespaces):
#
#   NAME-c (client, path_manager=userspace)    NAME-s (server, path_manager=kernel,
#                                                      limits subflows 8 add_addr_accepted 8)
#   c0 10.231.1.2/24 ------- path a ------- s0 10.231.1.1/24
#   c1 10.231.2.2/24 ------- path b ------- s1 10.231.2.1/24
#
# Policy routing in the client sends a subflow from 10.231.2.2 over c1 to
# the server's first address too (the server routes its replies back by
# source), so each client address is one path to either server address.
set -euo pipefail
script=pm.sh
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
    sed -n '2,11p' "$0" >&2
    exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
name=$2
shift 2
check_name "$name"

C=$name-c
S=$name-s

print_env() {
    cat <<EOF2
NS_CLIENT=$C
NS_SERVER=$S
C_DEV=c0
C_DEV_2=c1
C_V4=10.231.1.2
C_V4_2=10.231.2.2
S_DEV=s0
S_DEV_2=s1
S_V4=10.231.1.1
S_V4_2=10.231.2.1
EOF2
}

down() {
    for ns in "$C" "$S"; do
        ip netns del "$ns" 2>/dev/null || true
    done
}

set_rate() {
    local rate=$1
    for pair in "$C c0" "$C c1" "$S s0" "$S s1"; do
        set -- $pair
        in_ns "$1" tc qdisc del dev "$2" root 2>/dev/null || true
        if [ "$rate" != 0 ]; then
            in_ns "$1" tc qdisc add dev "$2" root handle 1: htb default 1 r2q 100
            in_ns "$1" tc class add dev "$2" parent 1: classid 1:1 htb rate "${rate}mbit" ceil "${rate}mbit" quantum 1514
        fi
    done
}

up() {
    local rate=0
    while [ $# -gt 0 ]; do
        case $1 in
            rate) rate=$2; shift 2 ;;
            *) usage ;;
        esac
    done
    down
    ip netns add "$C"
    ip netns add "$S"
    for ns in "$C" "$S"; do
        in_ns "$ns" ip link set lo up
        in_ns "$ns" sysctl -qw net.mptcp.enabled=1
        in_ns "$ns" sysctl -qw net.ipv4.tcp_no_metrics_save=1
    done
    ip link add c0 netns "$C" type veth peer name s0 netns "$S"
    ip link add c1 netns "$C" type veth peer name s1 netns "$S"
    in_ns "$C" ip addr add 10.231.1.2/24 dev c0
    in_ns "$C" ip addr add 10.231.2.2/24 dev c1
    in_ns "$S" ip addr add 10.231.1.1/24 dev s0
    in_ns "$S" ip addr add 10.231.2.1/24 dev s1
    for d in c0 c1; do in_ns "$C" ip link set "$d" up; done
    for d in s0 s1; do in_ns "$S" ip link set "$d" up; done
    # Source-based routing: each client address leaves by its own link.
    in_ns "$C" ip rule add from 10.231.2.2 table 102 pref 100
    in_ns "$C" ip route add 10.231.1.0/24 dev c1 table 102
    in_ns "$C" ip route add 10.231.2.0/24 dev c1 table 102
    in_ns "$S" ip rule add to 10.231.2.2 table 102 pref 100
    in_ns "$S" ip route add 10.231.2.2 dev s1 table 102
    in_ns "$S" sysctl -qw net.ipv4.conf.all.rp_filter=0
    in_ns "$S" sysctl -qw net.ipv4.conf.s0.rp_filter=0
    in_ns "$S" sysctl -qw net.ipv4.conf.s1.rp_filter=0
    in_ns "$C" sysctl -qw net.ipv4.conf.all.rp_filter=0
    in_ns "$C" sysctl -qw net.ipv4.conf.c0.rp_filter=0
    in_ns "$C" sysctl -qw net.ipv4.conf.c1.rp_filter=0
    in_ns "$S" sysctl -qw net.mptcp.path_manager=kernel
    in_ns "$S" ip mptcp limits set subflows 8 add_addr_accepted 8
    in_ns "$C" sysctl -qw net.mptcp.path_manager=userspace
    set_rate "$rate"
}

kernel_pm() {
    in_ns "$C" sysctl -qw net.mptcp.path_manager=kernel
    in_ns "$C" ip mptcp limits set subflows 8 add_addr_accepted 8
    in_ns "$C" ip mptcp endpoint flush
}

case $cmd in
    up) up "$@" ;;
    set)
        [ "${1:-}" = rate ] || usage
        set_rate "$2"
        ;;
    down) down ;;
    env) print_env ;;
    kernel) kernel_pm ;;
    *) usage ;;
esac
