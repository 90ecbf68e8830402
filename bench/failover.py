"""A Redis Sentinel failover under load, with and without ``wait_replicas``: one JSON line.

The scenario of ``tests/e2e/test_failover.py`` (:mod:`tests.plugins.failover`): a master with
AOF, one replica, three sentinels; the simulator's call load through ``gws-bridge subscriber``
and ``gws-bridge worker`` configured by ``[redis_sentinel]``; the master SIGKILLed mid-load. Each
round runs once per ``--wait`` setting (``both``: 0, then 1), and each run counts at the sink
the events lost, the repeats (same webhook-id), the events under two ids, the longest pause in
delivery and the promotion time. ``--stall-replica S`` stops the replica S seconds before the
kill (the master goes on acknowledging writes it never replicates): the case WAIT is for.

    .venv/bin/python bench/failover.py [--rounds 3] [--wait both|0|1] [--stall-replica 1.0]
                                       [--agents 4] [--rate 5] [--seconds 20] [--kill-after 8]

Progress on stderr; the JSON line (every run, the totals per setting, the load average and the
core count: the machine is shared) on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.plugins.e2e import BridgeStack, new_secret  # noqa: E402
from tests.plugins.e2e_checks import VerifyingSink  # noqa: E402
from tests.plugins.failover import FailoverFigures, SentinelSet, run_failover  # noqa: E402
from tests.plugins.sentinel import RedisProcesses  # noqa: E402
from tests.plugins.simulator import SimulatorProcess  # noqa: E402


def log(message: str) -> None:
    print(f"[failover] {message}", file=sys.stderr, flush=True)


async def one_run(args: argparse.Namespace, wait_replicas: int) -> FailoverFigures:
    with tempfile.TemporaryDirectory(prefix="gwsb-failover-") as tmp:
        directory = Path(tmp)
        processes = RedisProcesses(directory / "redis")
        (directory / "redis").mkdir()
        simulator = SimulatorProcess(agents=args.agents)
        sink = VerifyingSink(new_secret())
        stack: BridgeStack | None = None
        try:
            servers = SentinelSet(processes)
            simulator.start()
            await sink.start()
            (directory / "bridge").mkdir()
            stack = BridgeStack(simulator.handle(), servers.master_url, sink, directory / "bridge")
            return await run_failover(
                stack, servers, wait_replicas=wait_replicas, rate=args.rate, seconds=args.seconds,
                kill_after=args.kill_after, stall_replica=args.stall_replica,
            )  # fmt: skip
        finally:
            if stack is not None:
                await asyncio.to_thread(stack.stop_children)
            await sink.stop()
            simulator.stop()
            processes.close()


def totals(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "runs": len(runs),
        "events_expected": sum(r["events_expected"] for r in runs),
        "events_lost": sum(r["events_lost"] for r in runs),
        "repeats": sum(r["repeats"] for r in runs),
        "events_with_two_ids": sum(r["events_with_two_ids"] for r in runs),
        "longest_pause_s_max": max(r["longest_pause_s"] for r in runs),
        "promoted_after_s_max": max(r["promoted_after_s"] for r in runs),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    settings = [0, 1] if args.wait == "both" else [int(args.wait)]
    runs: list[dict[str, Any]] = []
    started = time.monotonic()
    for round_ in range(args.rounds):
        for wait_replicas in settings:
            figures = (await one_run(args, wait_replicas)).as_dict()
            log(f"round {round_ + 1} wait_replicas={wait_replicas}: {figures}")
            runs.append(figures)
    return {
        "bench": "failover",
        "agents": args.agents,
        "calls_per_second": args.rate,
        "seconds": args.seconds,
        "kill_after": args.kill_after,
        "stall_replica": args.stall_replica,
        "by_wait_replicas": {str(w): totals([r for r in runs if r["wait_replicas"] == w]) for w in settings},
        "runs": runs,
        "elapsed_s": round(time.monotonic() - started, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--wait", choices=["both", "0", "1"], default="both")
    parser.add_argument("--stall-replica", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--rate", type=float, default=5.0, help="calls per second (4 events each)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--kill-after", type=float, default=8.0)
    args = parser.parse_args()
    if not 0 <= args.stall_replica < args.kill_after < args.seconds:
        parser.error("need 0 <= --stall-replica < --kill-after < --seconds")
    print(orjson.dumps(asyncio.run(main_async(args))).decode(), flush=True)


if __name__ == "__main__":
    main()
