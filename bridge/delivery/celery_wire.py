"""Celery task messages as kombu's Redis transport stores them, built without kombu's publish path.

The one module that knows the broker's message format (Celery's task protocol 2 inside kombu's
Redis transport envelope). A Celery ``send_task`` costs the subscriber ~350 µs of CPU per call
(routing, the amqp message, kombu's producer, serializer registry and channel, then a blocking
``LPUSH`` on another thread); the same message, built here and pushed with the ``LPUSH`` queued
in the caller's own Redis pipeline, costs ~20 µs and goes in the transaction that journals its
events. ``tests/integration/delivery/test_celery_wire.py`` publishes a message through Celery and kombu
and fails if this module's differs (a Celery or kombu upgrade that changes the format).

What kombu does on publish and this module copies:

- the task: ``headers`` (protocol 2: task name, id, ``argsrepr``, …) and the body
  ``[args, kwargs, embed]``, serialized with the app's task serializer (:data:`SERIALIZER`);
- the envelope: ``body`` base64-encoded (``body_encoding``), the ``properties`` with a fresh
  ``delivery_tag``, ``delivery_info`` of the default exchange (``""``) and the queue as routing
  key; kombu's Redis channel then ``LPUSH``es its JSON on the queue's key (priority 0: the key is
  the queue's name; no ``global_keyprefix`` is configured, see ``make_celery_app``).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from celery.utils.nodenames import anon_nodename

from bridge.delivery.app import SERIALIZER_CONTENT_TYPE

__all__ = ["TaskMessages"]

_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


class TaskMessages:
    """Builds the broker messages of Celery tasks for one queue (see the module docstring)."""

    def __init__(self, queue: str, *, reply_to: str = "") -> None:
        self.queue = queue
        self._reply_to = reply_to
        self._origin = anon_nodename()

    def key(self) -> str:
        """The Redis list the workers pop this queue's messages from (priority 0)."""
        return self.queue

    def message(self, name: str, args: Sequence[Any]) -> bytes:
        """The JSON kombu's Redis transport stores for task ``name`` called with ``args``."""
        task_id = str(uuid.uuid4())
        args = list(args)
        body = orjson.dumps([args, {}, _EMBED])
        envelope = {
            "body": base64.b64encode(body).decode(),
            "content-encoding": "binary",
            "content-type": SERIALIZER_CONTENT_TYPE,
            "headers": {
                "lang": "py",
                "task": name,
                "id": task_id,
                "shadow": None,
                "eta": None,
                "expires": None,
                "group": None,
                "group_index": None,
                "retries": 0,
                "timelimit": [None, None],
                "root_id": task_id,
                "parent_id": None,
                "argsrepr": repr(args),
                "kwargsrepr": "{}",
                "origin": self._origin,
                "ignore_result": None,
                "replaced_task_nesting": 0,
                "stamped_headers": None,
                "stamps": {},
            },
            "properties": {
                "correlation_id": task_id,
                "reply_to": self._reply_to,
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": self.queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
        return orjson.dumps(envelope)

    def push_to(self, pipe: Any, tasks: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Queue on ``pipe`` (a Redis pipeline) one ``LPUSH`` of every task's message, in order."""
        if tasks:
            pipe.lpush(self.key(), *(self.message(name, args) for name, args in tasks))
