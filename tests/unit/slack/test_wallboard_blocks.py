"""The wallboard's Block Kit: figures under plain names, phone-sized sections, and the rendering
shown in docs/slack.md (``python tests/unit/slack/test_wallboard_blocks.py`` rewrites it)."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson

from connectors.slack_wallboard_blocks import figure_text, render_wallboard

DOC = Path(__file__).resolve().parents[3] / "docs" / "slack.md"
SAMPLE = [
    {
        "object_id": "VQ_Sales", "name": "Sales",
        "values": {"Current_In_Queue": 2, "CurrMaxCallWaitingTime": 48, "ServiceLevel": 91.2,
                   "CurrentReadyAgents": 4, "Total_Answered": 57, "Total_Abandoned": 1},
    },
    {
        "object_id": "VQ_Support", "name": "Support", "breached": ["Current_In_Queue > 10"],
        "values": {"Current_In_Queue": 12, "CurrMaxCallWaitingTime": 185, "ServiceLevel": 64.0,
                   "CurrentReadyAgents": 0, "Total_Answered": 131, "Total_Abandoned": 9},
    },
]  # fmt: skip
UPDATED = datetime(2026, 12, 3, 10, 15, 30, tzinfo=UTC)
_BLOCK = re.compile(r"(<!-- wallboard -->\n```json\n)(.*?)(\n```)", re.S)


def rendered() -> str:
    message = render_wallboard(SAMPLE, updated=UPDATED)
    return orjson.dumps({"text": message.text, "blocks": message.blocks}, option=orjson.OPT_INDENT_2).decode()


def test_figures_have_plain_names_and_units() -> None:
    assert figure_text("CurrMaxCallWaitingTime", 125) == ("Longest wait", "2:05")
    assert figure_text("ServiceLevel", 81.6) == ("Service level", "82%")
    assert figure_text("Current_In_Queue", 3) == ("Waiting", "3")
    assert figure_text("SomethingElse", 1.5) == ("SomethingElse", "1.5")
    assert figure_text("Current_In_Queue", None) == ("Waiting", "-")


def test_a_board_is_one_section_per_queue_with_its_alerts() -> None:
    message = render_wallboard(SAMPLE, updated=UPDATED)
    assert message.text == "Sales: 2 waiting; Support: 12 waiting"
    sections = [b for b in message.blocks if b["type"] == "section" and "text" in b]
    assert [s["text"]["text"] for s in sections] == [":large_green_circle: *Sales*", ":red_circle: *Support*"]
    for block in message.blocks:  # two columns at most, so it reads on a phone
        assert len(block.get("fields", [])) <= 10
    assert "Current_In_Queue &gt; 10" in str(message.blocks)


def test_docs_slack_md_shows_the_current_rendering() -> None:
    match = _BLOCK.search(DOC.read_text())
    assert match is not None, "docs/slack.md lacks the <!-- wallboard --> json block"
    assert match.group(2) == rendered(), "run: python tests/unit/slack/test_wallboard_blocks.py"


if __name__ == "__main__":
    text = DOC.read_text()
    DOC.write_text(_BLOCK.sub(lambda m: m.group(1) + rendered() + m.group(3), text))
    print(f"wrote {DOC}", file=sys.stderr)
