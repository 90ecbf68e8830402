"""The simulator's modules import one way: no circle, no import hidden in a function, nothing from
the product (issue 12's rule: only the demo, the CLI, tests and bench import the simulator)."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[3] / "simulator"


def _imported_modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level or node.module is None:
        raise AssertionError(f"relative import at line {node.lineno}: use absolute imports")
    # `from simulator import rest_ops` imports the module simulator.rest_ops
    if node.module == "simulator":
        return [f"simulator.{alias.name}" for alias in node.names]
    return [node.module]


def _scan(path: Path) -> tuple[set[str], list[str]]:
    """(modules imported at module level — TYPE_CHECKING blocks included —, nested imports found)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top: set[str] = set()
    nested: list[str] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                modules = _imported_modules(child)
                if in_function:
                    nested.extend(f"{path.name}:{child.lineno} imports {name}" for name in modules)
                else:
                    top.update(modules)
            scope = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, scope)

    visit(tree, False)
    return top, nested


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]], list[str]]:
    internal: dict[str, set[str]] = {}
    external: dict[str, set[str]] = {}
    nested: list[str] = []
    for path in sorted(PACKAGE.glob("*.py")):
        name = "simulator" if path.stem == "__init__" else f"simulator.{path.stem}"
        imports, found = _scan(path)
        internal[name] = {module for module in imports if module.startswith("simulator.")}
        external[name] = {module for module in imports if not module.startswith("simulator")}
        nested += found
    return internal, external, nested


def test_simulator_modules_form_no_import_circle() -> None:
    internal, _, _ = _graph()
    try:
        order = list(TopologicalSorter(internal).static_order())
    except CycleError as exc:
        raise AssertionError(f"import circle: {' -> '.join(exc.args[1])}") from None
    assert order.index("simulator.app") > order.index("simulator.node") > order.index("simulator.bayeux")


def test_simulator_has_no_function_level_imports() -> None:
    _, _, nested = _graph()
    assert nested == []


def test_simulator_imports_nothing_from_the_product() -> None:
    _, external, _ = _graph()
    leaks = {
        module: sorted(name for name in names if name.split(".")[0] in {"bridge", "connectors", "tests"})
        for module, names in external.items()
    }
    assert {module: names for module, names in leaks.items() if names} == {}
