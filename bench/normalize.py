"""Normalizer throughput on one core over the GWS sample mix.

Every CometD sample in tests/fixtures/gws/ is one wire message (bytes, as
received). Each round feeds the whole mix, in file order, to a fresh
MemoryState for a new agent, so every message is new and produces its
events (replays would be cheaper and flatter the figure). Prints one JSON
line: messages/s, events/s, µs per message.

    .venv/bin/python bench/normalize.py [--seconds 10] [--input bytes|dict]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

from bridge.normalize import MemoryState, normalize

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "gws"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to measure (default 10)")
    parser.add_argument(
        "--input", choices=["bytes", "dict"], default="bytes", help="wire bytes (default) or parsed dicts"
    )
    args = parser.parse_args()
    blobs = [p.read_bytes() for p in sorted(FIXTURES.glob("cometd_*.json"))]
    mix: list = blobs if args.input == "bytes" else [orjson.loads(b) for b in blobs]
    print(f"{len(mix)} sample messages, measuring for {args.seconds:.0f} s", file=sys.stderr)

    for round_no in range(20):  # warm-up
        state = MemoryState()
        for message in mix:
            normalize(message, agent=f"warm{round_no}", state=state)

    messages = events = rounds = 0
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    deadline = wall_start + args.seconds
    while time.perf_counter() < deadline:
        state = MemoryState()
        agent = f"agent{rounds}"
        for message in mix:
            events += len(normalize(message, agent=agent, state=state))
        messages += len(mix)
        rounds += 1
    cpu = time.process_time() - cpu_start
    wall = time.perf_counter() - wall_start
    result = {
        "benchmark": "normalize",
        "input": args.input,
        "sample_messages": len(mix),
        "messages": messages,
        "events": events,
        "cpu_seconds": round(cpu, 3),
        "wall_seconds": round(wall, 3),
        "messages_per_s": round(messages / cpu),
        "events_per_s": round(events / cpu),
        "us_per_message": round(cpu / messages * 1e6, 2),
    }
    print(orjson.dumps(result).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
