#!/usr/bin/env bash
# Installs what the tests need on a fresh machine (Debian, root): tshark for the
# Wireshark cross-check; iproute2, iptables and ethtool for the network-namespace
# interop tests; python3-scapy for the SYN flood; iperf3, mptcpize, curl and python3 for the tests
# against programs no one here wrote (mptcp perf, mptcp pm); time for the
# benchmark. Safe to run again: it installs only what is missing.
set -euo pipefail
need=()
command -v tshark >/dev/null 2>&1 || need+=(tshark)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v ethtool >/dev/null 2>&1 || need+=(ethtool)
command -v nstat >/dev/null 2>&1 || need+=(iproute2)
[ -x /usr/bin/time ] || need+=(time)
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
command -v mptcpize >/dev/null 2>&1 || need+=(mptcpize)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# scapy for the SYN flood of tests/netns/synflood.sh (Debian's interpreter).
/usr/bin/python3 -c 'import scapy.all' >/dev/null 2>&1 || need+=(python3-scapy)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
# nft for the scale-out load balancer (tests/netns/convert_scaleout.sh), danted for the benchmarks against dante.
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v danted >/dev/null 2>&1 || [ -x /usr/sbin/danted ] || need+=(dante-server)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup: not root, cannot install ${need[*]}; tests that need them will say so loudly" >&2
  exit 0
fi
echo "setup: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
