#!/usr/bin/env python3
"""Summarise an iperf3 -J report (iperf3's own, or `mptcp perf -J`'s).

Written against iperf3's JSON only: the test's parameters from
start.test_start, one line per interval from intervals[].sum, and the end
figures from end.sum_sent / end.sum_received. Prints one line per figure:

  test TCP streams=N duration=T reverse=R
  interval START END BITS_PER_SECOND
  sent BYTES BITS_PER_SECOND
  received BYTES BITS_PER_SECOND
"""
import json
import sys


def main(path):
    with open(path) as f:
        report = json.load(f)
    if "error" in report:
        sys.exit("iperf3 reported an error: " + report["error"])
    ts = report["start"]["test_start"]
    print(f"test {ts['protocol']} streams={ts['num_streams']} duration={ts['duration']} reverse={ts['reverse']}")
    for iv in report["intervals"]:
        s = iv["sum"]
        print(f"interval {s['start']:.2f} {s['end']:.2f} {s['bits_per_second']:.0f}")
    end = report["end"]
    print(f"sent {end['sum_sent']['bytes']} {end['sum_sent']['bits_per_second']:.0f}")
    print(f"received {end['sum_received']['bytes']} {end['sum_received']['bits_per_second']:.0f}")


if __name__ == "__main__":
    main(sys.argv[1])
