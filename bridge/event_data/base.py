"""What every event's ``data`` model shares.

The models are the contract consumers code against, not what the normalizer
builds: it emits plain dicts (constructing a model per event would cost more
than normalizing it) and a test holds every event it produces to its model's
JSON Schema. So the models say exactly what the normalizer sends: a field
with no default is always present (``null`` where GWS did not say), a field
with a default is present only when it applies.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = ["DataPart", "EventData", "GwsEventData"]


class DataPart(BaseModel):
    """An object nested in ``data`` (a participant, a workbin reason, …)."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)


class EventData(BaseModel):
    """The ``data`` of one event type. Unknown keys are ignored: new fields may be added."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    #: a regular expression every event of the type's ``subject`` matches
    subject_pattern: ClassVar[str]


class GwsEventData(EventData):
    """The ``data`` of an event derived from a GWS notification or state read."""

    agent: str
    """The agent: the GWS user name the session runs as (also the event's ``partitionkey``)."""
    raw: Any = None
    """The GWS message this was derived from; present only with ``include_raw`` (off by default)."""
