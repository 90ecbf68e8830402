"""StatsEngine keeps running figures: averages and service levels over many calls, two thresholds."""

from __future__ import annotations

from typing import Any

from simulator.defaults import generate_users
from simulator.model import SimState
from simulator.stats import StatsEngine
from simulator.stats_config import StatisticDefinition, StatObject


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def call(call_id: str, state: str) -> dict[str, Any]:
    return {
        "messageType": "CallStateChangeMessage",
        "notificationType": "StatusChange",
        "call": {"id": call_id, "state": state, "callType": "Inbound"},
    }


def test_figures_over_many_calls_match_their_definitions():
    state = SimState()
    for user in generate_users(3):
        state.add_user(user)
    definitions = [
        StatisticDefinition("SL20", "ServiceFactor", "QUEUE", time_range="Range0-20"),
        StatisticDefinition("SL5", "ServiceFactor", "QUEUE", time_range="Range0-5"),
        StatisticDefinition("Avg", "AverageWaitingTime", "QUEUE"),
        StatisticDefinition("Waiting", "CurrNumberWaitingCalls", "QUEUE"),
        StatisticDefinition("MaxWait", "CurrMaxWaitingTime", "QUEUE"),
    ]
    clock = Clock()
    engine = StatsEngine(state, definitions, [StatObject("VQ", "QUEUE")], clock=clock)
    waits = [float(n % 30) for n in range(12_000)]  # more answered calls than any window would keep
    for n, wait in enumerate(waits):
        engine.observe("/v2/me/calls", call(f"c{n}", "Ringing"), "agent0001")
        clock.now += wait
        engine.observe("/v2/me/calls", call(f"c{n}", "Established"), "agent0001")
    engine.observe("/v2/me/calls", call("gone", "Ringing"), "agent0002")
    clock.now += 7
    figures = {item["statistic"]: item["value"] for item in engine.latest("VQ")["statistics"]}
    assert figures["Waiting"] == 1 and figures["MaxWait"] == 7
    engine.observe("/v2/me/calls", call("gone", "Released"), "agent0002")  # abandoned after 7 s
    figures = {item["statistic"]: item["value"] for item in engine.latest("VQ")["statistics"]}
    handled = len(waits) + 1
    assert figures["SL20"] == round(100.0 * sum(w <= 20 for w in waits) / handled, 1)
    assert figures["SL5"] == round(100.0 * sum(w <= 5 for w in waits) / handled, 1)
    assert figures["Avg"] == round((sum(waits) + 7) / handled, 1)
    assert figures["Waiting"] == 0 and figures["MaxWait"] == 0
