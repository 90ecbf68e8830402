"""Asynchronous outcomes: which CometD notification settles which accepted command.

GWS answers a voice operation with ``statusCode 0`` ("accepted and sent to
T-Server") and reports the real outcome on CometD: the expected state change
means success, an ``ErrorMessage`` means failure. :func:`match_notification`
is the pure rule; :class:`OutcomeTracker` keeps each agent's pending commands
in order and settles them as notifications arrive (fed by
:mod:`bridge.inbound.listener`). A command that nothing settles within the
timeout is ``unknown``: we never guess.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from bridge.commands import OutcomeRule

__all__ = ["CommandOutcome", "CommandStatus", "OutcomeTracker", "Pending", "match_notification"]


class CommandStatus(str, Enum):
    """The life of a command: ``accepted`` → ``succeeded`` | ``failed`` | ``unknown``."""

    ACCEPTED = "accepted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CommandOutcome:
    """A settled command: its final status, GWS's error text, the notification that settled it."""

    status: CommandStatus
    error: str | None = None
    notification: dict[str, Any] | None = None


def _last_segment(uri: Any) -> str:
    return str(uri).strip().rstrip("/").rsplit("/", 1)[-1] if uri else ""


def _user_state_matches(rule: OutcomeRule, user_state: Any) -> bool:
    if not isinstance(user_state, Mapping) or user_state.get("state") != rule.user_state:
        return False
    return rule.work_mode is None or user_state.get("workMode") == rule.work_mode


def _attribute_is(item: Mapping[str, Any], attribute: tuple[str, Any]) -> bool:
    """``item``'s attribute at the dotted ``path`` equals ``value`` (``None``: it is absent)."""
    path, value = attribute
    current: Any = item
    for part in path.split("."):
        current = current.get(part) if isinstance(current, Mapping) else None
    return current == value


def _iter(value: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(value, list):
        return (item for item in value if isinstance(item, Mapping))
    return ()


def _password_outcome(data: Mapping[str, Any]) -> CommandOutcome | None:
    """A ``/v2/me`` password notification's verdict (it carries no password, only the error)."""
    kind = data.get("notificationType")
    if kind == "PasswordChangeSuccessful":
        return CommandOutcome(CommandStatus.SUCCEEDED, notification=dict(data))
    if kind == "PasswordChangeError":
        error = f"{data.get('errorMessage') or 'password not changed'} (errorCode {data.get('errorCode')})"
        return CommandOutcome(CommandStatus.FAILED, error, dict(data))
    return None


def match_notification(rule: OutcomeRule, channel: str, data: Mapping[str, Any]) -> CommandOutcome | None:
    """The outcome ``data`` (a CometD message's ``data``, on ``channel``) means for ``rule``, or None."""
    if rule.synchronous:
        return None
    inner = data.get("data")
    if "messageType" not in data and isinstance(inner, Mapping):  # 8.5.1 channel messages nest data twice
        data = inner
    message_type = data.get("messageType")
    if rule.password_change:
        return _password_outcome(data) if message_type is None else None
    if message_type == "ErrorMessage":
        error = str(data.get("errorMessage") or "GWS reported an error")
        if data.get("callUri"):
            if rule.call_id is not None and _last_segment(data.get("callUri")) == rule.call_id:
                return CommandOutcome(CommandStatus.FAILED, error, dict(data))
            return None
        return CommandOutcome(CommandStatus.FAILED, error, dict(data)) if rule.device_errors else None
    if rule.call_states or rule.notification_types or rule.call_attribute is not None:
        if message_type != "CallStateChangeMessage":
            return None
        call = data.get("call")
        if not isinstance(call, Mapping) or (rule.call_id is not None and call.get("id") != rule.call_id):
            return None
        if rule.call_attribute is not None and not _attribute_is(call, rule.call_attribute):
            return None
        if call.get("state") in rule.call_states:
            return CommandOutcome(CommandStatus.SUCCEEDED, notification=dict(data))
        if data.get("notificationType") in rule.notification_types or (
            rule.call_attribute is not None and not rule.call_states and not rule.notification_types
        ):
            if rule.recording_state is not None and call.get("recordingState") != rule.recording_state:
                return None
            return CommandOutcome(CommandStatus.SUCCEEDED, notification=dict(data))
        return None
    if rule.device_attribute is not None:
        matched = message_type == "DeviceStateChangeMessage" and any(
            _attribute_is(device, rule.device_attribute) for device in _iter(data.get("devices"))
        )
        return CommandOutcome(CommandStatus.SUCCEEDED, notification=dict(data)) if matched else None
    if rule.dnd is not None:
        devices_match = message_type == "DeviceStateChangeMessage" and any(
            device.get("doNotDisturb") == rule.dnd for device in _iter(data.get("devices"))
        )
        channels_match = any(ch.get("dndState") == rule.dnd for ch in _iter(data.get("channels")))
        return (
            CommandOutcome(CommandStatus.SUCCEEDED, notification=dict(data))
            if devices_match or channels_match
            else None
        )
    if rule.user_state is not None:
        if rule.channel is not None and rule.channel != "voice":
            matched = any(
                ch.get("channel") == rule.channel and _user_state_matches(rule, ch.get("userState"))
                for ch in _iter(data.get("channels"))
            )
        else:
            matched = message_type == "DeviceStateChangeMessage" and any(
                _user_state_matches(rule, device.get("userState")) for device in _iter(data.get("devices"))
            )
        return CommandOutcome(CommandStatus.SUCCEEDED, notification=dict(data)) if matched else None
    return None


@dataclass(eq=False)
class Pending:
    """One command waiting for its outcome."""

    command_id: str
    agent: str
    rule: OutcomeRule
    future: asyncio.Future[CommandOutcome] = field(repr=False)


class OutcomeTracker:
    """Each agent's pending commands, oldest first; one notification settles at most one command."""

    def __init__(self) -> None:
        self._pending: dict[str, list[Pending]] = {}

    def register(self, agent: str, command_id: str, rule: OutcomeRule) -> Pending:
        """Start waiting for ``command_id``; register *before* sending the request (GWS may be quick)."""
        pending = Pending(command_id, agent, rule, asyncio.get_running_loop().create_future())
        self._pending.setdefault(agent, []).append(pending)
        return pending

    def discard(self, pending: Pending) -> None:
        """Stop waiting (the request failed synchronously, or the wait timed out)."""
        queue = self._pending.get(pending.agent)
        if queue and pending in queue:
            queue.remove(pending)
            if not queue:
                del self._pending[pending.agent]

    def has_pending(self, agent: str) -> bool:
        """True while some command of ``agent`` waits for its outcome."""
        return bool(self._pending.get(agent))

    def feed(self, agent: str, channel: str, data: Mapping[str, Any]) -> Pending | None:
        """Offer one notification of ``agent``; returns the command it settled, if any."""
        for pending in list(self._pending.get(agent, ())):
            outcome = match_notification(pending.rule, channel, data)
            if outcome is None:
                continue
            self.discard(pending)
            if not pending.future.done():
                pending.future.set_result(outcome)
            return pending
        return None

    def settle(self, pending: Pending, outcome: CommandOutcome) -> None:
        """Settle ``pending`` from elsewhere than CometD (its note was handled); no-op if settled."""
        self.discard(pending)
        if not pending.future.done():
            pending.future.set_result(outcome)

    def fail_all(self, agent: str, reason: str) -> None:
        """Settle every pending command of ``agent`` as unknown (its listener could not run)."""
        for pending in list(self._pending.get(agent, ())):
            self.discard(pending)
            if not pending.future.done():
                pending.future.set_result(CommandOutcome(CommandStatus.UNKNOWN, reason))

    async def wait(self, pending: Pending, seconds: float) -> CommandOutcome:
        """The outcome, or ``unknown`` after ``seconds`` (the command is then forgotten)."""
        timer = asyncio.get_running_loop().call_later(seconds, self._expire, pending, seconds)
        try:
            return await pending.future
        finally:
            timer.cancel()

    def _expire(self, pending: Pending, seconds: float) -> None:
        self.discard(pending)
        if not pending.future.done():
            pending.future.set_result(
                CommandOutcome(CommandStatus.UNKNOWN, f"no GWS notification within {seconds:g} s")
            )
