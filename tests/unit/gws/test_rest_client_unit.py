"""Pure parts of GwsRestClient: URLs, headers, backoff bounds, what repr shows, exports."""

from __future__ import annotations

import base64

import pytest

import bridge.gws.errors as gws_errors
import bridge.gws.operations as gws_operations
import bridge.gws.rest as gws_rest
from bridge.gws.rest import GwsRestClient
from bridge.gws.rest_transport import RestTransport


def test_api_url_is_relative_to_api_v2_unless_it_names_another_api() -> None:
    client = GwsRestClient("http://127.0.0.1:8090/", "agent0001", "pw")
    assert client.base_url == "http://127.0.0.1:8090"
    assert client.api_url("/me/calls") == "http://127.0.0.1:8090/api/v2/me/calls"
    assert client.api_url("me") == "http://127.0.0.1:8090/api/v2/me"
    assert client.api_url("/api/v1/stats/q1") == "http://127.0.0.1:8090/api/v1/stats/q1"


def test_before_login_cometd_headers_hold_only_basic_auth() -> None:
    client = GwsRestClient("http://gws", "agent0001", "pa:ss")
    expected = "Basic " + base64.b64encode(b"agent0001:pa:ss").decode()
    assert client.cometd_headers() == {"Authorization": expected}
    assert client.csrf is None and not client.logged_in and client.user == {}


def test_repr_names_the_agent_but_not_the_password() -> None:
    client = GwsRestClient("http://gws", "agent0001", "very-secret-pw")
    text = repr(client)
    assert "agent0001" in text
    assert "very-secret-pw" not in text
    assert base64.b64encode(b"agent0001:very-secret-pw").decode() not in text


@pytest.mark.parametrize("kwargs", [{"timeout": 0}, {"timeout": -1}, {"get_retries": -1}])
def test_invalid_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        GwsRestClient("http://gws", "a", "b", **kwargs)


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    transport = RestTransport("http://gws", "a", "b", backoff_base=0.1, backoff_cap=1.0)
    for retries, ceiling in [(0, 0.1), (1, 0.2), (2, 0.4), (3, 0.8), (4, 1.0), (10, 1.0)]:
        delays = [transport.backoff(retries, None) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), retries
        assert len(set(delays)) > 1  # jittered
    assert transport.backoff(0, 0.5) == 0.5  # Retry-After honoured
    assert transport.backoff(0, 60.0) == 1.0  # but capped


@pytest.mark.parametrize("module", [gws_rest, gws_errors, gws_operations])
def test_all_names_exist(module: object) -> None:
    for name in module.__all__:  # type: ignore[attr-defined]
        assert hasattr(module, name), name
