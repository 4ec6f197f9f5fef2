#!/usr/bin/env python3
"""tests/netns/hostile.sh's result as one JSON line.

    hostile_summary.py VMHWM_KIB DIR

Reads DIR/inject.json and DIR/join.json (hostile_inject.py's and
hostile_join.py's lines), DIR/client.json (the
client's `mptcp connect --json` report) and the listener's report of the
connection in DIR/listener.json (the last JSON line with subflows in it).
"""

import json
import os
import sys

SIZE = 10 << 20


def json_lines(path):
    try:
        with open(path) as f:
            return [json.loads(l) for l in f.read().splitlines() if l.startswith("{")]
    except (OSError, ValueError):
        return []


def find(value, key):
    """The first value under `key` anywhere in a JSON value, or None."""
    if isinstance(value, dict):
        if key in value:
            return value[key]
        for v in value.values():
            got = find(v, key)
            if got is not None:
                return got
    elif isinstance(value, list):
        for v in value:
            got = find(v, key)
            if got is not None:
                return got
    return None


def main():
    hwm, d = sys.argv[1], sys.argv[2]
    inject = (json_lines(os.path.join(d, "inject.json")) or [{}])[-1]
    join = (json_lines(os.path.join(d, "join.json")) or [{}])[-1]
    client = (json_lines(os.path.join(d, "client.json")) or [None])[-1]
    echo = {"intact": False, "error": "no report"}
    if client is not None:
        got = client.get("bytes_received")
        echo = {
            "intact": client.get("bytes_sent") == SIZE
            and got == SIZE
            and client.get("sha256_received") == client.get("sha256_sent"),
            "bytes_received": got,
        }
    reports = [r for r in json_lines(os.path.join(d, "listener.json")) if find(r, "subflows") is not None]
    subflows = find(reports[-1], "subflows") if reports else []
    counters = find(reports[-1], "counters") if reports else {}
    print(
        json.dumps(
            {
                "vmhwm_kib": int(hwm or 0),
                "inject": inject,
                "join": join,
                "echo": echo,
                "subflows": subflows,
                "counters": counters,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
