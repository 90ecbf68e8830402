"""Every GWS operation the bridge performs, once, as a pure builder (catalogue §1-§12).

A builder takes ids and values and returns an :class:`~bridge.gws.operations.request.Operation`:
the :class:`GwsRequest` (method, path relative to ``/api/v2``, body, query) and the
:class:`OutcomeRule` saying what confirms it. Nothing here performs IO: the REST client sends the
request (``await client.perform(op.request)``), the command translators choose the builder
(``bridge/commands``), and :data:`OPERATIONS` lists them all with what the seeds say.

Where the seeds disagree with themselves, the builders do what GWS 8.5.2 does:

* voice agent-state operations go to ``POST /me/channels/voice`` (the per-operation "Request
  URL" tables say ``/me/calls/{id}``, a copy-paste error in 002);
* ``SetCallDisposition`` goes to ``POST /me/calls/{id}`` (the Request URL table; the sample
  posts to ``/me/devices/{id}``, still built with ``device_id=``);
* ``ForwardCallsOn`` takes ``destination`` as a plain string, not ``{"phoneNumber": …}``;
* interaction single-step transfer is ``operationName: "Transfer"`` with ``userId``;
* URIs in bodies (``callUri``, ``consultCallUri``, ``otherCallUri``, ``targetDeviceUri``, a
  workbin interaction's ``uri``) are absolute, as in every sample.
"""

from __future__ import annotations

from bridge.gws.operations.builders.agent import *  # noqa: F403
from bridge.gws.operations.builders.agent import __all__ as _agent
from bridge.gws.operations.builders.attachments import *  # noqa: F403
from bridge.gws.operations.builders.attachments import __all__ as _attachments
from bridge.gws.operations.builders.media import *  # noqa: F403
from bridge.gws.operations.builders.media import __all__ as _media
from bridge.gws.operations.builders.supervisor import *  # noqa: F403
from bridge.gws.operations.builders.supervisor import __all__ as _supervisor
from bridge.gws.operations.builders.table import OPERATIONS, OperationSpec
from bridge.gws.operations.builders.transfers import *  # noqa: F403
from bridge.gws.operations.builders.transfers import __all__ as _transfers
from bridge.gws.operations.builders.voice import *  # noqa: F403
from bridge.gws.operations.builders.voice import __all__ as _voice
from bridge.gws.operations.builders.workbins import *  # noqa: F403
from bridge.gws.operations.builders.workbins import __all__ as _workbins
from bridge.gws.operations.request import SYNC, GwsRequest, Operation, OutcomeRule

__all__ = [
    "OPERATIONS",
    "SYNC",
    "GwsRequest",
    "Operation",
    "OperationSpec",
    "OutcomeRule",
    *_agent,
    *_attachments,
    *_media,
    *_supervisor,
    *_transfers,
    *_voice,
    *_workbins,
]
