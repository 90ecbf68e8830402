"""Run a module under cProfile with every thread profiled; the stats, merged, go to one file at exit.

``python -m cProfile`` sees only the main thread, but the worker delivers on its own event-loop
thread and runs Celery tasks on a thread pool. This runner gives each thread started after it
its own ``cProfile.Profile`` (``threading.setprofile``), timed by that thread's CPU clock
(``time.thread_time``: waiting costs nothing, so the figures are CPU, not wall time), and merges
them all when the module returns (SIGTERM: the bridge processes exit cleanly). Read the file with ``pstats``:

    .venv/bin/python bench/profile_threads.py OUT.prof -m bridge.cli worker --config …
    .venv/bin/python -c "import pstats; pstats.Stats('OUT.prof').sort_stats('tottime').print_stats(30)"
"""

from __future__ import annotations

import cProfile
import pstats
import runpy
import signal
import sys
import threading
import time
from typing import Any

_profiles: list[cProfile.Profile] = []


def _start_thread_profile(*_: Any) -> None:
    profile = cProfile.Profile(time.thread_time)
    _profiles.append(profile)
    profile.enable()  # replaces this hook for the thread that called it


class _Snapshot:
    """What ``pstats.Stats`` takes from a profile another thread may still be running."""

    def __init__(self, profile: cProfile.Profile) -> None:
        profile.snapshot_stats()
        self.stats = profile.stats  # type: ignore[attr-defined]

    def create_stats(self) -> None:
        pass


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] != "-m":
        raise SystemExit("usage: profile_threads.py OUT.prof -m MODULE [ARGS…]")
    out, module = sys.argv[1], sys.argv[3]
    sys.argv = [module, *sys.argv[4:]]
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # until the module installs its own
    main_profile = cProfile.Profile(time.thread_time)
    threading.setprofile(_start_thread_profile)
    main_profile.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        main_profile.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
        stats = pstats.Stats(main_profile)
        for profile in list(_profiles):
            stats.add(_Snapshot(profile))
        stats.dump_stats(out)
        print(f"profile: {len(_profiles) + 1} threads -> {out}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
