"""``bridge/inbound/server.py`` is the one module that touches aiohttp's private parts.

It subclasses aiohttp's connection handler so that requests aiohttp cannot parse are answered in
problem+json, and for that rebuilds the ``web.Server`` that ``AppRunner._make_server`` returns
from the server's private ``_loop`` and ``_kwargs``. This pins the release it was written
against and checks every private name it relies on, so an upgrade fails here, by name (the
behaviour itself is pinned by tests/integration/inbound/test_protocol_errors.py).
"""

from __future__ import annotations

import ast
import inspect
from importlib import metadata
from pathlib import Path

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

import bridge.inbound.server as adapter

ROOT = Path(__file__).resolve().parents[3]
SERVER_ATTRIBUTES = {"_loop", "_kwargs"}  # set in web.Server.__init__
RUNNER_METHODS = {"_make_server"}


def test_the_pinned_release_is_installed() -> None:
    assert metadata.version("aiohttp") == "3.14.5", "re-check bridge/inbound/server.py, then this pin"


def test_every_private_name_the_adapter_uses_still_exists() -> None:
    for name in RUNNER_METHODS:
        assert inspect.iscoroutinefunction(getattr(web.AppRunner, name, None)), f"AppRunner.{name}"
    server_init = inspect.getsource(web.Server.__init__)
    for name in SERVER_ATTRIBUTES:
        assert f"self.{name} = " in server_init, f"web.Server().{name}"
    # the server builds its connection handlers from exactly these (what _ProblemServer mirrors)
    assert "RequestHandler(self, loop=self._loop, **self._kwargs)" in inspect.getsource(web.Server.__call__)
    assert list(inspect.signature(RequestHandler.handle_error).parameters) == list(
        inspect.signature(adapter._ProblemRequestHandler.handle_error).parameters
    )


def test_the_adapter_uses_no_other_private_name_of_aiohttp() -> None:
    tree = ast.parse(Path(adapter.__file__).read_text(encoding="utf-8"))
    names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    overrides = (n for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for n in c.body)
    names |= {node.name for node in overrides if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    private = {name for name in names if name.startswith("_") and not name.startswith("__")}
    assert private == SERVER_ATTRIBUTES | RUNNER_METHODS


def test_no_other_module_subclasses_or_reaches_into_aiohttp_servers() -> None:
    offenders = []
    for path in [*(ROOT / "bridge").rglob("*.py"), *(ROOT / "connectors").rglob("*.py")]:
        if path == Path(adapter.__file__):
            continue
        text = path.read_text(encoding="utf-8")
        if "aiohttp.web_protocol" in text or "_make_server" in text or "._kwargs" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
