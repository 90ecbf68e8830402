"""Block Kit for queue statistics: the wallboard (one message showing every object's figures) and
the alert posted when a threshold is crossed. Readable on a phone: one section per queue, its
figures as two-column fields, known statistics under plain names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bridge.events import Event
from connectors.slack_blockkit import SlackMessage, alert, context, escape, fields, header, section

__all__ = ["figure_text", "figures", "render_threshold_alert", "render_wallboard"]

#: statistic -> (label, kind): the seed's statistics.yaml names, in wallboard order
_KNOWN: dict[str, tuple[str, str]] = {
    "Current_In_Queue": ("Waiting", "count"),
    "CurrMaxCallWaitingTime": ("Longest wait", "seconds"),
    "ServiceLevel": ("Service level", "percent"),
    "CurrentReadyAgents": ("Agents ready", "count"),
    "CurrentNotReadyAgents": ("Not ready", "count"),
    "Total_Answered": ("Answered", "count"),
    "Total_Abandoned": ("Abandoned", "count"),
    "AverageWaitingTime": ("Average wait", "seconds"),
    "AverageHandlingTime": ("Average handling", "seconds"),
}


def figure_text(statistic: str, value: Any) -> tuple[str, str]:
    """``(label, value as shown)``: ``("Longest wait", "2:05")``, ``("Service level", "82%")``."""
    label, kind = _KNOWN.get(statistic, (statistic, "number"))
    if not isinstance(value, int | float) or isinstance(value, bool):
        return label, "-"
    if kind == "seconds":
        minutes, seconds = divmod(int(value), 60)
        return label, f"{minutes}:{seconds:02d}"
    if kind == "percent":
        return label, f"{value:.0f}%"
    return label, f"{value:g}"


def figures(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every value as ``(label, shown)``, the known statistics first in wallboard order."""
    known = [name for name in _KNOWN if name in values]
    others = sorted(name for name in values if name not in _KNOWN)
    return [figure_text(name, values[name]) for name in known + others]


def render_wallboard(
    boards: Sequence[Mapping[str, Any]], *, title: str = "Queue wallboard", updated: datetime | None = None
) -> SlackMessage:
    """The wallboard: ``boards`` are ``stats.updated`` data (object_id, name, values), plus an
    optional ``breached`` list of thresholds, one section per object."""
    blocks: list[dict[str, Any]] = [header(f":bar_chart: {title}")]
    summary: list[str] = []
    for board in boards:
        values = board.get("values") or {}
        breached = list(board.get("breached") or [])
        marker = ":red_circle:" if breached else ":large_green_circle:"
        name = str(board.get("name") or board.get("object_id"))
        blocks.append({"type": "divider"})
        blocks.append(section(f"{marker} *{escape(name)}*"))
        blocks += fields(figures(values))
        if breached:
            blocks.append(context(f":warning: {escape(item)}" for item in breached))
        waiting = values.get("Current_In_Queue")
        summary.append(f"{name}: {waiting:g} waiting" if isinstance(waiting, int | float) else name)
    if updated is not None:
        blocks.append(context([f"Updated {updated:%H:%M:%S} UTC"]))
    return SlackMessage("; ".join(summary) or title, blocks)


def render_threshold_alert(event: Event) -> SlackMessage:
    """A threshold breached (red) or cleared (green): a message of its own, under the wallboard."""
    data = event.data
    name = escape(data.get("name") or data.get("object_id"))
    label, shown = figure_text(str(data.get("statistic")), data.get("value"))
    threshold = escape(data.get("threshold"))
    if data.get("breached"):
        header, color = f":rotating_light: {name}: {label} {shown}", "#d9342b"
        line = f"*{threshold}* breached."
        summary = f"{name}: {label} {shown} ({data.get('threshold')})"
    else:
        header, color = f":white_check_mark: {name}: {label} back to {shown}", "#2eb67d"
        line = f"*{threshold}* cleared."
        summary = f"{name}: {label} back to {shown}"
    return alert(color, header, [line], summary)
