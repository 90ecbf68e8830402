"""``bridge/gws/cometd.py`` is the one module that touches aiocometd-noloop's private parts.

This pins the release it was written against and checks that every private name it relies on
still exists with the shape it expects, so an upgrade fails here, by name, instead of as a
session that silently stops reconnecting.
"""

from __future__ import annotations

import ast
import inspect
from importlib import metadata
from pathlib import Path

from aiocometd_noloop import Client
from aiocometd_noloop.transports.base import TransportBase

import bridge.gws.cometd as adapter

ROOT = Path(__file__).resolve().parents[3]

# private name -> where aiocometd-noloop 0.4.9 defines it
CLIENT_METHODS = {"_get_http_session", "_close_http_session", "_verify_response", "_wait_connection_timeout"}
CLIENT_ATTRIBUTES = {"_incoming_queue", "_transport"}  # set in Client.__init__
TRANSPORT_METHODS = {"_follow_advice", "_connect_done"}
TRANSPORT_ATTRIBUTES = {"_connect_task"}  # set in TransportBase.__init__


def test_the_pinned_release_is_installed() -> None:
    assert metadata.version("aiocometd-noloop") == "0.4.9", "re-check bridge/gws/cometd.py, then this pin"


def test_every_private_name_the_adapter_uses_still_exists() -> None:
    for name in CLIENT_METHODS:
        assert callable(getattr(Client, name, None)), f"Client.{name}"
    for name in TRANSPORT_METHODS:
        assert callable(getattr(TransportBase, name, None)), f"TransportBase.{name}"
    client_init = inspect.getsource(Client.__init__)
    transport_init = inspect.getsource(TransportBase.__init__)
    for name in CLIENT_ATTRIBUTES:
        assert f"self.{name} " in client_init or f"self.{name}:" in client_init, f"Client().{name}"
    for name in TRANSPORT_ATTRIBUTES:
        assert f"self.{name} " in transport_init or f"self.{name}:" in transport_init, name
    # the replacement for _follow_advice must accept what the transport passes it
    assert list(inspect.signature(TransportBase._follow_advice).parameters)[1:] == list(
        inspect.signature(adapter._no_follow_up).parameters
    )


def _private_library_names(path: Path) -> set[str]:
    """Private names in ``path``: attributes, overridden methods and ``getattr`` strings."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


def test_no_other_module_uses_the_library_internals() -> None:
    internals = CLIENT_METHODS | CLIENT_ATTRIBUTES | TRANSPORT_METHODS | TRANSPORT_ATTRIBUTES
    used_by_adapter = _private_library_names(Path(adapter.__file__)) & internals
    assert used_by_adapter == internals, "the lists above must name exactly what the adapter uses"
    for path in sorted((ROOT / "bridge").rglob("*.py")) + sorted((ROOT / "connectors").rglob("*.py")):
        if path == Path(adapter.__file__):
            continue
        leaked = _private_library_names(path) & internals
        assert not leaked, f"{path.relative_to(ROOT)} uses aiocometd internals {sorted(leaked)}"
