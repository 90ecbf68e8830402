"""Routing is a pure function from an event to destination names."""

from __future__ import annotations

from typing import Any

from bridge.config.delivery import RouteConfig
from bridge.routing import destinations_for, route_matches
from tests.plugins.delivery import make_event


def route(**fields: Any) -> RouteConfig:
    return RouteConfig(**{"destinations": ["crm"], **fields})


def test_type_globs_select_families() -> None:
    ringing = make_event(1, type="call.ringing")
    state = make_event(2, type="agent.state_changed")
    assert route_matches(ringing, route(events=["call.*"]))
    assert not route_matches(state, route(events=["call.*"]))
    assert route_matches(state, route(events=["call.*", "agent.*"]))
    assert route_matches(state, route())  # default: every event


def test_agent_filter_uses_partitionkey() -> None:
    event = make_event(1, agent="alice")
    assert route_matches(event, route(agents=["al*"]))
    assert not route_matches(event, route(agents=["bob"]))


def test_queue_filter_reads_data_queue_then_userdata_queue() -> None:
    assert route_matches(make_event(1, queue="sales"), route(queues=["sales"]))
    assert route_matches(make_event(1, userData={"queue": "sales-emea"}), route(queues=["sales*"]))
    assert not route_matches(make_event(1), route(queues=["sales"]))  # no queue at all: no match


def test_channel_filter_defaults_calls_to_voice() -> None:
    assert route_matches(make_event(1, type="call.ringing"), route(channels=["voice"]))
    chat = make_event(1, type="interaction.invited", channel="chat")
    assert route_matches(chat, route(channels=["chat", "email"]))
    assert not route_matches(chat, route(channels=["voice"]))


def test_user_data_filters_must_all_match() -> None:
    event = make_event(1, userData={"Segment": "gold", "Lang": "fr"})
    assert route_matches(event, route(user_data={"Segment": ["gold", "platinum"]}))
    assert route_matches(event, route(user_data={"Segment": ["gold"], "Lang": ["f?"]}))
    assert not route_matches(event, route(user_data={"Segment": ["gold"], "Lang": ["en"]}))
    assert not route_matches(event, route(user_data={"Missing": ["*"]}))


def test_nested_values_never_match_a_glob() -> None:
    event = make_event(1, userData={"Segment": {"tier": "gold"}})
    assert not route_matches(event, route(user_data={"Segment": ["*"]}))


def test_destinations_are_unique_in_first_route_order() -> None:
    routes = [
        RouteConfig(events=["call.*"], destinations=["crm", "slack"]),
        RouteConfig(events=["*"], destinations=["audit", "crm"]),
        RouteConfig(events=["agent.*"], destinations=["never"]),
    ]
    assert destinations_for(make_event(1), routes) == ["crm", "slack", "audit"]
    assert destinations_for(make_event(1), []) == []
