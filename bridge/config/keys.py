"""Names of every Redis key gws-bridge owns, in one place: ``{prefix}:…``.

``prefix`` is ``[delivery] key_prefix`` (default ``gwsb``); :attr:`Settings.keys
<bridge.config.Settings.keys>` builds the :class:`Keys` every process uses, so two bridges can
share one Redis under different prefixes. Each owner has its namespace: ``lease:`` (agent
leases), ``state:`` (last-known agent state), ``mobile:`` (device registry), ``slack:`` (the
Slack connector and receiver), ``in:`` (the command receiver), ``console:`` (what the operator
console reads and keeps), ``notes:`` (what the receiver tells the subscribers), ``stats`` and
``stats-lease:`` (the statistics poller's snapshots and lease) and the delivery keys below.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_KEYS", "ConsoleKeys", "InboundKeys", "Keys", "NoteKeys", "SlackKeys"]


@dataclass(frozen=True, slots=True)
class SlackKeys:
    """Keys of the Slack connector, shared with the Slack receiver (``{prefix}:slack:…``)."""

    prefix: str = "gwsb"

    def thread(self, channel: str, subject: str) -> str:
        """String: the root ``ts`` of ``subject``'s thread in ``channel`` (or ``pending``)."""
        return f"{self.prefix}:slack:thread:{channel}:{subject}"

    def sent(self, destination: str, event_id: str) -> str:
        """String: the ``ts`` an event was posted as (redelivery does not post again)."""
        return f"{self.prefix}:slack:sent:{destination}:{event_id}"

    def pace(self, channel: str) -> str:
        """String: the next free posting slot (Unix seconds) of a channel."""
        return f"{self.prefix}:slack:pace:{channel}"

    def thread_subject(self, channel: str, ts: str) -> str:
        """String: JSON ``{subject, media}`` of the thread whose root is ``ts`` in ``channel``."""
        return f"{self.prefix}:slack:thread-of:{channel}:{ts}"

    def call_agents(self, call_id: str) -> str:
        """Set: the agents a call's events were posted for."""
        return f"{self.prefix}:slack:call-agents:{call_id}"

    def interaction_agents(self, interaction_id: str) -> str:
        """Set: the agents holding an interaction, as its posted events tell (a thread reply's check)."""
        return f"{self.prefix}:slack:interaction-agents:{interaction_id}"

    def wallboard(self, channel: str) -> str:
        """String: the ``ts`` of the channel's wallboard message (updated in place)."""
        return f"{self.prefix}:slack:wallboard:{channel}"

    def wallboard_figures(self, channel: str) -> str:
        """Hash: statistics object id -> JSON figures the channel's wallboard shows."""
        return f"{self.prefix}:slack:wallboard-figures:{channel}"

    def wallboard_shown(self, channel: str) -> str:
        """Hash: statistics object id -> the sequence of the figures last put on the wallboard."""
        return f"{self.prefix}:slack:wallboard-shown:{channel}"

    def wallboard_slot(self, channel: str) -> str:
        """String present while the channel's wallboard may not be updated again (coalescing)."""
        return f"{self.prefix}:slack:wallboard-slot:{channel}"


@dataclass(frozen=True, slots=True)
class InboundKeys:
    """Keys of the command receiver (``{prefix}:in:…``)."""

    prefix: str = "gwsb"

    def idempotency(self, client: str, key: str) -> str:
        """String: a pending or finished command under a client's ``Idempotency-Key``."""
        return f"{self.prefix}:in:idem:{client}:{key}"

    def signature(self, client: str, msg_id: str, stamp: str) -> str:
        """String present while a signed request's id and timestamp may not be replayed."""
        return f"{self.prefix}:in:sig:{client}:{msg_id}:{stamp}"

    def rate(self, client: str) -> str:
        """Hash {tokens, ts}: the client's token bucket, shared by every receiver."""
        return f"{self.prefix}:in:rate:{client}"

    def command(self, command_id: str) -> str:
        """String: the status record of an accepted command (``GET /v1/commands/{id}``)."""
        return f"{self.prefix}:in:cmd:{command_id}"

    @property
    def command_index(self) -> str:
        """Sorted set: command id -> time it was last updated (bounded: ``[console] recent_commands``)."""
        return f"{self.prefix}:in:cmd-index"


@dataclass(frozen=True, slots=True)
class ConsoleKeys:
    """What the operator console reads and keeps (``{prefix}:console:…``)."""

    prefix: str = "gwsb"

    @property
    def attempts(self) -> str:
        """Stream: one entry per delivery attempt (bounded by length and age; the live tail reads it)."""
        return f"{self.prefix}:console:attempts"

    @property
    def agents(self) -> str:
        """Hash: agent -> JSON status record published by the subscriber that holds it."""
        return f"{self.prefix}:console:agents"

    def session(self, token_hash: str) -> str:
        """String: a signed-in browser session (JSON {name, role, csrf}), expiring on its own."""
        return f"{self.prefix}:console:session:{token_hash}"

    @property
    def audit(self) -> str:
        """Stream: every operator action, with who did it (bounded)."""
        return f"{self.prefix}:console:audit"

    def sign_in_bucket(self, kind: str, digest: str) -> str:
        """Hash: a sign-in token bucket (``kind`` ``addr`` or ``key``; a SHA-256, never the key)."""
        return f"{self.prefix}:console:sign-in:{kind}:{digest}"


@dataclass(frozen=True, slots=True)
class NoteKeys:
    """Notes the receiver files for the subscribers (``{prefix}:notes:…``, :mod:`bridge.gws.notes`)."""

    prefix: str = "gwsb"

    def inbox(self, agent: str) -> str:
        """List: the notes waiting for ``agent``'s session, oldest first."""
        return f"{self.prefix}:notes:{agent}"

    @property
    def filed(self) -> str:
        """Pub/sub channel: an agent's name, published when a note was filed for it."""
        return f"{self.prefix}:notes"

    def handled(self, command_id: str) -> str:
        """List: one item once the note a command filed is handled (its events handed on)."""
        return f"{self.prefix}:notes:handled:{command_id}"


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names under ``prefix``; the delivery layer's keys directly, other owners' by namespace."""

    prefix: str = "gwsb"

    @property
    def leases(self) -> str:
        """Prefix of the agent leases (:class:`bridge.gws.leases.LeaseManager`)."""
        return f"{self.prefix}:lease:"

    @property
    def stats_lease(self) -> str:
        """Prefix of the statistics poller's lease (a :class:`~bridge.gws.leases.LeaseManager` whose one
        "agent" is ``poller``): the subscriber that holds it polls every ``[[statistics]]`` object."""
        return f"{self.prefix}:stats-lease:"

    @property
    def stats(self) -> str:
        """Hash: statistics object id -> JSON snapshot (values, times, breached thresholds, label)."""
        return f"{self.prefix}:stats"

    @property
    def state(self) -> str:
        """Prefix of the per-agent state hashes (:class:`bridge.gws.state_store.RedisStateStore`)."""
        return f"{self.prefix}:state:"

    @property
    def mobile(self) -> str:
        """Prefix of the device registry (:class:`bridge.mobile.registry.DeviceRegistry`)."""
        return f"{self.prefix}:mobile"

    @property
    def slack(self) -> SlackKeys:
        return SlackKeys(self.prefix)

    @property
    def inbound(self) -> InboundKeys:
        return InboundKeys(self.prefix)

    @property
    def console(self) -> ConsoleKeys:
        return ConsoleKeys(self.prefix)

    @property
    def notes(self) -> NoteKeys:
        return NoteKeys(self.prefix)

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


#: the keys under the default prefix ``gwsb`` (what a component uses when not told otherwise)
DEFAULT_KEYS = Keys()
