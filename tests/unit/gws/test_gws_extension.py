"""``GwsExtension`` reads the Bayeux meta replies and tells its ``ConnectionEvents`` what they mean."""

from __future__ import annotations

import base64
from typing import Any

from bridge.gws.cometd import ConnectionEvents, GwsExtension
from bridge.gws.rest import GwsRestClient

CHANNELS = ("/v2/me/*", "/notifications/services", "/v2/me")


class RecordedEvents:
    """A ``ConnectionEvents`` that writes down what it is told."""

    def __init__(self) -> None:
        self.told: list[tuple[str, str]] = []

    def cometd_connected(self) -> None:
        self.told.append(("connected", ""))

    def cometd_lost(self, reason: str) -> None:
        self.told.append(("lost", reason))

    def cometd_needs_recovery(self, reason: str) -> None:
        self.told.append(("recovery", reason))

    async def relogin(self, reason: str) -> None:
        self.told.append(("relogin", reason))


def extension() -> tuple[GwsExtension, RecordedEvents]:
    events = RecordedEvents()
    watched: ConnectionEvents = events
    return GwsExtension(GwsRestClient("http://gws", "agent0001", "pw"), CHANNELS, watched), events


def handshake() -> list[dict[str, Any]]:
    return [{"channel": "/meta/handshake", "successful": True}]


def subscribed(channel: str, successful: bool = True) -> list[dict[str, Any]]:
    return [{"channel": "/meta/subscribe", "subscription": channel, "successful": successful}]


async def test_every_request_carries_the_agents_credentials() -> None:
    ext, _ = extension()
    headers: dict[str, str] = {}
    await ext.outgoing([{"channel": "/meta/handshake"}], headers)
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"agent0001:pw").decode()


async def test_a_re_handshake_asks_for_recovery_once_every_channel_is_subscribed_again() -> None:
    ext, events = extension()
    await ext.incoming(handshake())
    for channel in CHANNELS:
        await ext.incoming(subscribed(channel))
    assert events.told == []  # the first handshake: the session's own recovery follows

    await ext.incoming(handshake())
    await ext.incoming(subscribed(CHANNELS[0]))
    await ext.incoming(subscribed(CHANNELS[1]))
    assert events.told == []
    await ext.incoming(subscribed(CHANNELS[2]))
    assert events.told == [("recovery", "re-handshake")]


async def test_a_refused_re_subscription_is_reported_by_channel() -> None:
    ext, events = extension()
    await ext.incoming(handshake())
    await ext.incoming(handshake())
    await ext.incoming([{**subscribed("/v2/me/*", successful=False)[0], "error": "403::denied"}])
    assert events.told == [("recovery", "re-subscribe to /v2/me/* failed: 403::denied")]


async def test_a_connect_without_reply_is_a_loss_and_the_next_success_a_reconnect() -> None:
    ext, events = extension()
    await ext.outgoing([{"channel": "/meta/connect"}], {})
    await ext.incoming([{"channel": "/meta/connect", "successful": True}])
    assert events.told == [("connected", "")]

    await ext.outgoing([{"channel": "/meta/connect"}], {})
    await ext.outgoing([{"channel": "/meta/connect"}], {})  # the previous one got no reply
    await ext.incoming([{"channel": "/meta/connect", "successful": True}])
    assert events.told[1:] == [
        ("lost", "cometd connect failed"),
        ("recovery", "reconnect"),
        ("connected", ""),
    ]


async def test_a_refused_connect_is_a_loss_and_a_refused_session_a_new_login() -> None:
    ext, events = extension()
    await ext.incoming([{"channel": "/meta/connect", "successful": False, "error": "402::Unknown client"}])
    await ext.authenticate()
    assert events.told == [("lost", "402::Unknown client"), ("relogin", "cometd refused the session")]
