"""Which differences between two versions of an event schema break consumers.

Events outlive a release: retries run for about 33 hours and dead letters are
replayed later still, so after an upgrade a consumer receives events of both
the old and the new shape. A change is compatible only when every event of
either shape validates against both schemas:

- removing a field, or making an always-present one optional, breaks (old
  code reads it);
- changing what a field may hold breaks in either direction: widening
  (``null`` now allowed, an enum value added) surprises old code, narrowing
  refuses the events still in flight;
- adding a field is compatible only when it is optional (not in
  ``required``): events already queued do not have it.

Descriptions, titles, defaults and examples are documentation and may change.
"""

from __future__ import annotations

from typing import Any

__all__ = ["breaking_changes"]

_DOCUMENTATION = frozenset({"title", "description", "default", "examples", "$comment"})
_STRUCTURE = frozenset({"properties", "required"})


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What in ``new`` breaks consumers of ``old`` (both whole self-contained schemas); ``[]`` if nothing."""
    problems: list[str] = []
    _compare(_resolve(old, old), _resolve(new, new), "", problems)
    return problems


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    """``node`` with local ``$ref``s inlined and documentation keywords removed."""
    if isinstance(node, list):
        return [_resolve(item, root) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _resolve(target, root)
    resolved = {}
    for key, value in node.items():
        if key in ("$defs", "$schema", "$id"):
            continue
        if key == "properties":
            resolved[key] = {name: _resolve(prop, root) for name, prop in value.items()}
        elif key not in _DOCUMENTATION:
            resolved[key] = _resolve(value, root)
    return resolved


def _compare(old: Any, new: Any, path: str, problems: list[str]) -> None:
    where = path or "(the event)"
    if not (isinstance(old, dict) and isinstance(new, dict)):
        if old != new:
            problems.append(f"{where}: {old!r} became {new!r}")
        return
    if "properties" in old or "properties" in new:
        _compare_object(old, new, path, problems)
    for key in sorted((old.keys() | new.keys()) - _STRUCTURE):
        before, after = old.get(key), new.get(key)
        if key in ("items", "additionalProperties") and isinstance(before, dict) and isinstance(after, dict):
            _compare(before, after, f"{path}[]" if key == "items" else f"{path}{{}}", problems)
        elif (
            key in ("anyOf", "oneOf", "allOf")
            and isinstance(before, list)
            and isinstance(after, list)
            and len(before) == len(after)
        ):
            for i, (a, b) in enumerate(zip(before, after, strict=True)):
                _compare(a, b, f"{path}<{key} {i}>", problems)
        elif before != after:
            problems.append(f"{where}: {key} {before!r} became {after!r}")


def _compare_object(old: dict[str, Any], new: dict[str, Any], path: str, problems: list[str]) -> None:
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
    for name, schema in old_props.items():
        field = f"{path}.{name}" if path else name
        if name not in new_props:
            problems.append(f"{field}: removed")
            continue
        if name in old_required and name not in new_required:
            problems.append(f"{field}: no longer always present")
        elif name in new_required and name not in old_required:
            problems.append(f"{field}: now required")
        _compare(schema, new_props[name], field, problems)
    for name in new_props.keys() - old_props.keys():
        if name in new_required:
            field = f"{path}.{name}" if path else name
            problems.append(f"{field}: added as required (events already queued lack it)")
