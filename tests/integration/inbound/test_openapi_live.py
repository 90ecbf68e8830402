"""docs/openapi.json against a live receiver on the simulator: the document says what the code does.

Every action of the table (iterated, so a new action is tested as soon as it exists) is sent with
its example params (a live call or e-mail in place of the example's ``call_id`` /
``interaction_id``), each as a different agent so no action changes another's ground: the
receiver must take it to GWS and answer as the document says (GWS may still refuse what the
agent's state does not allow, e.g. completing an e-mail not yet accepted: a documented
``gws-error``). Then invalid params generated from
the action's documented schema (an unknown field, each required field missing, each field with a
value of the wrong type or breaking its constraint): the document refuses each, and so must the
receiver, with a 422 problem naming the field, before anything reaches GWS.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from bridge.commands import ACTIONS
from bridge.config.inbound import hash_api_key
from bridge.inbound.app import RECEIVER_KEY, create_app
from bridge.inbound.openapi_schemas import action_example
from bridge.inbound.problems import PROBLEM_KINDS, PROBLEM_TYPE_BASE
from tests.integration.inbound.conftest import CRM_KEY, ReceiverHandle, settings_for
from tests.plugins.contract import OPENAPI, openapi_document, openapi_problems
from tests.plugins.ports import free_port
from tests.plugins.simulator import SimulatorHandle, start_in_process

COMMAND = "#/components/schemas/Command"
# Values tried against each documented field: the first ones of the wrong type, then right-typed
# ones that break a constraint (a pattern, a length, a minimum); each the document refuses is sent.
_WRONG_TYPES: tuple[Any, ...] = (12345, "text", True, ["text"], {"k": "v"})
_BROKEN: tuple[Any, ...] = ("", "has space/slash", "x" * 300, [], {}, ["Not A Channel"])


@pytest.fixture
async def live(redis_url: str) -> AsyncIterator[tuple[ReceiverHandle, SimulatorHandle]]:
    """A receiver in front of a simulator with one agent per action (and a spare), no rate limit."""
    sim, sim_runner = await start_in_process(agents=len(ACTIONS) + 1)
    client = {"name": "crm", "api_key_hashes": [hash_api_key(CRM_KEY)], "agents": ["*"],
              "rate_limit": 100000.0, "burst": 100000}  # fmt: skip
    app = create_app(settings_for(sim, redis_url, clients=[client]))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
    try:
        yield ReceiverHandle(f"http://127.0.0.1:{port}", app[RECEIVER_KEY], http), sim
    finally:
        await http.close()
        await runner.cleanup()
        await sim_runner.cleanup()


async def _with_live_ids(sim: SimulatorHandle, agent: str, example: dict[str, Any]) -> dict[str, Any]:
    """``example`` with its ``call_id`` / ``interaction_id`` replaced by a call ringing at ``agent`` /
    an e-mail offered to it, so that GWS can perform what it is asked (any other id stays)."""
    params = dict(example)
    if "call_id" in params:
        params["call_id"] = await sim.start_call(agent)
    if "interaction_id" in params:
        params["interaction_id"] = await sim.send_interaction(agent, "email")
    return params


def _documented(operation: dict[str, Any], status: int, content_type: str) -> str | None:
    """The schema pointer the document gives for this reply, or None when it documents no such reply."""
    document = openapi_document()
    response = operation["responses"].get(str(status))
    if response is None:
        return None
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    media = response.get("content", {}).get(content_type.split(";")[0])
    return None if media is None else media["schema"]["$ref"]


def _check_reply(operation: dict[str, Any], status: int, headers: Any, body: Any) -> list[str]:
    content_type = headers.get("Content-Type", "")
    pointer = _documented(operation, status, content_type)
    if pointer is None:
        return [f"{status} {content_type} is not a documented reply of {operation['operationId']}"]
    problems = openapi_problems(pointer, body)
    if content_type.startswith("application/problem+json"):
        kind = str(body.get("type", "")).removeprefix(PROBLEM_TYPE_BASE)
        if kind not in PROBLEM_KINDS or status not in PROBLEM_KINDS[kind].statuses:
            problems.append(f"problem kind {kind!r} with {status} is not in PROBLEM_KINDS")
    return problems


def _operation(path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = openapi_document()["paths"][path][method]
    return operation


_CONTEXT_READS = ("/api/v2/me", "/api/v2/me/devices", "/api/v2/settings/", "/api/v2/groups/")


async def _gws_operations(sim: SimulatorHandle) -> list[tuple[str, str]]:
    """What GWS was asked to do: operations, and reads that are actions (workbins), not the
    receiver's own reads of what a translation needs (login, devices, settings)."""
    return [
        (e["method"], e["path"])
        for e in await sim.log(clear=True)
        if e["method"] != "GET"
        or not (e["path"] in _CONTEXT_READS[:2] or e["path"].startswith(_CONTEXT_READS[2:]))
    ]


async def test_the_receiver_serves_the_committed_document_without_credentials(
    live: tuple[ReceiverHandle, SimulatorHandle],
) -> None:
    receiver, _ = live
    async with receiver.http.get(receiver.url + "/openapi.json") as reply:
        assert reply.status == 200
        assert reply.content_type == "application/json"
        assert await reply.read() == OPENAPI.read_bytes()
    status, _, _ = await receiver.call("POST", "/openapi.json", {}, key=None)
    assert status == 405


async def test_every_action_with_its_example_params_reaches_gws_as_documented(
    live: tuple[ReceiverHandle, SimulatorHandle],
) -> None:
    receiver, sim = live
    operation = _operation("/v1/commands", "post")
    await sim.log(clear=True)
    failures = []
    for agent, (action, spec) in zip(sim.agents, ACTIONS.items(), strict=False):
        example = action_example(spec)
        if example is None:
            failures.append(
                f"{action}: {spec.params.__name__} declares no example params (model_config = "
                "_examples({...}) in bridge/commands/params.py)"
            )
            continue
        body = {"agent": agent, "action": action, "params": await _with_live_ids(sim, agent, example)}
        assert openapi_problems(COMMAND, body) == [], action
        await sim.log(clear=True)
        status, reply, headers = await receiver.call("POST", "/v1/commands", body)
        failures += [f"{action}: {p}" for p in _check_reply(operation, status, headers, reply)]
        sent = await _gws_operations(sim)
        if status == 422 and reply.get("type") == PROBLEM_TYPE_BASE + "invalid-command":
            failures.append(f"{action}: its example was refused: {reply.get('detail')} {reply.get('errors')}")
        elif not sent:
            failures.append(f"{action}: nothing reached GWS ({status} {reply.get('detail', '')})")
    assert not failures, "\n".join(failures)


_NOTHING = object()


def _invalid_params(model: str, example: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(field, params)`` that the documented schema of ``model`` refuses, one change from ``example``."""
    schema = openapi_document()["components"]["schemas"][model]
    pointer = f"#/components/schemas/{model}"
    yield "no_such_param", {**example, "no_such_param": 1}
    for field in schema.get("required", []):
        yield field, {key: value for key, value in example.items() if key != field}
    for field in schema.get("properties", {}):
        for candidates in (_WRONG_TYPES, _BROKEN):
            bad = next((c for c in candidates if openapi_problems(pointer, {**example, field: c})), _NOTHING)
            if bad is not _NOTHING:
                yield field, {**example, field: bad}


async def test_every_action_refuses_invalid_params_with_a_422_naming_the_field_before_gws(
    live: tuple[ReceiverHandle, SimulatorHandle],
) -> None:
    receiver, sim = live
    operation = _operation("/v1/commands", "post")
    agent = sim.agents[-1]
    await sim.log(clear=True)
    failures, sent = [], 0
    for action, spec in ACTIONS.items():
        example = action_example(spec)
        assert example is not None, f"{action}: no example params (see the test above)"
        for field, params in _invalid_params(spec.params.__name__, example):
            body = {"agent": agent, "action": action, "params": params}
            what = f"{action} {orjson.dumps(params).decode()[:120]}"
            if not openapi_problems(COMMAND, body):
                failures.append(f"{what}: the document accepts the whole body")
            status, reply, headers = await receiver.call("POST", "/v1/commands", body)
            sent += 1
            failures += [f"{what}: {p}" for p in _check_reply(operation, status, headers, reply)]
            if status != 422 or reply.get("type") != PROBLEM_TYPE_BASE + "invalid-command":
                failures.append(f"{what}: answered {status} {reply}")
                continue
            locs = [error["loc"] for error in reply.get("errors", [])]
            if not any(loc[:2] == ["params", field] or loc == ["params"] for loc in locs):
                failures.append(f"{what}: no error names params.{field}: {locs}")
    assert sent > 3 * len(ACTIONS)
    reached = await sim.log(clear=True)
    assert not reached, f"refused commands reached GWS: {reached[:3]}"
    assert not failures, "\n".join(failures)


async def test_an_unknown_action_is_refused_listing_the_table(
    live: tuple[ReceiverHandle, SimulatorHandle],
) -> None:
    receiver, sim = live
    body = {"agent": sim.agents[0], "action": "call.teleport", "params": {}}
    assert openapi_problems(COMMAND, body)
    status, reply, headers = await receiver.call("POST", "/v1/commands", body)
    assert status == 422
    assert _check_reply(_operation("/v1/commands", "post"), status, headers, reply) == []
    assert reply["errors"][0]["valid"] == sorted(ACTIONS)
