"""The import rules of docs/architecture.md: stages import only downward.

Every ``import`` and ``from … import`` in bridge/, connectors/ and simulator/ counts, including
those inside functions and ``TYPE_CHECKING`` blocks: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Lower numbers are further down; a module may import its own level or below.
LEVELS: dict[str, int] = {
    "bridge": 0,  # the package's own __init__
    "bridge.errors": 1,
    "bridge.events": 1,
    "bridge.event_data": 1,
    "bridge.tracing": 1,
    "bridge.config": 2,
    "bridge.redis_client": 2,
    "bridge.normalize": 3,
    "bridge.routing": 3,
    "bridge.mobile": 3,
    "connectors": 4,
    "bridge.gws": 5,
    "bridge.delivery": 6,
    "bridge.commands": 7,
    "bridge.inbound": 8,
    "bridge.console": 8,
    "bridge.processes": 9,
    "bridge.demo": 10,
    "bridge.cli": 11,
}
# Only these may import the simulator (bench/ and tests/ are outside the product).
SIMULATOR_USERS = ("bridge.demo",)


def _owner(module: str) -> str:
    """The longest LEVELS key that is ``module`` or one of its parents."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in LEVELS:
            return candidate
    raise AssertionError(f"{module} belongs to no level: add its package to LEVELS and the docs")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(text: str, module: str, *, is_package: bool = False) -> Iterator[tuple[int, str]]:
    """``(line, imported module)`` for every import in ``text``, relative ones resolved."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                yield node.lineno, ".".join([*base, *([node.module] if node.module else [])])
            elif node.module is not None:
                yield node.lineno, node.module


def violations(text: str, module: str, *, is_package: bool = False) -> list[str]:
    """What in ``text`` (the source of ``module``) breaks the import rules."""
    top = module.split(".")[0]
    found = []
    for line, imported in _imports(text, module, is_package=is_package):
        target_top = imported.split(".")[0]
        if target_top not in {"bridge", "connectors", "simulator"}:
            continue
        if top == "simulator":
            if target_top != "simulator":
                found.append(f"{module}:{line} the simulator imports {imported}")
        elif target_top == "simulator":
            if not module.startswith(SIMULATOR_USERS):
                found.append(f"{module}:{line} imports the simulator ({imported})")
        elif LEVELS[_owner(imported)] > LEVELS[_owner(module)]:
            found.append(
                f"{module}:{line} (level {LEVELS[_owner(module)]}) imports {imported} "
                f"(level {LEVELS[_owner(imported)]})"
            )
    return found


def test_every_module_follows_the_import_rules() -> None:
    found = []
    for package in ("bridge", "connectors", "simulator"):
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            found += violations(text, _module_name(path), is_package=path.name == "__init__.py")
    assert not found, "imports against docs/architecture.md:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("connectors/webhook.py", "from bridge.delivery.attempt import Attempt"),
        ("bridge/routing.py", "from bridge.delivery import app"),
        ("bridge/gws/session.py", "import bridge.processes.subscriber"),
        ("bridge/normalize/calls.py", "from bridge.gws.rest import GwsRestClient"),
        ("bridge/inbound/receiver.py", "from bridge.demo.stack import free_port"),
        ("bridge/delivery/runtime.py", "from simulator.app import create_app"),
        ("simulator/node.py", "from bridge.events import Event"),
    ],
)
def test_a_forbidden_import_is_reported(source: str, forbidden: str) -> None:
    """The checker itself: a real module that is clean now, plus one forbidden import (in a function)."""
    path = ROOT / source
    clean = path.read_text(encoding="utf-8")
    assert violations(clean, _module_name(path)) == []
    probe = clean + f"\n\ndef _probe() -> None:\n    {forbidden}\n"
    assert len(violations(probe, _module_name(path))) == 1


def _import_graph(sources: dict[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """``module -> the modules of ours it imports``, from ``{module: (source, is_package)}``.

    ``from package import name`` counts as importing the submodule ``package.name`` when there
    is one, else ``package`` itself; an import of something not ours is left out.
    """
    graph: dict[str, set[str]] = {}
    for module, (text, is_package) in sources.items():
        targets = set()
        package = module.split(".") if is_package else module.split(".")[:-1]
        for node in ast.walk(ast.parse(text)):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = ".".join(
                        [*package[: len(package) - node.level + 1], *([node.module] if node.module else [])]
                    )
                else:
                    base = node.module or ""
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in sources else base for a in node.names]
            for name in names:
                while name and name not in sources:  # `import a.b.c` of a package: its deepest module of ours
                    name = name.rpartition(".")[0]
                if name and name != module:
                    targets.add(name)
        graph[module] = targets
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every set of modules that import each other, directly or round a circle (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(cycles)


def _our_sources() -> dict[str, tuple[str, bool]]:
    return {
        _module_name(path): (path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for package in ("bridge", "connectors", "simulator")
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def test_no_modules_import_each_other_round_a_circle() -> None:
    """Every import counts here too (in a function, under ``TYPE_CHECKING``): a circle of lazy
    imports still means none of its modules can be understood, or moved, without the others."""
    graph = _import_graph(_our_sources())
    cycles = import_cycles(graph)
    described = [
        "; ".join(f"{module} imports {sorted(graph[module] & set(cycle))}" for module in cycle)
        for cycle in cycles
    ]
    assert not cycles, "import circles:\n" + "\n".join(described)


def test_an_import_circle_is_found() -> None:
    """The checker itself: a lazy import closing a circle through a third module, and through a
    package's ``__init__``."""
    sources = {
        "bridge.gws": ("", True),
        "bridge.gws.a": ("from bridge.gws import b\n", False),
        "bridge.gws.b": ("from .c import thing\n", False),
        "bridge.gws.c": ("def f():\n    from bridge.gws.a import x\n", False),
        "bridge.normalize": ("from bridge.normalize.calls import normalize_call\n", True),
        "bridge.normalize.calls": ("from bridge.normalize import state\n", False),
        "bridge.normalize.state": ("import orjson\n", False),
        "bridge.routing": ("from bridge.normalize import calls\n", False),
    }
    graph = _import_graph(sources)
    assert graph["bridge.normalize.calls"] == {"bridge.normalize.state"}
    assert import_cycles(graph) == [["bridge.gws.a", "bridge.gws.b", "bridge.gws.c"]]
    sources["bridge.normalize.state"] = ("from bridge.normalize import normalize_call\n", False)
    assert ["bridge.normalize", "bridge.normalize.calls", "bridge.normalize.state"] in import_cycles(
        _import_graph(sources)
    )
