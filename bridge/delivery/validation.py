"""Checks across configuration sections, which no single pydantic model can see.

Each problem is one line ``location: message`` in the same dotted form as
pydantic's (``routes.0.destinations.1: unknown destination 'crm'``).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from bridge.config import Settings
from bridge.config.secret_refs import resolve_secret
from bridge.errors import ConfigError
from bridge.events import EventType
from connectors import connector_class

__all__ = ["delivery_config_notes", "delivery_config_problems"]


def delivery_config_problems(settings: Settings, *, resolve_secrets: bool = True) -> list[str]:
    """Every cross-section problem in ``settings`` (empty when consistent).

    With ``resolve_secrets`` each secret reference is resolved too (the
    message names the reference, never the value).
    """
    problems: list[str] = []
    seen: set[str] = set()
    for i, dest in enumerate(settings.destinations):
        where = f"destinations.{i}"
        if dest.name in seen:
            problems.append(f"{where}.name: duplicate destination name {dest.name!r}")
        seen.add(dest.name)
        try:
            connector = connector_class(dest.kind)
        except ConfigError as exc:
            problems.append(f"{where}.kind: {exc}")
        else:
            # a connector that can say what is wrong with its options (and their secret references)
            # before a worker refuses to start: ``options_problems(options, *, resolve_secrets)``
            check = getattr(connector, "options_problems", None)
            if check is not None:
                problems.extend(
                    f"{where}.{problem}" for problem in check(dest.options, resolve_secrets=resolve_secrets)
                )
        if dest.kind == "webhook" and not dest.url:
            problems.append(f"{where}.url: a webhook destination needs a url")
        if dest.timeout >= settings.delivery.task_deadline:
            problems.append(
                f"{where}.timeout: {dest.timeout:g}s must be below delivery.task_deadline "
                f"({settings.delivery.task_deadline:g}s)"
            )
        if resolve_secrets:
            for k, ref in enumerate(dest.secrets):
                try:
                    resolve_secret(ref)
                except ConfigError as exc:
                    problems.append(f"{where}.secrets.{k}: {exc}")
    types = [t.value for t in EventType]
    for i, route in enumerate(settings.routes):
        for j, glob in enumerate(route.events):
            if not any(fnmatchcase(t, glob) for t in types):
                problems.append(f"routes.{i}.events.{j}: {glob!r} matches no event type")
        for j, name in enumerate(route.destinations):
            if name not in seen:
                known = ", ".join(sorted(seen)) or "none configured"
                problems.append(f"routes.{i}.destinations.{j}: unknown destination {name!r}; known: {known}")
    slack = settings.inbound.slack
    if slack is not None:
        # the receiver would refuse such a user at every command (docs/slack.md): say so now
        agents = {agent.username for agent in settings.agents}
        for user, agent in slack.users.items():
            if agent not in agents:
                problems.append(f"inbound.slack.users.{user}: agent {agent!r} is not in [[agents]]")
    return problems


def delivery_config_notes(settings: Settings) -> list[str]:
    """What a consistent configuration probably does not do as meant, one ``location: note`` each:
    a connector's ``routing_notes(options, routed)`` about the event types routed to it (the
    routes' event globs; their filters are not considered)."""
    types = [t.value for t in EventType]
    notes: list[str] = []
    for i, dest in enumerate(settings.destinations):
        try:
            connector = connector_class(dest.kind)
        except ConfigError:
            continue  # a problem, reported as such
        check = getattr(connector, "routing_notes", None)
        if check is None:
            continue
        globs = [
            glob for route in settings.routes if dest.name in route.destinations for glob in route.events
        ]
        routed = {name for name in types if any(fnmatchcase(name, glob) for glob in globs)}
        notes.extend(f"destinations.{i}.{note}" for note in check(dest.options, routed))
    return notes
