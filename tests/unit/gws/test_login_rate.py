"""LoginRateLimiter: a burst at once, then one slot every 1/rate seconds, in the order asked."""

from __future__ import annotations

import pytest

from bridge.gws.login_rate import LoginRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_goes_at_once_then_callers_are_spaced_by_the_interval() -> None:
    clock = Clock()
    limiter = LoginRateLimiter(10.0, burst=3, clock=clock)
    waits = [limiter.reserve() for _ in range(6)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2, 0.3])


def test_a_quiet_spell_refills_the_burst_but_never_beyond_it() -> None:
    clock = Clock()
    limiter = LoginRateLimiter(2.0, burst=2, clock=clock)
    assert [limiter.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.5])
    clock.now += 60.0  # a minute without log-ins: still only 2 at once
    assert [limiter.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.5])


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        LoginRateLimiter(0.0)
    with pytest.raises(ValueError, match="burst"):
        LoginRateLimiter(1.0, burst=0)
