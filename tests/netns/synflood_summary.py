#!/usr/bin/env python3
"""One round of tests/netns/synflood.sh as one JSON line.

    synflood_summary.py LABEL VMHWM_KIB DIR

Reads DIR/LABEL-flood.json (synflood.py's line), the clients' reports
DIR/LABEL-during.json and DIR/LABEL-after.json (`mptcp connect --json`), and
the counters: our listener's endpoint stats (the last report of
DIR/LABEL-listener.json) or the kernel's nstat (DIR/kernel-nstat.txt).
"""

import json
import os
import sys

SIZE = 10 << 20


def last_json(path):
    """The last JSON line of a file, or None."""
    try:
        with open(path) as f:
            lines = [l for l in f.read().splitlines() if l.startswith("{")]
    except OSError:
        return None
    return json.loads(lines[-1]) if lines else None


def echo(report):
    """Whether the client got back exactly the 10 MiB it sent."""
    if report is None:
        return {"intact": False, "error": "no report"}
    got = report.get("bytes_received")
    intact = (
        report.get("bytes_sent") == SIZE
        and got == SIZE
        and report.get("sha256_received") == report.get("sha256_sent")
    )
    return {"intact": intact, "bytes_received": got, "duration_s": report.get("duration_s")}


def nstat(path):
    counters = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].startswith("TcpExt"):
                counters[parts[0]] = int(parts[1])
    return counters


def main():
    label, hwm, d = sys.argv[1], sys.argv[2], sys.argv[3]
    if label == "kernel":
        counters = nstat(os.path.join(d, "kernel-nstat.txt"))
    else:
        listener = last_json(os.path.join(d, f"{label}-listener.json")) or {}
        counters = listener.get("endpoint") or {}
    print(
        json.dumps(
            {
                "listener": label,
                "vmhwm_kib": int(hwm) if hwm.isdigit() else None,
                "flood": last_json(os.path.join(d, f"{label}-flood.json")),
                "during": echo(last_json(os.path.join(d, f"{label}-during.json"))),
                "after": echo(last_json(os.path.join(d, f"{label}-after.json"))),
                "counters": counters,
            }
        )
    )


if __name__ == "__main__":
    main()
