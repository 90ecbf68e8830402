"""The CometD server at the Bayeux protocol level: raw HTTP and websocket requests on loopback.

The server is mounted on a small aiohttp app of its own with a trivial Basic-auth
authenticator (any user, password ``secret``; ``conftest.py``), so these tests pin down the
protocol independently of the rest of the simulator. ``test_bayeux_conformance.py`` holds the
points checked against the Bayeux 1.0 specification and CometD's server.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import orjson
import pytest

from simulator.bayeux_channels import is_valid_channel, is_valid_subscription, matching_patterns
from tests.integration.simulator.raw_bayeux import (
    HANDSHAKE,
    RawBayeux,
    auth,
    connect_reply,
    events,
    eventually,
)


async def test_handshake_assigns_client_and_advertises_transports_and_advice(bayeux: RawBayeux) -> None:
    [reply] = await bayeux.send(
        [
            {
                "channel": "/meta/handshake",
                "version": "1.0",
                "supportedConnectionTypes": ["long-polling"],
                "id": "7",
            }
        ]
    )
    assert reply["successful"] is True
    assert reply["id"] == "7"
    assert reply["version"] == "1.0"
    assert set(reply["supportedConnectionTypes"]) == {"long-polling", "websocket"}
    assert reply["advice"] == {"reconnect": "retry", "interval": 0, "timeout": 1000}
    assert len(reply["clientId"]) >= 16
    assert bayeux.server.client_count == 1


async def test_handshake_with_only_unsupported_transports_is_refused(bayeux: RawBayeux) -> None:
    [reply] = await bayeux.send(
        [{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["callback-polling"]}]
    )
    assert reply["successful"] is False
    assert reply["error"].startswith("301:")
    assert bayeux.server.client_count == 0


async def test_request_without_credentials_gets_http_401(bayeux: RawBayeux) -> None:
    async with bayeux.http.post(bayeux.url, json=[{"channel": "/meta/handshake"}]) as reply:
        assert reply.status == 401
    assert bayeux.server.client_count == 0


async def test_malformed_body_gets_http_400(bayeux: RawBayeux) -> None:
    for body in (b"{not json", b"[]", b"42"):
        async with bayeux.http.post(
            bayeux.url, data=body, headers={**auth("agent1"), "Content-Type": "application/json"},
        ) as reply:  # fmt: skip
            assert reply.status == 400, body


async def test_non_object_message_in_a_batch_gets_an_error_reply(bayeux: RawBayeux) -> None:
    [reply] = await bayeux.send([42])  # type: ignore[list-item]
    assert reply == {
        "channel": "", "successful": False, "error": "400::Message is not an object",
        "advice": {"reconnect": "retry", "interval": 0, "timeout": 1000},
    }  # fmt: skip


async def test_form_encoded_message_field_is_accepted(bayeux: RawBayeux) -> None:
    form = {"message": orjson.dumps([HANDSHAKE]).decode()}
    async with bayeux.http.post(bayeux.url, data=form, headers=auth("agent1")) as reply:
        assert reply.status == 200
        [message] = await reply.json()
    assert message["successful"] is True


async def test_first_connect_answers_at_once_then_connect_is_held_until_timeout(bayeux: RawBayeux) -> None:
    client_id = await bayeux.handshake()
    started = time.monotonic()
    first = connect_reply(await bayeux.connect(client_id))
    assert time.monotonic() - started < 0.5
    assert first["successful"] is True
    assert first["advice"]["reconnect"] == "retry"

    started = time.monotonic()
    replies = await bayeux.connect(client_id)
    held = time.monotonic() - started
    assert 0.9 <= held < 3.0
    assert connect_reply(replies)["successful"] is True
    assert events(replies) == []


async def test_connect_asking_for_zero_timeout_is_not_held(bayeux: RawBayeux) -> None:
    client_id = await bayeux.ready_client()
    started = time.monotonic()
    message = {
        "channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling",
        "advice": {"timeout": 0},
    }  # fmt: skip
    replies = await bayeux.send([message])
    assert time.monotonic() - started < 0.5
    assert connect_reply(replies)["successful"] is True


async def test_held_connect_returns_as_soon_as_a_message_is_published(bayeux: RawBayeux) -> None:
    client_id = await bayeux.ready_client("/v2/me/*")
    poll = asyncio.create_task(bayeux.connect(client_id))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    assert (
        bayeux.server.publish("/v2/me/calls", {"messageType": "CallStateChangeMessage"}, user="agent1") == 1
    )
    replies = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 0.5
    assert events(replies) == [{"channel": "/v2/me/calls", "data": {"messageType": "CallStateChangeMessage"}}]
    # GWS puts the events first and the connect reply last.
    assert replies[-1]["channel"] == "/meta/connect"


async def test_message_for_an_abandoned_long_poll_waits_for_the_next_connect(bayeux: RawBayeux) -> None:
    client_id = await bayeux.ready_client("/v2/me/*")
    message = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"}
    with pytest.raises(TimeoutError):
        # The client gives up on its long-poll and closes the connection while the server holds it.
        async with bayeux.http.post(
            bayeux.url, json=[message], headers=auth("agent1"), timeout=aiohttp.ClientTimeout(total=0.3)
        ):
            pass
    await asyncio.sleep(0.2)
    assert bayeux.server.publish("/v2/me/calls", {"kept": True}, user="agent1") == 1
    await asyncio.sleep(0.2)
    assert events(await bayeux.connect(client_id)) == [{"channel": "/v2/me/calls", "data": {"kept": True}}]


async def test_queued_messages_are_batched_in_order_with_the_connect_reply(bayeux: RawBayeux) -> None:
    client_id = await bayeux.ready_client("/v2/me/*")
    for n in range(3):
        bayeux.server.publish("/v2/me/devices", {"n": n}, user="agent1")
    replies = await bayeux.connect(client_id)
    assert [event["data"]["n"] for event in events(replies)] == [0, 1, 2]
    assert connect_reply(replies)["successful"] is True


async def test_wildcards_match_one_segment_or_many(bayeux: RawBayeux) -> None:
    one = await bayeux.ready_client("/v2/me/*")
    many = await bayeux.ready_client("/v2/**")
    everything = await bayeux.ready_client("/**")
    exact = await bayeux.ready_client("/v2/me/calls")
    publish = bayeux.server.publish
    assert publish("/v2/me/calls", {"k": "calls"}, user="agent1") == 4
    assert publish("/v2/me", {"k": "me"}, user="agent1") == 2  # not /v2/me/*, not exact
    assert publish("/v2/me/calls/extra", {"k": "deep"}, user="agent1") == 2  # /v2/** and /**
    assert publish("/notifications/services", {"k": "svc"}, user=None) == 1  # /** only

    async def keys(client_id: str) -> list[str]:
        return [event["data"]["k"] for event in events(await bayeux.connect(client_id))]

    assert await keys(one) == ["calls"]
    assert await keys(many) == ["calls", "me", "deep"]
    assert await keys(everything) == ["calls", "me", "deep", "svc"]
    assert await keys(exact) == ["calls"]


async def test_overlapping_subscriptions_deliver_a_message_once(bayeux: RawBayeux) -> None:
    client_id = await bayeux.ready_client("/v2/me/*", "/**", "/v2/me/calls")
    assert bayeux.server.publish("/v2/me/calls", {"once": True}, user="agent1") == 1
    assert len(events(await bayeux.connect(client_id))) == 1


async def test_subscription_list_and_unsubscribe(bayeux: RawBayeux) -> None:
    client_id = await bayeux.ready_client()
    reply = await bayeux.subscribe(client_id, ["/v2/me/calls", "/v2/me/devices"])
    assert reply["successful"] is True
    assert reply["subscription"] == ["/v2/me/calls", "/v2/me/devices"]
    [unsubscribed] = await bayeux.send(
        [{"channel": "/meta/unsubscribe", "clientId": client_id, "subscription": "/v2/me/calls", "id": "9"}]
    )
    assert unsubscribed == {
        "channel": "/meta/unsubscribe", "successful": True, "clientId": client_id,
        "subscription": "/v2/me/calls", "id": "9",
    }  # fmt: skip
    assert bayeux.server.publish("/v2/me/calls", {}, user="agent1") == 0
    assert bayeux.server.publish("/v2/me/devices", {}, user="agent1") == 1


@pytest.mark.parametrize(
    ("subscription", "code"),
    [("v2/me", "405"), ("/v2/*/calls", "405"), ("/v2//calls", "405"), ("/meta/connect", "403"), ("", "405")],
)
async def test_invalid_or_forbidden_subscription_is_refused(
    bayeux: RawBayeux, subscription: str, code: str
) -> None:
    client_id = await bayeux.ready_client()
    reply = await bayeux.subscribe(client_id, subscription)
    assert reply["successful"] is False
    assert reply["error"].startswith(code + ":")
    assert reply["subscription"] == subscription


async def test_clients_cannot_publish(bayeux: RawBayeux) -> None:
    client_id = await bayeux.ready_client("/v2/me/*")
    [reply] = await bayeux.send([{"channel": "/v2/me/calls", "clientId": client_id, "data": {"x": 1}}])
    assert reply["successful"] is False
    assert reply["error"].startswith("403:")
    replies = await bayeux.connect(client_id, advice={"timeout": 0})
    assert connect_reply(replies)["successful"] is True
    assert events(replies) == []


async def test_messages_are_per_user(bayeux: RawBayeux) -> None:
    alice = await bayeux.ready_client("/v2/me/*", user="agent1")
    bob = await bayeux.ready_client("/v2/me/*", user="agent2")
    assert bayeux.server.publish("/v2/me/calls", {"for": "agent1"}, user="agent1") == 1
    assert bayeux.server.publish("/v2/me/calls", {"for": "agent2"}, user="agent2") == 1
    assert bayeux.server.publish("/v2/me/calls", {"for": "nobody"}, user="agent3") == 0
    assert bayeux.server.publish("/v2/me/calls", {"for": "all"}, user=None) == 2
    alice_events = events(await bayeux.connect(alice, "agent1"))
    bob_events = events(await bayeux.connect(bob, "agent2"))
    assert [event["data"]["for"] for event in alice_events] == ["agent1", "all"]
    assert [event["data"]["for"] for event in bob_events] == ["agent2", "all"]


async def test_another_users_requests_on_a_client_are_refused(bayeux: RawBayeux) -> None:
    alice = await bayeux.ready_client("/v2/me/*", user="agent1")
    [stolen] = await bayeux.send(
        [{"channel": "/meta/subscribe", "clientId": alice, "subscription": "/**"}], user="agent2"
    )
    assert stolen["successful"] is False
    assert stolen["error"].startswith("403:")
    hijack = await bayeux.send([{"channel": "/meta/connect", "clientId": alice}], user="agent2")
    assert connect_reply(hijack)["successful"] is False
    # Nothing of agent1's leaked, and agent1's client still works.
    bayeux.server.publish("/v2/me/calls", {"secret": "agent1's"}, user="agent1")
    assert events(hijack) == []
    assert len(events(await bayeux.connect(alice, "agent1"))) == 1


async def test_unknown_client_gets_402_with_handshake_advice(bayeux: RawBayeux) -> None:
    for channel in ("/meta/connect", "/meta/subscribe", "/meta/unsubscribe", "/meta/disconnect"):
        [reply] = await bayeux.send(
            [{"channel": channel, "clientId": "nope", "subscription": "/a", "id": "3"}]
        )
        assert reply["successful"] is False
        assert reply["error"] == "402::Unknown client"
        assert reply["advice"]["reconnect"] == "handshake"
        assert reply["id"] == "3"


async def test_disconnect_all_answers_held_connect_with_402_and_client_can_rehandshake(
    bayeux: RawBayeux,
) -> None:
    client_id = await bayeux.ready_client("/v2/me/*")
    poll = asyncio.create_task(bayeux.connect(client_id))
    await asyncio.sleep(0.2)
    assert await bayeux.server.disconnect_all() == 1
    held = connect_reply(await asyncio.wait_for(poll, 0.5))
    assert held["successful"] is False
    assert held["error"] == "402::Unknown client"
    assert held["advice"]["reconnect"] == "handshake"
    assert bayeux.server.client_count == 0
    assert bayeux.server.publish("/v2/me/calls", {}, user="agent1") == 0
    again = connect_reply(await bayeux.connect(client_id))
    assert again["error"] == "402::Unknown client"

    fresh = await bayeux.ready_client("/v2/me/*")
    assert fresh != client_id
    bayeux.server.publish("/v2/me/calls", {"back": True}, user="agent1")
    assert events(await bayeux.connect(fresh)) == [{"channel": "/v2/me/calls", "data": {"back": True}}]


async def test_disconnect_all_can_refuse_every_request_for_a_while(bayeux: RawBayeux) -> None:
    # A GWS whose CometD is down behind a load balancer: 503 to everything, then business as usual.
    client_id = await bayeux.ready_client("/v2/me/*")
    assert await bayeux.server.disconnect_all(refuse_for=0.3) == 1
    async with bayeux.http.post(bayeux.url, json=[HANDSHAKE], headers=auth("agent1")) as reply:
        assert reply.status == 503
    assert bayeux.server.publish("/v2/me/calls", {"lost": True}, user="agent1") == 0
    await asyncio.sleep(0.35)
    assert connect_reply(await bayeux.connect(client_id))["error"] == "402::Unknown client"
    fresh = await bayeux.ready_client("/v2/me/*")
    bayeux.server.publish("/v2/me/calls", {"back": True}, user="agent1")
    assert events(await bayeux.connect(fresh)) == [{"channel": "/v2/me/calls", "data": {"back": True}}]


async def test_rehandshake_batch_connect_with_subscribes_is_answered_at_once(bayeux: RawBayeux) -> None:
    # aiocometd resubscribes after a re-handshake by batching subscribes behind its first connect.
    client_id = await bayeux.handshake()
    started = time.monotonic()
    subscribe = {"channel": "/meta/subscribe", "clientId": client_id}
    replies = await bayeux.send([
        {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling", "id": "1"},
        {**subscribe, "subscription": "/v2/me/*", "id": "2"},
        {**subscribe, "subscription": "/notifications/services", "id": "3"},
    ])  # fmt: skip
    assert time.monotonic() - started < 0.5
    assert [(reply["channel"], reply["id"], reply["successful"]) for reply in replies] == [
        ("/meta/connect", "1", True), ("/meta/subscribe", "2", True), ("/meta/subscribe", "3", True),
    ]  # fmt: skip
    assert bayeux.server.publish("/notifications/services", {}, user=None) == 1


async def test_disconnect_ends_the_session(bayeux: RawBayeux) -> None:
    client_id = await bayeux.ready_client("/v2/me/*")
    [reply] = await bayeux.send([{"channel": "/meta/disconnect", "clientId": client_id, "id": "5"}])
    assert reply == {"channel": "/meta/disconnect", "successful": True, "clientId": client_id, "id": "5"}
    assert bayeux.server.client_count == 0
    assert bayeux.server.publish("/v2/me/calls", {}, user="agent1") == 0
    assert connect_reply(await bayeux.connect(client_id))["error"] == "402::Unknown client"


async def test_full_queue_drops_oldest_messages_and_counts_them(bayeux_factory: Any) -> None:
    bayeux = await bayeux_factory(max_queue=5)
    client_id = await bayeux.ready_client("/v2/me/*")
    for n in range(8):
        bayeux.server.publish("/v2/me/calls", {"n": n}, user="agent1")
    assert bayeux.server.stats()["dropped"] == 3
    assert [event["data"]["n"] for event in events(await bayeux.connect(client_id))] == [3, 4, 5, 6, 7]


async def test_silent_client_expires_after_session_timeout(bayeux_factory: Any) -> None:
    bayeux = await bayeux_factory(session_timeout=0.3)
    client_id = await bayeux.ready_client("/v2/me/*")
    await eventually(lambda: bayeux.server.client_count == 0, seconds=5)
    assert bayeux.server.publish("/v2/me/calls", {}, user="agent1") == 0
    assert connect_reply(await bayeux.connect(client_id))["error"] == "402::Unknown client"


async def test_client_holding_a_connect_does_not_expire(bayeux_factory: Any) -> None:
    bayeux = await bayeux_factory(session_timeout=0.3, long_poll_timeout=1.5)
    client_id = await bayeux.ready_client("/v2/me/*")
    replies = await bayeux.connect(client_id)  # held 1.5 s, longer than the session timeout
    assert connect_reply(replies)["successful"] is True
    assert bayeux.server.client_count == 1


async def test_close_ends_held_connects_promptly(bayeux: RawBayeux) -> None:
    client_id = await bayeux.ready_client("/v2/me/*")
    poll = asyncio.create_task(bayeux.connect(client_id))
    await asyncio.sleep(0.2)
    await bayeux.server.close()
    replies = await asyncio.wait_for(poll, 0.5)
    assert connect_reply(replies)["channel"] == "/meta/connect"
    assert bayeux.server.client_count == 0


async def test_websocket_transport_speaks_the_same_protocol(bayeux: RawBayeux) -> None:
    async with bayeux.http.ws_connect(bayeux.url, headers=auth("agent1")) as ws:
        await ws.send_json([{"channel": "/meta/handshake", "version": "1.0",
                             "supportedConnectionTypes": ["websocket"], "id": "1"}])  # fmt: skip
        [handshake] = await ws.receive_json(timeout=2)
        client_id = handshake["clientId"]
        await ws.send_json(
            [{"channel": "/meta/connect", "clientId": client_id, "connectionType": "websocket"}]
        )
        assert (await ws.receive_json(timeout=2))[0]["successful"] is True
        # A held connect must not block other exchanges on the same socket.
        await ws.send_json([{"channel": "/meta/connect", "clientId": client_id, "connectionType": "websocket",
                             "id": "c"}])  # fmt: skip
        await ws.send_json([{"channel": "/meta/subscribe", "clientId": client_id, "subscription": "/v2/me/*",
                             "id": "s"}])  # fmt: skip
        [subscribed] = await ws.receive_json(timeout=0.5)
        assert (subscribed["id"], subscribed["successful"]) == ("s", True)
        # The held connect is answered when its timeout (1 s) passes.
        [held] = await ws.receive_json(timeout=2)
        assert (held["channel"], held["id"], held["successful"]) == ("/meta/connect", "c", True)


async def test_close_closes_open_websockets(bayeux: RawBayeux) -> None:
    async with bayeux.http.ws_connect(bayeux.url, headers=auth("agent1")) as ws:
        await ws.send_json([HANDSHAKE])
        await ws.receive_json(timeout=2)
        started = time.monotonic()
        await asyncio.wait_for(bayeux.server.close(), 3)
        frame = await ws.receive(timeout=2)
        assert frame.type is aiohttp.WSMsgType.CLOSE
        assert frame.data == aiohttp.WSCloseCode.GOING_AWAY
        assert time.monotonic() - started < 2.5
    assert bayeux.server.stats()["websockets"] == 0


async def test_handshakes_beyond_max_clients_are_refused(bayeux_factory: Any) -> None:
    bayeux = await bayeux_factory(max_clients=2)
    await bayeux.handshake()
    await bayeux.handshake()
    [refused] = await bayeux.send([HANDSHAKE])
    assert refused["successful"] is False
    assert refused["error"].startswith("503:")
    assert bayeux.server.client_count == 2


async def test_websocket_upgrade_requires_credentials(bayeux: RawBayeux) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await bayeux.http.ws_connect(bayeux.url)
    assert refused.value.status == 401


async def test_two_thousand_clients_with_two_hundred_concurrent_long_polls(bayeux_factory: Any) -> None:
    bayeux = await bayeux_factory(long_poll_timeout=10.0)
    # 1,800 idle clients of another user, handshaken over one websocket (one handshake per batch).
    async with bayeux.http.ws_connect(bayeux.url, headers=auth("idle")) as ws:
        for _ in range(1800):
            await ws.send_json([HANDSHAKE])
        assert all([(await ws.receive_json(timeout=5))[0]["successful"] for _ in range(1800)])
    users = [f"agent{n:04d}" for n in range(200)]
    client_ids = await asyncio.gather(*(bayeux.ready_client("/v2/me/*", user=user) for user in users))
    assert bayeux.server.client_count == 2000

    polls = [
        asyncio.create_task(bayeux.connect(cid, user)) for cid, user in zip(client_ids, users, strict=True)
    ]
    await eventually(lambda: bayeux.server.stats()["held_connects"] == 200, seconds=5)
    started = time.monotonic()
    for user in users:
        assert bayeux.server.publish("/v2/me/calls", {"agent": user}, user=user) == 1
    replies = await asyncio.wait_for(asyncio.gather(*polls), 5)
    assert time.monotonic() - started < 3
    for user, reply in zip(users, replies, strict=True):
        assert events(reply) == [{"channel": "/v2/me/calls", "data": {"agent": user}}]


# -- channel names (pure; kept here because they belong to the server's contract) ------------------


def test_matching_patterns_of_a_channel() -> None:
    assert matching_patterns("/v2/me/calls") == ["/v2/me/calls", "/v2/me/*", "/v2/me/**", "/v2/**", "/**"]
    assert matching_patterns("/a") == ["/a", "/*", "/**"]


@pytest.mark.parametrize(
    ("name", "channel", "subscription"),
    [
        ("/v2/me/calls", True, True),
        ("/v2/me/*", False, True),
        ("/**", False, True),
        ("/v2/*/calls", False, False),
        ("/v2//calls", False, False),
        ("v2/me", False, False),
        ("/", False, False),
        ("/v2/me/", False, False),
    ],
)
def test_channel_and_subscription_names(name: str, channel: bool, subscription: bool) -> None:
    assert is_valid_channel(name) is channel
    assert is_valid_subscription(name) is subscription
