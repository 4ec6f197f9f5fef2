#!/usr/bin/env bash
# A three-namespace test network: our stack on a TUN device, a router, and the
# Linux kernel as the peer. Needs root (or CAP_NET_ADMIN + CAP_SYS_ADMIN),
# iproute2, and for `loss` iptables, for `rate` tc, for the offload switches
# ethtool.
#
#   topo.sh up NAME [loss PCT] [rate MBIT]   build it (tearing down any old one)
#   topo.sh set NAME loss PCT|rate MBIT      change loss or rate on a live network (0 = off)
#   topo.sh down NAME                        delete the namespaces (and everything in them)
#   topo.sh env NAME                         print the names and addresses as KEY=VALUE lines
#
# The network (every address lives only inside these namespaces):
#
#   NAME-us                         NAME-rt                       NAME-kern
#   tun0 10.200.10.1/24  <- our stack owns 10.200.10.2 and 10.200.11.2,
#        fd00:200:10::1/64          fd00:200:10::2 and fd00:200:11::2 (routed into tun0;
#                                   the kernel of NAME-us does not own them)
#   us0  10.200.1.1/24 ---------- rt0 10.200.1.2/24
#        fd00:200:1::1/64             fd00:200:1::2/64
#                                 rt1 10.200.2.1/24 ---------- k0 10.200.2.2/24
#                                     fd00:200:2::1/64            fd00:200:2::2/64
#
# NAME-us and NAME-rt forward. A process in NAME-us attaches to tun0 (the
# `mptcp` tool's `--tun tun0 --addr 10.200.10.2`); the kernel peer runs in
# NAME-kern. A kernel process in NAME-us bound to 10.200.1.1 crosses the same
# two veth hops without the TUN device: the kernel-to-kernel reference.
#
# loss PCT drops that share of the packets the router forwards, each direction
# (iptables statistic match in FORWARD). With loss on, segmentation offloads
# are turned off on the veths so the router sees, and drops, single packets
# rather than 64 KiB GSO aggregates. rate MBIT shapes both router egresses
# with TBF.
set -euo pipefail
script=topo.sh
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
    sed -n '2,13p' "$0" >&2
    exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
name=$2
shift 2
check_name "$name"

US=$name-us
RT=$name-rt
KERN=$name-kern


print_env() {
    cat <<EOF
NS_US=$US
NS_RT=$RT
NS_KERN=$KERN
TUN=tun0
STACK_V4=10.200.10.2
STACK_V4_2=10.200.11.2
STACK_V6=fd00:200:10::2
STACK_V6_2=fd00:200:11::2
TUN_V4=10.200.10.1
TUN_V6=fd00:200:10::1
US_V4=10.200.1.1
US_V6=fd00:200:1::1
KERN_V4=10.200.2.2
KERN_V6=fd00:200:2::2
EOF
}

down() {
    for ns in "$US" "$RT" "$KERN"; do
        ip netns del "$ns" 2>/dev/null || true
    done
}

offloads() {
    # offloads on|off: segmentation and receive offloads of the veths.
    command -v ethtool >/dev/null 2>&1 || {
        echo "topo.sh: ethtool is missing (apt-get install ethtool)" >&2
        return 1
    }
    local state=$1
    in_ns "$US" ethtool -K us0 tso "$state" gso "$state" gro "$state" >/dev/null 2>&1 || true
    in_ns "$RT" ethtool -K rt0 tso "$state" gso "$state" gro "$state" >/dev/null 2>&1 || true
    in_ns "$RT" ethtool -K rt1 tso "$state" gso "$state" gro "$state" >/dev/null 2>&1 || true
    in_ns "$KERN" ethtool -K k0 tso "$state" gso "$state" gro "$state" >/dev/null 2>&1 || true
}

set_loss() {
    local pct=$1
    for t in iptables ip6tables; do
        command -v $t >/dev/null 2>&1 || {
            echo "topo.sh: $t is missing (apt-get install iptables)" >&2
            return 1
        }
        in_ns "$RT" $t -F FORWARD
    done
    if [ "$pct" = 0 ]; then
        offloads on
        return 0
    fi
    local p
    p=$(awk -v pct="$pct" 'BEGIN { if (pct + 0 <= 0 || pct + 0 > 100) exit 1; printf "%.6f", pct / 100 }') || {
        echo "topo.sh: bad loss '$pct' (a percentage, 0 to 100)" >&2
        return 2
    }
    offloads off
    for t in iptables ip6tables; do
        in_ns "$RT" $t -A FORWARD -m statistic --mode random --probability "$p" -j DROP
    done
}

set_rate() {
    local mbit=$1
    for dev in rt0 rt1; do
        in_ns "$RT" tc qdisc del dev $dev root 2>/dev/null || true
    done
    if [ "$mbit" = 0 ]; then
        return 0
    fi
    case $mbit in
        *[!0-9]* | "") echo "topo.sh: bad rate '$mbit' (whole Mbit/s)" >&2; return 2 ;;
    esac
    # Burst: 4 ms at the rate, at least 64 KiB (one GSO aggregate); queue 20 ms.
    local burst=$((mbit * 1000000 / 8 / 250))
    [ $burst -ge 65536 ] || burst=65536
    for dev in rt0 rt1; do
        in_ns "$RT" tc qdisc add dev $dev root tbf rate "${mbit}mbit" burst "$burst" latency 20ms
    done
}

apply_options() {
    while [ $# -gt 0 ]; do
        case $1 in
            loss) [ $# -ge 2 ] || usage; set_loss "$2"; shift 2 ;;
            rate) [ $# -ge 2 ] || usage; set_rate "$2"; shift 2 ;;
            *) echo "topo.sh: unknown option '$1'" >&2; usage ;;
        esac
    done
}

up() {
    down
    for ns in "$US" "$RT" "$KERN"; do
        ip netns add "$ns"
        in_ns "$ns" ip link set lo up
        in_ns "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
        in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
        in_ns "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.accept_ra=0
    done
    for ns in "$US" "$RT"; do
        in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    done

    in_ns "$US" ip link add us0 type veth peer name rt0 netns "$RT"
    in_ns "$RT" ip link add rt1 type veth peer name k0 netns "$KERN"

    in_ns "$US" ip addr add 10.200.1.1/24 dev us0
    in_ns "$US" ip addr add fd00:200:1::1/64 dev us0 nodad
    in_ns "$RT" ip addr add 10.200.1.2/24 dev rt0
    in_ns "$RT" ip addr add fd00:200:1::2/64 dev rt0 nodad
    in_ns "$RT" ip addr add 10.200.2.1/24 dev rt1
    in_ns "$RT" ip addr add fd00:200:2::1/64 dev rt1 nodad
    in_ns "$KERN" ip addr add 10.200.2.2/24 dev k0
    in_ns "$KERN" ip addr add fd00:200:2::2/64 dev k0 nodad
    in_ns "$US" ip link set us0 up
    in_ns "$RT" ip link set rt0 up
    in_ns "$RT" ip link set rt1 up
    in_ns "$KERN" ip link set k0 up

    # The TUN device our stack attaches to; its subnets are routed into it.
    in_ns "$US" ip tuntap add dev tun0 mode tun
    in_ns "$US" sysctl -qw net.ipv6.conf.tun0.accept_ra=0 net.ipv6.conf.tun0.router_solicitations=0 \
        net.ipv6.conf.tun0.accept_dad=0
    in_ns "$US" ip link set tun0 up
    in_ns "$US" ip addr add 10.200.10.1/24 dev tun0
    in_ns "$US" ip addr add fd00:200:10::1/64 dev tun0 nodad
    in_ns "$US" ip route add 10.200.11.0/24 dev tun0
    in_ns "$US" ip -6 route add fd00:200:11::/64 dev tun0

    in_ns "$US" ip route add default via 10.200.1.2
    in_ns "$US" ip -6 route add default via fd00:200:1::2
    in_ns "$RT" ip route add 10.200.10.0/24 via 10.200.1.1
    in_ns "$RT" ip route add 10.200.11.0/24 via 10.200.1.1
    in_ns "$RT" ip -6 route add fd00:200:10::/64 via fd00:200:1::1
    in_ns "$RT" ip -6 route add fd00:200:11::/64 via fd00:200:1::1
    in_ns "$KERN" ip route add default via 10.200.2.1
    in_ns "$KERN" ip -6 route add default via fd00:200:2::1

    apply_options "$@"
}

case $cmd in
    up) up "$@" ;;
    down) down ;;
    set) apply_options "$@" ;;
    env) print_env ;;
    *) usage ;;
esac
