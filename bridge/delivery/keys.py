"""Names of every Redis key the delivery layer owns, in one place (``{prefix}:…``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Keys"]


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names under ``prefix`` (``[delivery] key_prefix``, default ``gwsb``)."""

    prefix: str = "gwsb"

    @property
    def retry(self) -> str:
        """Sorted set: wire -> due time (Unix seconds) of retries, deferred sends and FIFO kicks."""
        return f"{self.prefix}:retry"

    @property
    def dead_letters(self) -> str:
        """Hash: dead-letter id -> JSON record."""
        return f"{self.prefix}:dlq"

    @property
    def dead_letter_index(self) -> str:
        """Sorted set: dead-letter id -> time it died."""
        return f"{self.prefix}:dlq:index"

    @property
    def unreadable(self) -> str:
        """List of raw entries that could not be decoded (kept for inspection, never dropped)."""
        return f"{self.prefix}:unreadable"

    @property
    def disabled(self) -> str:
        """Hash: destination -> JSON {reason, at}."""
        return f"{self.prefix}:disabled"

    def failures(self, destination: str) -> str:
        """Sorted set of recent failure times (the current run of failures)."""
        return f"{self.prefix}:failures:{destination}"

    def parked(self, destination: str) -> str:
        """List of deliveries that arrived while ``destination`` was disabled."""
        return f"{self.prefix}:parked:{destination}"

    def bucket(self, destination: str) -> str:
        """Hash {tokens, ts}: the destination's token bucket."""
        return f"{self.prefix}:bucket:{destination}"

    def fifo(self, destination: str, subject: str) -> str:
        """Sorted set: event id -> sequence, the subject's pending events, oldest first."""
        return f"{self.prefix}:fifo:{destination}:{subject}"

    def fifo_items(self, destination: str, subject: str) -> str:
        """Hash: event id -> wire of the pending delivery."""
        return f"{self.prefix}:fifo-items:{destination}:{subject}"

    def fifo_subjects(self, destination: str) -> str:
        """Set of subjects with pending FIFO events."""
        return f"{self.prefix}:fifo-subjects:{destination}"

    def fifo_lock(self, destination: str, subject: str) -> str:
        return f"{self.prefix}:fifo-lock:{destination}:{subject}"

    def fifo_blocked(self, destination: str, subject: str) -> str:
        """String holding the time until which the subject waits for its head's retry."""
        return f"{self.prefix}:fifo-blocked:{destination}:{subject}"

    @property
    def journal(self) -> str:
        """Hash: batch id -> newline-joined wires of an unordered batch not yet finished."""
        return f"{self.prefix}:journal"

    @property
    def journal_due(self) -> str:
        """Sorted set: batch id -> time after which the batch counts as abandoned (re-published)."""
        return f"{self.prefix}:journal:due"

    def journal_run(self, batch_id: str) -> str:
        """String present while a worker runs the batch (a lease, expires on its own)."""
        return f"{self.prefix}:journal:run:{batch_id}"

    def worker(self, hostname: str) -> str:
        """Presence of a running worker (expires when it stops refreshing)."""
        return f"{self.prefix}:worker:{hostname}"

    @property
    def workers_pattern(self) -> str:
        return f"{self.prefix}:worker:*"
