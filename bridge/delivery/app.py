"""The Celery application: two tasks on a Redis broker, configured for at-least-once.

- ``acks_late`` + ``reject_on_worker_lost``: a task is acknowledged only after
  its deliveries were made or recorded (retry scheduled, dead-lettered, parked);
  a worker that dies mid-task leaves the message unacknowledged and Redis
  hands it to another worker after ``visibility_timeout``.
- ``worker_prefetch_multiplier = 1``: a worker reserves no more messages than
  it has threads, so no reserved message waits long enough to be redelivered.
- Messages are not the only copy: an unordered batch waits in the batch
  journal (:mod:`.journal`) and its message carries only its id, because the
  Redis transport can lose a popped message when a worker is SIGKILLed
  before kombu records it as unacknowledged. Ordered events wait in their FIFO queues.
- No countdowns: long delays live in the due-retry schedule (:mod:`.retries`);
  a task never runs longer than ``task_deadline``, which config validation
  keeps well below the visibility timeout.
- A task whose bookkeeping fails (Redis unreachable) is rejected with requeue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import orjson
from celery import Celery
from celery.exceptions import Reject
from kombu.serialization import register

from bridge.config import Settings
from bridge.redis_client import celery_broker

__all__ = [
    "DELIVER_BATCH",
    "DELIVER_JOURNALED",
    "DELIVER_SUBJECT",
    "SERIALIZER_CONTENT_TYPE",
    "RunnerSlot",
    "TaskRunner",
    "make_celery_app",
]

DELIVER_BATCH = "gwsb.deliver_batch"  # events inside the message; only from producers before the journal
DELIVER_JOURNALED = "gwsb.deliver_journaled"  # the batch id; its events wait in the journal
DELIVER_SUBJECT = "gwsb.deliver_subject"

logger = logging.getLogger(__name__)


class TaskRunner(Protocol):
    """What the tasks call inside a worker process (see ``DeliveryRuntime``)."""

    def deliver_batch(self, destination: str, wires: list[str]) -> None: ...

    def deliver_journaled(self, destination: str, batch_id: str) -> None: ...

    def deliver_subject(self, destination: str, subject: str) -> None: ...


@dataclass
class RunnerSlot:
    """Late binding between the app (built first) and the worker's runtime (built with the app)."""

    runner: TaskRunner | None = None

    def require(self) -> TaskRunner:
        if self.runner is None:
            raise RuntimeError("delivery tasks run only inside `gws-bridge worker`")
        return self.runner


# Task arguments are large (a batch of events); orjson encodes/decodes them several times faster
# than kombu's stdlib json. Registered process-wide; producers and workers both build their app here.
SERIALIZER = "gwsb-orjson"
SERIALIZER_CONTENT_TYPE = "application/x-gwsb-orjson"
register(
    SERIALIZER,
    orjson.dumps,
    orjson.loads,
    content_type=SERIALIZER_CONTENT_TYPE,
    content_encoding="binary",
)


def make_celery_app(settings: Settings, slot: RunnerSlot | None = None) -> Celery:
    """A Celery app for ``settings``; tasks execute through ``slot.runner`` (producers need no slot)."""
    delivery = settings.delivery
    slot = slot or RunnerSlot()
    broker, extra = celery_broker(settings)  # the URL, or Sentinel's addresses and master name
    transport = extra.pop("broker_transport_options")
    app = Celery("gws-bridge", broker=broker, set_as_current=False)
    restore_every = max(1, min(10, int(delivery.visibility_timeout / 4)))
    app.conf.update(
        **extra,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            **transport,
            "visibility_timeout": delivery.visibility_timeout,
            # Restore abandoned messages promptly: a sweep every `restore_every` s.
            "unacked_restore_interval": restore_every,
            "unacked_restore_throttle": 1,
        },
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer=SERIALIZER,
        accept_content=[SERIALIZER, "json"],
        task_default_queue=delivery.queue,
        task_publish_retry_policy={"max_retries": 3, "interval_start": 0, "interval_step": 0.2},
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
    )

    # shared=False: each task belongs to this app only. Shared (Celery's default), every app made
    # in the process would register every other app's closures when it is finalized, and the
    # first one registered wins: a worker's app could run a producer's tasks, whose slot is empty.
    @app.task(name=DELIVER_BATCH, shared=False)
    def deliver_batch(destination: str, wires: list[str]) -> None:
        _run(lambda: slot.require().deliver_batch(destination, wires), destination)

    @app.task(name=DELIVER_JOURNALED, shared=False)
    def deliver_journaled(destination: str, batch_id: str) -> None:
        _run(lambda: slot.require().deliver_journaled(destination, batch_id), destination)

    @app.task(name=DELIVER_SUBJECT, shared=False)
    def deliver_subject(destination: str, subject: str) -> None:
        _run(lambda: slot.require().deliver_subject(destination, subject), destination)

    return app


def _run(call: Callable[[], None], destination: str) -> None:
    try:
        call()
    except Exception as exc:
        # Deliveries are only "done" once recorded; if recording failed, run the task again.
        logger.exception("delivery task failed; requeued", extra={"destination": destination})
        time.sleep(1.0)  # do not spin while Redis is away
        raise Reject(f"{type(exc).__name__}: {exc}", requeue=True) from exc
