#!/usr/bin/env bash
# A two-path test network for MPTCP interop: our stack on a TUN device in one
# namespace, the Linux kernel in another, joined by two veth links (paths a
# and b), each with IPv4 and IPv6. Needs root, iproute2, and for `rate` tc.
#
#   twopath.sh up NAME [rate MBIT]   build it (tearing down any old one)
#   twopath.sh set NAME rate MBIT    shape both paths, both directions, with HTB (0 = off)
#   twopath.sh down NAME             delete the namespaces (and everything in them)
#   twopath.sh env NAME              print the names and addresses as KEY=VALUE lines
#
# The network (every address lives only inside these namespaces):
#
#   NAME-us                                            NAME-kern
#   tun0 10.201.10.1/24, fd00:201:10::1/64
#     our stack owns 10.201.1.2, fd00:201:1::2 (path a)
#                and 10.201.2.2, fd00:201:2::2 (path b), routed into tun0
#   a0 10.201.11.1/24, fd00:201:11::1/64 --path a-- k0 10.201.11.2/24, fd00:201:11::2/64
#   b0 10.201.12.1/24, fd00:201:12::1/64 --path b-- k1 10.201.12.2/24, fd00:201:12::2/64
#
# NAME-us forwards between tun0 and the veths. Policy routing (`ip rule`, in
# both namespaces, both directions) puts a subflow on path b when either of
# its ends is a path-b address (ours 10.201.2.2 / fd00:201:2::2, b0's, or
# k1's), else on path a: our two addresses to the kernel's first one are the
# two paths, and a 2x2 full mesh puts one subflow on a and three on b.
#
# A kernel process in NAME-us bound to 10.201.11.1 (with an `ip mptcp
# endpoint` for 10.201.12.1) crosses the same two links without the TUN
# device: the kernel-to-kernel reference. Middlebox rules (iptables mangle)
# go in NAME-us FORWARD: they see every packet between our stack and the
# kernel, both directions.
set -euo pipefail
script=twopath.sh
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
    sed -n '2,9p' "$0" >&2
    exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
name=$2
shift 2
check_name "$name"

US=$name-us
KERN=$name-kern

print_env() {
    cat <<EOF
NS_US=$US
NS_KERN=$KERN
TUN=tun0
STACK_V4=10.201.1.2
STACK_V4_2=10.201.2.2
STACK_V6=fd00:201:1::2
STACK_V6_2=fd00:201:2::2
US_DEV=a0
US_DEV_2=b0
US_V4=10.201.11.1
US_V4_2=10.201.12.1
US_V6=fd00:201:11::1
US_V6_2=fd00:201:12::1
KERN_DEV=k0
KERN_DEV_2=k1
KERN_V4=10.201.11.2
KERN_V4_2=10.201.12.2
KERN_V6=fd00:201:11::2
KERN_V6_2=fd00:201:12::2
EOF
}

down() {
    for ns in "$US" "$KERN"; do
        ip netns del "$ns" 2>/dev/null || true
    done
}

set_rate() {
    local mbit=$1
    case $mbit in
        *[!0-9]* | "") echo "twopath.sh: bad rate '$mbit' (whole Mbit/s)" >&2; return 2 ;;
    esac
    local pairs="$US:a0 $US:b0 $KERN:k0 $KERN:k1"
    for p in $pairs; do
        ip -n "${p%%:*}" link show "${p#*:}" >/dev/null 2>&1 || continue
        tc -n "${p%%:*}" qdisc del dev "${p#*:}" root 2>/dev/null || true
    done
    [ "$mbit" = 0 ] && return 0
    # HTB at the rate; a byte FIFO of 30 ms at the rate (at least 256 KiB:
    # the veths pass 64 KiB GSO aggregates) behind it.
    local limit=$((mbit * 1000000 / 8 * 30 / 1000))
    [ $limit -ge 262144 ] || limit=262144
    for p in $pairs; do
        local ns=${p%%:*} dev=${p#*:}
        tc -n "$ns" qdisc add dev "$dev" root handle 1: htb default 1
        tc -n "$ns" class add dev "$dev" parent 1: classid 1:1 htb rate "${mbit}mbit" ceil "${mbit}mbit" quantum 60000
        tc -n "$ns" qdisc add dev "$dev" parent 1:1 handle 10: bfifo limit "$limit"
    done
}

apply_options() {
    while [ $# -gt 0 ]; do
        case $1 in
            rate) [ $# -ge 2 ] || usage; set_rate "$2"; shift 2 ;;
            *) echo "twopath.sh: unknown option '$1'" >&2; usage ;;
        esac
    done
}

up() {
    down
    for ns in "$US" "$KERN"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
            net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.accept_ra=0 \
            net.mptcp.enabled=1
    done
    ip netns exec "$US" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

    ip -n "$US" link add a0 type veth peer name k0 netns "$KERN"
    ip -n "$US" link add b0 type veth peer name k1 netns "$KERN"
    local i dev kdev
    for i in 1 2; do
        dev=$([ $i = 1 ] && echo a0 || echo b0)
        kdev=$([ $i = 1 ] && echo k0 || echo k1)
        ip -n "$US" addr add 10.201.1$i.1/24 dev $dev
        ip -n "$US" addr add fd00:201:1$i::1/64 dev $dev nodad
        ip -n "$KERN" addr add 10.201.1$i.2/24 dev $kdev
        ip -n "$KERN" addr add fd00:201:1$i::2/64 dev $kdev nodad
        ip -n "$US" link set $dev up
        ip -n "$KERN" link set $kdev up
        # Path i's routing table, 10+i, in both namespaces.
        ip -n "$US" route add default via 10.201.1$i.2 dev $dev table 1$i
        ip -n "$US" -6 route add default via fd00:201:1$i::2 dev $dev table 1$i
        ip -n "$KERN" route add default via 10.201.1$i.1 dev $kdev table 1$i
        ip -n "$KERN" -6 route add default via fd00:201:1$i::1 dev $kdev table 1$i
    done
    # A packet takes path b when either end is a path-b address, else path a.
    # In NAME-us: from our (or b0's) path-b address, or to the kernel's; in
    # NAME-kern: from the kernel's path-b address, or to ours (or b0's).
    local v
    for v in "" -6; do
        local s1 s2 u1 u2 k1 k2
        if [ -z "$v" ]; then
            s1=10.201.1.2 s2=10.201.2.2 u1=10.201.11.1 u2=10.201.12.1 k1=10.201.11.2 k2=10.201.12.2
        else
            s1=fd00:201:1::2 s2=fd00:201:2::2 u1=fd00:201:11::1 u2=fd00:201:12::1 k1=fd00:201:11::2 k2=fd00:201:12::2
        fi
        ip -n "$US" $v rule add pref 100 from $s2 table 12
        ip -n "$US" $v rule add pref 100 from $u2 table 12
        ip -n "$US" $v rule add pref 110 to $k2 table 12
        ip -n "$US" $v rule add pref 120 from $s1 table 11
        ip -n "$US" $v rule add pref 120 from $u1 table 11
        ip -n "$KERN" $v rule add pref 100 from $k2 table 12
        ip -n "$KERN" $v rule add pref 110 to $s2 table 12
        ip -n "$KERN" $v rule add pref 110 to $u2 table 12
        ip -n "$KERN" $v rule add pref 120 from $k1 table 11
    done
    # Anything else in NAME-kern (unbound sockets) takes path a.
    ip -n "$KERN" route add default via 10.201.11.1 dev k0
    ip -n "$KERN" -6 route add default via fd00:201:11::1 dev k0

    # The TUN device our stack attaches to; its addresses are routed into it.
    ip -n "$US" tuntap add dev tun0 mode tun
    ip netns exec "$US" sysctl -qw net.ipv6.conf.tun0.accept_ra=0 net.ipv6.conf.tun0.router_solicitations=0 \
        net.ipv6.conf.tun0.accept_dad=0
    ip -n "$US" link set tun0 up
    ip -n "$US" addr add 10.201.10.1/24 dev tun0
    ip -n "$US" addr add fd00:201:10::1/64 dev tun0 nodad
    for i in 1 2; do
        ip -n "$US" route add 10.201.$i.2/32 dev tun0
        ip -n "$US" -6 route add fd00:201:$i::2/128 dev tun0
    done

    apply_options "$@"
}

case $cmd in
    up) up "$@" ;;
    down) down ;;
    set) apply_options "$@" ;;
    env) print_env ;;
    *) usage ;;
esac
