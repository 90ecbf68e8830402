"""``gws-bridge healthcheck``: exit 0 when a role answers and its event loop turns, else 1.

For a container's or a pod's probe: ``gws-bridge healthcheck --port 9100`` reads the role's
``/metrics`` and fails when ``gwsb_heartbeat_age_seconds`` is over ``--max-age`` (the loop is
stuck although the metrics thread still answers) or when nothing answers. A URL without that
metric (the receiver's ``/healthz``, served by its own loop) only has to answer 200. Imports
nothing but the standard library: it runs every few seconds.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request

__all__ = ["add_arguments", "check", "run"]

_METRIC = "gwsb_heartbeat_age_seconds"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=9100, help="metrics port on 127.0.0.1 (default 9100)")
    parser.add_argument("--url", help="what to probe instead (default http://127.0.0.1:PORT/metrics)")
    parser.add_argument(
        "--max-age", type=float, default=30.0, help="seconds the heartbeat may be old (default 30)"
    )
    parser.add_argument(
        "--timeout", type=float, default=4.0, help="seconds to wait for an answer (default 4)"
    )


def check(url: str, *, max_age: float, timeout: float) -> str | None:
    """``None`` when healthy, else why not."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            if response.status != 200:
                return f"{url} answered {response.status}"
            text = response.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        return f"{url}: {exc}"
    for line in text.splitlines():
        if line.startswith(_METRIC + " "):
            age = float(line.split()[1])
            return None if age <= max_age else f"the event loop last turned {age:.0f} s ago"
    return None


def run(args: argparse.Namespace) -> int:
    problem = check(
        args.url or f"http://127.0.0.1:{args.port}/metrics", max_age=args.max_age, timeout=args.timeout
    )
    if problem is not None:
        print(f"gws-bridge healthcheck: unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0
