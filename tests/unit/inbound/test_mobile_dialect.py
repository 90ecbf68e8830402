"""The device registry's parse step: pure, a request in, what it asks for or a problem naming the field."""

from __future__ import annotations

import orjson
import pytest

from bridge.inbound.http import InboundRequest, PipelineRoute
from bridge.inbound.mobile import (
    DEVICE_ROUTES,
    DeviceListing,
    DeviceRegistration,
    DeviceRegistryRoute,
    DeviceRemoval,
    parse_device_request,
)
from bridge.inbound.problems import Problem
from bridge.mobile.registry import Platform

TOKEN = "AB" * 32
JSON = {"Content-Type": "application/json"}


def request(
    method: str, path: str = "/v1/mobile/devices", body: object = None, query: dict[str, str] | None = None
) -> InboundRequest:
    raw = orjson.dumps(body) if body is not None else b""
    return InboundRequest(method, path, JSON, raw, query or {})


def fields(problem: Problem) -> list[str]:
    return [error["field"] for error in problem.body()["errors"]]


def refusal(parsed: InboundRequest) -> Problem:
    with pytest.raises(Problem) as caught:
        parse_device_request(parsed)
    return caught.value


def test_a_registration_is_parsed_with_the_ios_token_in_one_spelling() -> None:
    parsed = parse_device_request(request("POST", body={"agent": "a1", "platform": "ios", "token": TOKEN}))

    assert parsed == DeviceRegistration(agent="a1", platform=Platform.IOS, token=TOKEN.lower())


def test_a_listing_reads_the_agent_from_the_query() -> None:
    assert parse_device_request(request("GET", query={"agent": "a1"})) == DeviceListing("a1")


def test_a_removal_keeps_the_token_as_sent() -> None:
    assert parse_device_request(request("DELETE", f"/v1/mobile/devices/{TOKEN}")) == DeviceRemoval(TOKEN)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("PUT", "/v1/mobile/devices", "GET, POST"), ("GET", f"/v1/mobile/devices/{TOKEN}", "DELETE")],
)
def test_another_method_is_405_with_allow(method: str, path: str, allow: str) -> None:
    problem = refusal(request(method, path))

    assert (problem.status, problem.headers) == (405, {"Allow": allow})


def test_a_listing_without_agent_is_422_naming_it() -> None:
    problem = refusal(request("GET", query={"agent": "has space"}))

    assert problem.status == 422 and fields(problem) == ["agent"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "field"),
    [
        (b"{nope", JSON, 400, None),
        (b"[]", JSON, 400, None),
        (b"{}", {"Content-Type": "application/json; charset=utf-16"}, 415, None),
        (
            orjson.dumps({"agent": "a1", "platform": "ios", "token": TOKEN, "sandbox": 1}),
            JSON,
            422,
            "sandbox",
        ),
        (orjson.dumps({"agent": "a1", "platform": "ios", "token": "t" * 5000}), JSON, 422, "token"),
    ],
)
def test_a_bad_registration_is_refused_naming_the_field(
    body: bytes, headers: dict[str, str], status: int, field: str | None
) -> None:
    problem = refusal(InboundRequest("POST", "/v1/mobile/devices", headers, body))

    assert problem.status == status
    if field is not None:
        assert field in fields(problem)


def test_the_registry_route_is_a_pipeline_route_mounted_at_two_templates() -> None:
    assert isinstance(DeviceRegistryRoute(registry=None), PipelineRoute)  # type: ignore[arg-type]
    assert DEVICE_ROUTES == ("/v1/mobile/devices", "/v1/mobile/devices/{token}")
