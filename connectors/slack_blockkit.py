"""Block Kit building blocks: the message type, escaping, Slack's limits, and one helper per block.

Every helper cuts its text to Slack's limit (Block Kit reference) instead of letting Slack refuse
the whole message; the renderers (:mod:`connectors.slack_blocks`, :mod:`connectors.slack_call_blocks`,
:mod:`connectors.slack_wallboard_blocks`) compose them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = [
    "BUTTON_TEXT_MAX",
    "DANGER",
    "GOOD",
    "WARNING",
    "SlackMessage",
    "action_rows",
    "alert",
    "button",
    "context",
    "cut",
    "escape",
    "fields",
    "header",
    "named_fields",
    "plain",
    "section",
]

# Slack's limits (Block Kit reference): header 150, section text 3000, field 2000, 10 fields per
# section, button text 75, button value 2000, 25 elements per actions block, 50 blocks per message.
_HEADER_MAX = 150
_FIELD_MAX = 2000
_SECTION_MAX = 3000
_FIELDS_PER_SECTION = 10
BUTTON_TEXT_MAX = 75
_BUTTON_VALUE_MAX = 2000
_BUTTONS_PER_ROW = 5
_MAX_DATA_FIELDS = 8  # toast / case fields shown; more would not fit a phone screen

DANGER = "#E01E5A"
WARNING = "#ECB22E"
GOOD = "#2EB67D"


@dataclass(frozen=True)
class SlackMessage:
    """A rendered message: the summary ``text``, ``blocks``, and (alerts) coloured ``attachments``."""

    text: str
    blocks: list[dict[str, Any]]
    attachments: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The ``chat.postMessage`` / incoming-webhook body fields (no channel, no thread)."""
        body: dict[str, Any] = {"text": self.text, "blocks": self.blocks}
        if self.attachments:
            body["attachments"] = self.attachments
        return body


def escape(value: Any) -> str:
    """``value`` as Slack mrkdwn-safe text (``&``, ``<``, ``>`` escaped as Slack requires)."""
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": cut(text, _HEADER_MAX), "emoji": True}}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, _SECTION_MAX)}}


def context(parts: Iterable[str]) -> dict[str, Any]:
    text = "  ·  ".join(p for p in parts if p)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text or " ", _SECTION_MAX)}]}


def fields(pairs: Sequence[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Sections of two-column fields (``*label*\\nvalue``), skipping empty values."""
    items = [
        {"type": "mrkdwn", "text": cut(f"*{escape(label)}*\n{escape(value)}", _FIELD_MAX)}
        for label, value in pairs
        if value not in (None, "", [], {})
    ]
    return [
        {"type": "section", "fields": items[i : i + _FIELDS_PER_SECTION]}
        for i in range(0, len(items), _FIELDS_PER_SECTION)
    ]


def button(text: str, action_id: str, value: Mapping[str, Any], style: str | None = None) -> dict[str, Any]:
    encoded = orjson.dumps(dict(value)).decode()
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": cut(text, BUTTON_TEXT_MAX), "emoji": True},
        "action_id": action_id,
        "value": encoded[:_BUTTON_VALUE_MAX],
    }
    if style is not None:
        button["style"] = style
    return button


def action_rows(buttons: list[dict[str, Any]], block_id: str) -> list[dict[str, Any]]:
    # Distinct action_ids per block are required; rows of five stay tappable on a phone.
    rows = []
    for row, start in enumerate(range(0, len(buttons), _BUTTONS_PER_ROW)):
        chunk = buttons[start : start + _BUTTONS_PER_ROW]
        for index, button in enumerate(chunk):
            button["action_id"] = f"{button['action_id']}:{start + index}"
        rows.append({"type": "actions", "block_id": f"{block_id}:{row}", "elements": chunk})
    return rows


def named_fields(values: Mapping[str, Any], names: Mapping[str, Any]) -> list[tuple[str, Any]]:
    pairs = [(str(names.get(key) or key), value) for key, value in values.items()]
    return pairs[:_MAX_DATA_FIELDS]


def plain(text: str, limit: int = BUTTON_TEXT_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit), "emoji": True}


def alert(color: str, title: str, lines: list[str], summary: str) -> SlackMessage:
    """A coloured attachment (the bar shows the severity) with a header and a section per line."""
    blocks = [header(title)] + [section(line) for line in lines if line]
    return SlackMessage(summary, [], [{"color": color, "blocks": blocks, "fallback": summary}])
