"""The console connector prints one JSON line per event."""

from __future__ import annotations

import io
import json

from bridge.config.delivery import DestinationConfig
from connectors import connector_class
from tests.plugins.delivery import make_event


async def test_prints_destination_and_event_as_one_json_line() -> None:
    stream = io.StringIO()
    console = connector_class("console")(DestinationConfig(name="debug", kind="console"), stream=stream)
    await console.send(make_event(1))
    await console.send(make_event(2))
    await console.aclose()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(x["destination"], int(x["event"]["sequence"])) for x in lines] == [("debug", 1), ("debug", 2)]
