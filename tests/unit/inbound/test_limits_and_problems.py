"""Rate limiting, problem documents and the CTI button states."""

from __future__ import annotations

from bridge.errors import GwsError, GwsTransportError
from bridge.inbound.cti_replies import button_states
from bridge.inbound.problems import problem_for_gws_error
from bridge.inbound.ratelimit import RateLimiter


def test_token_bucket_allows_a_burst_then_asks_to_wait() -> None:
    now = [100.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert [limiter.acquire("crm", 2.0, 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.acquire("crm", 2.0, 3)
    assert 0.49 < wait <= 0.5
    assert RateLimiter.retry_after_header(wait) == "1"
    assert limiter.acquire("other", 2.0, 3) == 0.0
    now[0] += 0.5
    assert limiter.acquire("crm", 2.0, 3) == 0.0


def test_gws_refusal_carries_status_code_and_message() -> None:
    body = problem_for_gws_error(
        GwsError("Invalid state", status_code=2, http_status=200), command_id="c1"
    ).body()
    assert body["status"] == 409
    assert (body["gws_status_code"], body["gws_message"], body["command_id"]) == (2, "Invalid state", "c1")
    assert problem_for_gws_error(GwsTransportError("no reply within 10 s")).status in {502, 504}


def test_button_states_follow_the_agent_state_and_calls() -> None:
    device = {"deviceState": "Active", "userState": {"state": "NotReady"}}
    assert button_states(device, [])["items"] == {
        "NotReady": "Enable",
        "Ready": "Enable",
        "make_call": "Enable",
        "mute": "Enable",
        "unmute": "Hide",
    }
    ready = button_states({"userState": {"state": "Ready"}}, [{"state": "Established", "mute": "On"}])
    assert ready["items"]["Ready"] == "Disable" and ready["items"]["unmute"] == "Enable"
    assert button_states({"userState": {"state": "LoggedOut"}}, [])["items"]["Ready"] == "Hide"
    assert ready["count"] == 5
