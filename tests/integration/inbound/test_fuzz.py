"""Malformed bodies against the running receiver: never a 5xx; no GWS call unless the command stayed valid."""

from __future__ import annotations

import json
import random

from tests.integration.inbound.conftest import ReceiverHandle
from tests.plugins.simulator import SimulatorHandle

SEEDS = [
    {"agent": "agent0001", "action": "call.hold", "params": {"call_id": "c1"}},
    {"agent": "agent0001", "action": "agent.not_ready", "params": {"reason": "Lunch"}},
    {
        "agent": "agent0001",
        "action": "call.attach_data",
        "params": {"call_id": "c1", "user_data": {"a": [1, 2]}},
    },
]


def _dumps(value: object) -> bytes:
    return json.dumps(value).encode()


NASTY = [
    None,
    True,
    0,
    -1,
    2**70,
    1e308,
    "",
    " ",
    "\u0000",
    "💥" * 50,
    "../../etc",
    [],
    {},
    [[[[[]]]]],
    {"$ne": 1},
]


def _mutations(rng: random.Random) -> bytes:
    document = dict(rng.choice(SEEDS))
    kind = rng.randrange(6)
    if kind == 0:  # truncated or bit-flipped JSON text
        raw = bytearray(_dumps(document))
        if rng.random() < 0.5:
            return bytes(raw[: rng.randrange(len(raw))])
        raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        return bytes(raw)
    if kind == 1:  # a field replaced by something nasty
        document[rng.choice(["agent", "action", "params"])] = rng.choice(NASTY)
    elif kind == 2:  # a param replaced by something nasty
        document["params"] = dict(
            document["params"], **{rng.choice(["call_id", "reason", "user_data"]): rng.choice(NASTY)}
        )
    elif kind == 3:  # extra or missing fields
        document.pop(rng.choice(list(document)))
        document[rng.choice(["id", "x", "dialect"])] = rng.choice(NASTY)
    elif kind == 4:  # not an object at all
        return _dumps(rng.choice(NASTY))
    else:  # random bytes
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    return _dumps(document)


async def test_malformed_bodies_never_crash_the_receiver_nor_reach_gws(
    receiver_factory,
    simulator: SimulatorHandle,  # type: ignore[no-untyped-def]
) -> None:
    from tests.integration.inbound.conftest import default_clients

    clients = default_clients()
    clients[0] = dict(clients[0], rate_limit=10_000, burst=10_000)
    receiver: ReceiverHandle = await receiver_factory(clients=clients)
    rng = random.Random(20261123)
    seen: set[int] = set()
    for _ in range(250):
        body = _mutations(rng)
        status, answer, headers = await receiver.call("POST", "/v1/commands", raw=body)
        seen.add(status)
        assert status < 500 or status in (502, 504), (body, status, answer)
        if status >= 400:
            assert headers["Content-Type"].startswith("application/problem+json")
            assert answer["status"] == status
    assert {400, 422} <= seen
    posts = [e for e in await simulator.log() if e["method"] != "GET"]
    # Only bodies that stayed valid commands (e.g. a bit flip inside a string) may reach GWS.
    assert all(e["path"].startswith("/api/v2/me/") for e in posts)
