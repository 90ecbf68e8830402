"""The CometD server against the Bayeux 1.0 specification and CometD's server behaviour.

Each test pins one point where the server used to deviate (issue 15): sub-path mapping, the
client's ``advice.timeout``, required fields, advice on every connect and error, a second
concurrent connect, batching, ``ext``, and the websocket transport (pushes, close codes, expiry).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from tests.integration.simulator.raw_bayeux import (
    HANDSHAKE,
    RawBayeux,
    auth,
    connect_reply,
    events,
    eventually,
)

ADVICE_KEYS = {"reconnect", "interval", "timeout"}


async def post(bayeux: RawBayeux, body: Any, path: str = "") -> tuple[int, Any]:
    async with bayeux.http.post(bayeux.url + path, json=body, headers=auth("agent1")) as reply:
        return reply.status, await reply.json(content_type=None)


# -- the URL space -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["/handshake", "/connect", "/subscribe", "/", "/meta/anything/else"])
async def test_every_path_below_the_mount_serves_long_polling(bayeux: RawBayeux, suffix: str) -> None:
    # The CometD JavaScript client appends the message type to the URL by default.
    [handshake] = await bayeux.send([HANDSHAKE], path="/handshake")
    client_id = handshake["clientId"]
    connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"}
    assert connect_reply(await bayeux.send([connect], path=suffix))["successful"] is True
    subscribe = {"channel": "/meta/subscribe", "clientId": client_id, "subscription": "/v2/me/*"}
    [subscribed] = await bayeux.send([subscribe], path=suffix)
    assert subscribed["successful"] is True
    assert bayeux.server.publish("/v2/me/calls", {"n": 1}, user="agent1") == 1


async def test_websocket_opens_on_a_path_below_the_mount(bayeux: RawBayeux) -> None:
    async with bayeux.http.ws_connect(bayeux.url + "/handshake", headers=auth("agent1")) as ws:
        await ws.send_json([{**HANDSHAKE, "supportedConnectionTypes": ["websocket"]}])
        [reply] = await ws.receive_json(timeout=2)
    assert reply["successful"] is True


async def test_a_sibling_path_is_not_the_endpoint(bayeux: RawBayeux) -> None:
    assert bayeux.server.serves("/api/v2/notifications/connect")
    assert not bayeux.server.serves("/api/v2/notificationsX")
    async with bayeux.http.post(bayeux.url + "X", json=[HANDSHAKE], headers=auth("agent1")) as reply:
        assert reply.status == 404


# -- required fields -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "error"),
    [
        ("version", "400::Missing version"),
        ("supportedConnectionTypes", "400::Missing supportedConnectionTypes"),
    ],
)
async def test_handshake_without_a_required_field_is_refused(
    bayeux: RawBayeux, missing: str, error: str
) -> None:
    message = {key: value for key, value in HANDSHAKE.items() if key != missing}
    [reply] = await bayeux.send([{**message, "id": "h"}])
    assert (reply["successful"], reply["error"], reply["id"]) == (False, error, "h")
    assert reply["advice"]["reconnect"] == "none"
    assert "clientId" not in reply
    assert bayeux.server.client_count == 0


@pytest.mark.parametrize(
    ("connection_type", "error"),
    [
        (None, "400::Missing connectionType"),
        ("callback-polling", "400:callback-polling:Unsupported connectionType"),
    ],
)
async def test_connect_without_a_known_connection_type_is_refused(
    bayeux: RawBayeux, connection_type: str | None, error: str
) -> None:
    client_id = await bayeux.handshake()
    message: dict[str, Any] = {"channel": "/meta/connect", "clientId": client_id, "id": "c"}
    if connection_type is not None:
        message["connectionType"] = connection_type
    [reply] = await bayeux.send([message])
    assert (reply["successful"], reply["error"], reply["id"]) == (False, error, "c")
    assert reply["advice"]["reconnect"] == "none"
    assert bayeux.server.client_count == 1  # the session itself is fine


# -- advice --------------------------------------------------------------------------------------


async def test_every_connect_reply_carries_full_advice_and_no_client_id(bayeux: RawBayeux) -> None:
    client_id = await bayeux.handshake()
    first = connect_reply(await bayeux.connect(client_id, id="1"))
    held = connect_reply(await bayeux.connect(client_id, id="2"))
    # The shape of GWS's own /meta/connect replies (seed 003): successful, advice, id, channel.
    expected = {"reconnect": "retry", "interval": 0, "timeout": 1000}
    assert first == {"channel": "/meta/connect", "successful": True, "advice": expected, "id": "1"}
    assert held == {"channel": "/meta/connect", "successful": True, "advice": expected, "id": "2"}


async def test_every_error_reply_carries_advice(bayeux: RawBayeux) -> None:
    client_id = await bayeux.ready_client()
    requests = [
        {"channel": "/meta/subscribe", "clientId": client_id, "subscription": "/v2//x"},  # 405
        {"channel": "/meta/subscribe", "clientId": client_id, "subscription": "/meta/connect"},  # 403
        {"channel": "/meta/subscribe", "clientId": client_id, "subscription": []},  # 400
        {"channel": "/meta/bogus", "clientId": client_id},  # 400
        {"channel": "/v2/me/calls", "clientId": client_id, "data": {}},  # 403 publish
        {"channel": "not-a-channel", "clientId": client_id, "data": {}},  # 405
        {"clientId": client_id},  # 400 missing channel
        {"channel": "/meta/subscribe", "clientId": "unknown", "subscription": "/a"},  # 402
    ]
    replies = await bayeux.send(requests)
    assert [reply["error"].split(":")[0] for reply in replies] == [
        "405",
        "403",
        "400",
        "400",
        "403",
        "405",
        "400",
        "402",
    ]
    for reply in replies:
        assert reply["successful"] is False
        assert set(reply["advice"]) == ADVICE_KEYS, reply
    assert [reply["advice"]["reconnect"] for reply in replies] == ["retry"] * 7 + ["handshake"]


async def test_unknown_client_publishing_gets_402_with_handshake_advice(bayeux: RawBayeux) -> None:
    [reply] = await bayeux.send([{"channel": "/v2/me/calls", "clientId": "gone", "data": {}, "id": "p"}])
    assert (reply["channel"], reply["error"], reply["id"]) == ("/v2/me/calls", "402::Unknown client", "p")
    assert reply["advice"] == {"reconnect": "handshake", "interval": 0, "timeout": 1000}


async def test_connect_after_disconnect_is_told_not_to_reconnect(bayeux: RawBayeux) -> None:
    client_id = await bayeux.ready_client()
    poll = asyncio.create_task(bayeux.connect(client_id))
    await eventually(lambda: bayeux.server.stats()["held_connects"] == 1, seconds=2)
    await bayeux.send([{"channel": "/meta/disconnect", "clientId": client_id}])
    held = connect_reply(await asyncio.wait_for(poll, 1))
    assert (held["successful"], held["error"]) == (False, "402::Client disconnected")
    assert held["advice"]["reconnect"] == "none"


# -- the client's advice -------------------------------------------------------------------------


async def test_client_advice_timeout_sets_how_long_the_connect_is_held(bayeux_factory: Any) -> None:
    bayeux = await bayeux_factory(long_poll_timeout=10.0)
    client_id = await bayeux.ready_client()
    started = time.monotonic()
    replies = await bayeux.connect(client_id, advice={"timeout": 300})
    held = time.monotonic() - started
    assert 0.25 <= held < 2.0
    # The reply advises the server's own timeout for the next connects (as CometD does).
    assert connect_reply(replies)["advice"]["timeout"] == 10_000


async def test_malformed_client_advice_timeout_falls_back_to_the_servers(bayeux: RawBayeux) -> None:
    client_id = await bayeux.ready_client()
    started = time.monotonic()
    await bayeux.connect(client_id, advice={"timeout": "soon"})
    assert 0.9 <= time.monotonic() - started < 3.0


# -- a second concurrent connect -----------------------------------------------------------------


async def test_second_concurrent_connect_supersedes_the_held_one_with_http_408(bayeux_factory: Any) -> None:
    bayeux = await bayeux_factory(long_poll_timeout=5.0)
    client_id = await bayeux.ready_client("/v2/me/*")
    connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"}
    first = asyncio.create_task(post(bayeux, [{**connect, "id": "1"}]))
    await eventually(lambda: bayeux.server.stats()["held_connects"] == 1, seconds=2)
    second = asyncio.create_task(post(bayeux, [{**connect, "id": "2"}]))
    status, body = await asyncio.wait_for(first, 1)
    assert (status, body) == (408, {"error": "408::Superseded by a newer /meta/connect"})
    # The newer connect is the one held, and it is the one that gets the next message.
    await eventually(lambda: bayeux.server.stats()["held_connects"] == 1, seconds=2)
    bayeux.server.publish("/v2/me/calls", {"to": "second"}, user="agent1")
    status, replies = await asyncio.wait_for(second, 1)
    assert status == 200
    assert events(replies) == [{"channel": "/v2/me/calls", "data": {"to": "second"}}]
    assert connect_reply(replies)["id"] == "2"


# -- batching ------------------------------------------------------------------------------------


async def test_a_batch_with_a_handshake_is_answered_for_the_handshake_only(bayeux: RawBayeux) -> None:
    client_id = await bayeux.handshake()
    replies = await bayeux.send(
        [
            {"channel": "/meta/subscribe", "clientId": client_id, "subscription": "/v2/me/*"},
            {**HANDSHAKE, "id": "h"},
            {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"},
        ]
    )
    assert [(reply["channel"], reply["id"], reply["successful"]) for reply in replies] == [
        ("/meta/handshake", "h", True)
    ]
    # The other messages were ignored: no subscription was made.
    assert bayeux.server.publish("/v2/me/calls", {}, user="agent1") == 0


async def test_a_batch_gets_one_reply_per_message_in_order_with_queued_messages_first(
    bayeux: RawBayeux,
) -> None:
    client_id = await bayeux.ready_client("/v2/me/calls")
    bayeux.server.publish("/v2/me/calls", {"queued": True}, user="agent1")
    base = {"clientId": client_id}
    replies = await bayeux.send(
        [
            {**base, "channel": "/meta/subscribe", "subscription": "/v2/me/devices", "id": "1"},
            {**base, "channel": "/meta/unsubscribe", "subscription": "/v2/me/calls", "id": "2"},
            {**base, "channel": "/v2/me/calls", "data": {}, "id": "3"},
            {**base, "channel": "/meta/subscribe", "subscription": "bad", "id": "4"},
        ]
    )
    # Bayeux 1.0: events MAY ride on any reply but a handshake's; GWS puts them first.
    assert replies[0] == {"channel": "/v2/me/calls", "data": {"queued": True}}
    assert [(reply["id"], reply["successful"]) for reply in replies[1:]] == [
        ("1", True), ("2", True), ("3", False), ("4", False),
    ]  # fmt: skip
    assert bayeux.server.publish("/v2/me/devices", {}, user="agent1") == 1
    assert bayeux.server.publish("/v2/me/calls", {}, user="agent1") == 0


async def test_form_body_with_several_message_fields(bayeux: RawBayeux) -> None:
    client_id = await bayeux.handshake()
    subscribe = f'{{"channel":"/meta/subscribe","clientId":"{client_id}","subscription":"/v2/me/*","id":"s"}}'
    connect = (
        f'[{{"channel":"/meta/connect","clientId":"{client_id}","connectionType":"long-polling","id":"c"}}]'
    )
    form = aiohttp.FormData([("message", subscribe), ("message", connect)])
    async with bayeux.http.post(bayeux.url, data=form, headers=auth("agent1")) as reply:
        assert reply.status == 200
        replies = await reply.json()
    assert [(reply["id"], reply["successful"]) for reply in replies] == [("s", True), ("c", True)]


# -- ext -----------------------------------------------------------------------------------------


async def test_handshake_asking_for_acknowledgements_is_answered_without_the_ack_extension(
    bayeux: RawBayeux,
) -> None:
    # GWS documents no ack extension (simulator/README.md): the reply must not claim it, so the
    # client's AckExtension stays off and messages arrive as usual.
    [reply] = await bayeux.send([{**HANDSHAKE, "ext": {"ack": True, "com.example.trace": "t1"}}])
    assert reply["successful"] is True
    assert "ext" not in reply
    client_id = reply["clientId"]
    connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"}
    assert connect_reply(await bayeux.send([{**connect, "ext": {"ack": 0}}]))["successful"] is True


async def test_ext_of_a_published_message_passes_through_to_subscribers(bayeux: RawBayeux) -> None:
    client_id = await bayeux.ready_client("/v2/me/*")
    ext = {"com.genesys.trace": {"node": "gws-1"}}
    assert bayeux.server.publish("/v2/me/calls", {"n": 1}, user="agent1", ext=ext) == 1
    assert events(await bayeux.connect(client_id)) == [
        {"channel": "/v2/me/calls", "data": {"n": 1}, "ext": ext}
    ]


# -- websocket -----------------------------------------------------------------------------------


async def ws_ready(ws: aiohttp.ClientWebSocketResponse, *subscriptions: str) -> str:
    """Handshake, first connect and subscriptions over ``ws``; returns the client id."""
    await ws.send_json([{**HANDSHAKE, "supportedConnectionTypes": ["websocket"]}])
    [handshake] = await ws.receive_json(timeout=2)
    client_id = str(handshake["clientId"])
    await ws.send_json([{"channel": "/meta/connect", "clientId": client_id, "connectionType": "websocket"}])
    assert (await ws.receive_json(timeout=2))[0]["successful"] is True
    for subscription in subscriptions:
        await ws.send_json(
            [{"channel": "/meta/subscribe", "clientId": client_id, "subscription": subscription}]
        )
        assert (await ws.receive_json(timeout=2))[0]["successful"] is True
    return client_id


async def test_websocket_messages_are_pushed_at_once_while_the_connect_stays_held(
    bayeux_factory: Any,
) -> None:
    bayeux = await bayeux_factory(long_poll_timeout=5.0)
    async with bayeux.http.ws_connect(bayeux.url, headers=auth("agent1")) as ws:
        client_id = await ws_ready(ws, "/v2/me/*")
        await ws.send_json([{"channel": "/meta/connect", "clientId": client_id, "connectionType": "websocket",
                             "id": "held"}])  # fmt: skip
        await eventually(lambda: bayeux.server.stats()["held_connects"] == 1, seconds=2)
        for n in range(3):
            started = time.monotonic()
            bayeux.server.publish("/v2/me/calls", {"n": n}, user="agent1")
            assert await ws.receive_json(timeout=1) == [{"channel": "/v2/me/calls", "data": {"n": n}}]
            assert time.monotonic() - started < 0.5
        assert bayeux.server.stats()["held_connects"] == 1  # the connect was not used to carry them


async def test_second_websocket_connect_supersedes_the_held_one_without_a_reply(bayeux_factory: Any) -> None:
    bayeux = await bayeux_factory(long_poll_timeout=0.5)
    async with bayeux.http.ws_connect(bayeux.url, headers=auth("agent1")) as ws:
        client_id = await ws_ready(ws)
        connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "websocket"}
        await ws.send_json([{**connect, "id": "1"}])
        await eventually(lambda: bayeux.server.stats()["held_connects"] == 1, seconds=2)
        await ws.send_json([{**connect, "id": "2"}])
        [reply] = await ws.receive_json(timeout=2)
        assert reply["id"] == "2"  # connect 1 got no reply at all (as in CometD)


async def test_messages_for_a_closed_websocket_wait_for_the_next_connect(bayeux: RawBayeux) -> None:
    async with bayeux.http.ws_connect(bayeux.url, headers=auth("agent1")) as ws:
        client_id = await ws_ready(ws, "/v2/me/*")
    await eventually(lambda: bayeux.server.stats()["websockets"] == 0, seconds=2)
    assert bayeux.server.publish("/v2/me/calls", {"kept": True}, user="agent1") == 1
    await asyncio.sleep(0.1)
    assert events(await bayeux.connect(client_id)) == [{"channel": "/v2/me/calls", "data": {"kept": True}}]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        pytest.param("{not json", aiohttp.WSCloseCode.INTERNAL_ERROR, id="not-json-1011"),
        pytest.param("[]", aiohttp.WSCloseCode.INTERNAL_ERROR, id="empty-batch-1011"),
        pytest.param(b"[]", aiohttp.WSCloseCode.UNSUPPORTED_DATA, id="binary-1003"),
        pytest.param("[" + " " * (1 << 20) + "]", aiohttp.WSCloseCode.MESSAGE_TOO_BIG, id="too-big-1009"),
    ],
)
async def test_websocket_close_codes(bayeux: RawBayeux, frame: str | bytes, code: int) -> None:
    async with bayeux.http.ws_connect(bayeux.url, headers=auth("agent1"), max_msg_size=0) as ws:
        if isinstance(frame, bytes):
            await ws.send_bytes(frame)
        else:
            await ws.send_str(frame)
        closed = await ws.receive(timeout=2)
    assert closed.type is aiohttp.WSMsgType.CLOSE
    assert closed.data == code


async def test_websocket_client_that_stops_connecting_expires(bayeux_factory: Any) -> None:
    bayeux = await bayeux_factory(session_timeout=0.3)
    async with bayeux.http.ws_connect(bayeux.url, headers=auth("agent1")) as ws:
        client_id = await ws_ready(ws, "/v2/me/*")
        await eventually(lambda: bayeux.server.client_count == 0, seconds=5)
        assert bayeux.server.publish("/v2/me/calls", {}, user="agent1") == 0
        await ws.send_json(
            [{"channel": "/meta/connect", "clientId": client_id, "connectionType": "websocket"}]
        )
        [reply] = await ws.receive_json(timeout=2)
    assert (reply["error"], reply["advice"]["reconnect"]) == ("402::Unknown client", "handshake")
