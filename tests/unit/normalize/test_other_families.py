"""Workbins, services and password-change notifications."""

from __future__ import annotations

from bridge.normalize import MemoryState

from .conftest import AGENT, feed


def test_workbin_added_updated_removed(state: MemoryState) -> None:
    events = feed(
        state,
        "cometd_workbin_placed_in.json",
        "synthetic_workbin_changed.json",
        "synthetic_workbin_taken_out.json",
    )
    assert [e.type for e in events] == [
        "workbin.interaction_added",
        "workbin.interaction_updated",
        "workbin.interaction_removed",
    ]
    assert {e.subject for e in events} == {f"workbin/{AGENT}/TestWorkbin"}
    assert events[2].data["reason"] == {"code": "2", "name": "Pull", "description": "pulled by the agent"}
    assert feed(state, "synthetic_workbin_taken_out.json") == []


def test_service_goes_down_and_up(state: MemoryState) -> None:
    events = feed(
        state, "cometd_service_active.json", "cometd_service_inactive.json", "cometd_service_active.json"
    )
    assert [(e.data["previous_state"], e.data["state"]) for e in events] == [
        (None, "Active"),
        ("Active", "Inactive"),
        ("Inactive", "Active"),
    ]
    assert len({e.id for e in events}) == 3
    assert {e.subject for e in events} == {"service/370ef5e6-9e3c-4d91-9588-7f4dfe67e011"}


def test_password_change_success_and_error(state: MemoryState) -> None:
    events = feed(state, "synthetic_user_password_changed.json", "synthetic_users_password_change_error.json")
    assert [e.type for e in events] == ["user.password_changed", "user.password_changed"]
    assert events[0].subject == f"user/{AGENT}"
    assert events[0].data["successful"] is True
    error = events[1].data
    assert (error["successful"], error["error_code"], error["error_reason"]) == (
        False,
        "2",
        "wrong_old_password",
    )
    assert events[1].subject == "user/8eb52b0724344f67a44389db5aa5f192"
    assert feed(state, "synthetic_users_password_change_error.json") == []
