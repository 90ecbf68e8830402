"""The ``data`` model and schema version of every event type: the consumers' contract.

:data:`CONTRACTS` maps each :class:`~bridge.events.EventType` (the catalogue:
names and meanings) to its data model and a version. ``docs/schemas/`` (a
JSON Schema per type, the CloudEvents envelope, the AsyncAPI document) and
the field tables of ``docs/events.md`` are generated from them
(``gws-bridge schemas``); tests hold every event the normalizer produces to
its schema.

Evolving a type: adding a field with a default (absent in events already
queued or dead-lettered, which may be delivered days later) keeps the
version; removing or retyping a field, or adding one without a default,
breaks consumers and needs ``version`` + 1 (``bridge.event_data.compat``
tells which; the schema's ``$id`` carries the version).
"""

from bridge.event_data.base import EventData, GwsEventData
from bridge.event_data.catalogue import CONTRACTS, Contract, contract

__all__ = ["CONTRACTS", "Contract", "EventData", "GwsEventData", "contract"]
