"""How a state save waits for the replicas (``[redis_sentinel] wait_replicas``), and notices a failover.

Redis replicates asynchronously: a failover promotes a replica that may lack the master's last
writes. :class:`ReplicaWait` ends each save pipeline of :class:`~bridge.gws.state_store.RedisStateStore`
in ``WAIT n timeout`` — on the pipeline's connection, so it covers everything this client wrote
to that master before, the events of the messages saved for included — and ``INFO replication``,
whose ``master_replid`` tells whether the pipeline reached the same master as the previous one.
docs/operations.md "Redis Sentinel" says what this guarantees and what it does not.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from bridge.normalize.state import StateStoreError

__all__ = ["MasterChangedError", "ReplicaWait"]

logger = logging.getLogger("bridge.gws.state_store")

# WAITs per pipeline while replicas are online but behind, before the saves go on unconfirmed.
ROUNDS = 10


class MasterChangedError(StateStoreError):
    """A save reached another Redis master than the previous one: a failover came between.

    The save itself is done (on the new master); what the caller handed on before it went to the
    old master and may be lost with it, so the caller hands it on again and saves again.
    """


class ReplicaWait:
    """``replicas`` must confirm each save pipeline within ``timeout`` seconds.

    While replicas are online but behind, the pipeline goes again (up to :data:`ROUNDS` times).
    With fewer than ``replicas`` online (none left after a failover, one resyncing), none could
    be promoted holding less than this master: the saves go on unconfirmed, with a warning, and
    for ``recheck`` seconds the pipelines skip the WAIT (one timeout per ``recheck``, not per save).
    """

    def __init__(self, replicas: int, *, timeout: float, recheck: float = 5.0) -> None:
        self.replicas = replicas
        self._ms = max(1, round(timeout * 1000))
        self._recheck = recheck
        self._skip_until = 0.0  # monotonic time until which pipelines skip the WAIT
        self._replid: str | None = None  # the master's replication id at the last pipeline
        self.unconfirmed_saves = 0  # saves that returned without the replicas' confirmation
        self.master_changes = 0  # failovers noticed between two pipelines

    def add_to(self, pipe: Any) -> bool:
        """Queue the WAIT (unless skipping it now) and ``INFO replication``; whether WAIT was queued."""
        waiting = time.monotonic() >= self._skip_until
        if waiting:
            pipe.wait(self.replicas, self._ms)
        pipe.info("replication")
        return waiting

    def first_master(self, replication: dict[str, Any]) -> None:
        """Remember the master a load saw, when no save has seen one yet."""
        if self._replid is None:
            self._replid = str(replication.get("master_replid", ""))

    def again(self, results: list[Any], *, waited: bool, saves: int, last: bool) -> bool:
        """Take this class's replies off the end of ``results``; whether to send the pipeline again.

        Raises :class:`MasterChangedError` when it reached another master than the previous
        pipeline, and the error of a WAIT or INFO that failed.
        """
        replication = _raised(results.pop())
        confirmed = _raised(results.pop()) if waited else 0
        self._same_master(replication)
        if waited and confirmed >= self.replicas:
            return False
        if not waited:
            self.unconfirmed_saves += saves
            return False
        online = _online_replicas(replication)
        if online >= self.replicas and not last:
            # Online but behind: a failover now would promote one without these saves. The
            # scripts are idempotent: send them again and WAIT again.
            logger.info(
                "replicas behind: %d of %d confirmed a state save in %d ms; waiting again",
                confirmed, self.replicas, self._ms,
                extra={"confirmed": confirmed, "online": online, "saves": saves},
            )  # fmt: skip
            return True
        self.unconfirmed_saves += saves
        self._skip_until = time.monotonic() + self._recheck
        logger.warning(
            "%d of %d replicas confirmed a state save within %d ms (%d online); saves go on "
            "unconfirmed and WAIT again in %.0f s",
            confirmed, self.replicas, self._ms, online, self._recheck,
            extra={"confirmed": confirmed, "online": online, "saves": saves},
        )  # fmt: skip
        return False

    def _same_master(self, replication: dict[str, Any]) -> None:
        # redis-py retries a pipeline after a connection error by itself, so a save can land on
        # the promoted replica while the events handed on just before it went to the old master.
        replid = str(replication.get("master_replid", ""))
        known, self._replid = self._replid, replid
        if known is not None and replid != known:
            self.master_changes += 1
            raise MasterChangedError(
                "the Redis master changed (a failover) since the last state save; "
                "the events before this save may be lost with the old master"
            )


def _raised(result: Any) -> Any:
    if isinstance(result, Exception):
        raise result
    return result


def _online_replicas(replication: dict[str, Any]) -> int:
    """Replicas the master streams to (``INFO replication``: ``slaveN`` with ``state=online``)."""
    return sum(
        1
        for name, value in replication.items()
        if name.startswith("slave") and isinstance(value, dict) and value.get("state") == "online"
    )
