"""The locks agree with pyproject.toml, with each other and with the environment the tests run in.

``requirements/dev.lock`` is what ``make setup`` installs (CI too, through ``make test``) and
``requirements/run.lock`` what the Dockerfile installs. Editing a requirement in pyproject.toml
without ``make lock`` fails here, naming the package. The lock's own dependency graph is read
from the installed packages' metadata, so the check needs no network; packages whose markers
exclude this interpreter or platform (``colorama ; sys_platform == 'win32'``) are left out.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
REFRESH = "run `make lock`, then `make setup`"


@dataclass(frozen=True)
class Pin:
    version: Version
    hashes: frozenset[str]
    applies: bool  # its marker holds in this environment


def _read_lock(name: str) -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    # One entry: "name==version [; marker] \" then "--hash=sha256:…" lines, then "# via" comments.
    for entry in re.split(r"\n(?=\S)", (REPO / "requirements" / name).read_text(encoding="utf-8")):
        if entry.startswith("#"):
            continue
        spec, *hashes = (part.strip() for part in entry.split("\\\n"))
        requirement = Requirement(spec)
        [pinned] = requirement.specifier
        assert pinned.operator == "==", f"{name}: {spec} is not pinned"
        assert hashes and all(h.startswith("--hash=sha256:") for h in hashes), f"{name}: {spec} has no hashes"
        key = canonicalize_name(requirement.name)
        assert key not in pins, f"{name}: {key} is locked twice"
        pins[key] = Pin(
            Version(pinned.version),
            frozenset(h.split()[0] for h in hashes),
            requirement.marker is None or requirement.marker.evaluate(),
        )
    return pins


def _roots(*, dev: bool) -> list[Requirement]:
    listed = PYPROJECT["project"]["dependencies"] + PYPROJECT["build-system"]["requires"]
    if dev:
        listed = listed + PYPROJECT["project"]["optional-dependencies"]["dev"]
    return [Requirement(text) for text in listed]


def _closure(roots: list[Requirement], pins: dict[str, Pin]) -> tuple[set[str], list[str]]:
    """Every package ``roots`` need here, from the installed metadata; and what disagrees with ``pins``."""
    problems: list[str] = []
    needed: set[str] = set()
    seen: set[tuple[str, str]] = set()
    pending = [(requirement, "pyproject.toml") for requirement in roots]
    while pending:
        requirement, wanted_by = pending.pop()
        key = canonicalize_name(requirement.name)
        pin = pins.get(key)
        if pin is None:
            problems.append(f"{key} (wanted by {wanted_by}) is not in the lock")
            continue
        if not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{key}=={pin.version} is locked but {wanted_by} wants {requirement}")
        needed.add(key)
        for extra in ["", *sorted(requirement.extras)]:
            if (key, extra) in seen:
                continue
            seen.add((key, extra))
            for text in importlib.metadata.requires(key) or []:
                dependency = Requirement(text)
                if dependency.marker is None or dependency.marker.evaluate({"extra": extra}):
                    pending.append((dependency, f"{key}{f'[{extra}]' if extra else ''}"))
    return needed, problems


@pytest.mark.parametrize(("lock", "dev"), [("dev.lock", True), ("run.lock", False)])
def test_the_lock_is_exactly_what_pyproject_toml_needs(lock: str, dev: bool) -> None:
    pins = _read_lock(lock)
    needed, problems = _closure(_roots(dev=dev), pins)
    stale = {key for key, pin in pins.items() if pin.applies} - needed
    problems += [f"{key} is locked but nothing in pyproject.toml needs it" for key in sorted(stale)]
    assert not problems, f"requirements/{lock} disagrees with pyproject.toml ({REFRESH}):\n" + "\n".join(
        problems
    )


def test_the_environment_runs_the_locked_versions() -> None:
    wrong = []
    for key, pin in _read_lock("dev.lock").items():
        if not pin.applies:
            continue
        try:
            installed = Version(importlib.metadata.version(key))
        except importlib.metadata.PackageNotFoundError:
            wrong.append(f"{key} is locked but not installed")
            continue
        if installed != pin.version:
            wrong.append(f"{key} {installed} is installed, {pin.version} locked")
    assert not wrong, f"this environment is not requirements/dev.lock ({REFRESH}):\n" + "\n".join(wrong)


def test_the_image_lock_pins_what_the_dev_lock_pins() -> None:
    dev, run = _read_lock("dev.lock"), _read_lock("run.lock")
    differ = [key for key, pin in run.items() if dev.get(key) != pin]
    assert not differ, f"run.lock and dev.lock differ on {differ} ({REFRESH})"
    assert {canonicalize_name(r.name) for r in _roots(dev=False)} <= run.keys()


def test_a_requirement_the_lock_does_not_satisfy_is_named() -> None:
    pins = _read_lock("dev.lock")
    _, problems = _closure([Requirement("aiohttp<3"), Requirement("left-pad-for-python")], pins)
    assert any(p.startswith("aiohttp==") and "wants aiohttp<3" in p for p in problems)
    assert "left-pad-for-python (wanted by pyproject.toml) is not in the lock" in problems


def test_the_locked_aiohttp_has_the_fixes_for_its_server_advisories() -> None:
    # request smuggling (fixed in 3.10.11, 3.12.14, 3.14.2), C-parser out-of-bounds read (3.14.3)
    assert _read_lock("run.lock")["aiohttp"].version >= Version("3.14.3")
