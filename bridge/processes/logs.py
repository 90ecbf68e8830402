"""How every ``gws-bridge`` process logs: one line per record on stderr, text or JSON, in UTC.

``--log-format json`` writes one JSON object per line (``time`` in ISO-8601 UTC, ``level``,
``logger``, ``message``, then every field the record was given with ``extra=`` — agent,
destination, event id, command id — and ``exception`` with the traceback when there is one).
``text`` writes ``time level logger message key=value…``. The default, ``auto``, is text on a
terminal and JSON otherwise (a container, a pipe, a log shipper). Secrets never reach a record:
the code that logs passes ids and names, never credentials.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["FORMATS", "ExtraFieldsFormatter", "JsonFormatter", "configure_logging"]

FORMATS = ("auto", "text", "json")

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is worth printing.
_STANDARD_RECORD_KEYS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_RECORD_KEYS}


def _utc(record: logging.LogRecord) -> str:
    return (
        datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


class ExtraFieldsFormatter(logging.Formatter):
    """``time level logger message``, then the record's ``extra`` fields as ``key=value``."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc(record)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{k}={v!r}" for k, v in _extras(record).items()]
        return f"{line} {' '.join(extras)}" if extras else line


class JsonFormatter(logging.Formatter):
    """One JSON object per record; values JSON cannot hold are written as their ``str``."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": _utc(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            document.setdefault(key, value)
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(document, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def configure_logging(level: str, log_format: str = "auto") -> None:
    """Send every record at ``level`` or above to stderr in ``log_format`` (see the module docstring)."""
    if log_format == "auto":
        log_format = "text" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(ExtraFieldsFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler])
