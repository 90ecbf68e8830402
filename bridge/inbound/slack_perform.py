"""The execute step of the Slack routes: an intent run as its agent, as ``/v1/commands`` runs it.

Commands go through the receiver's :class:`~bridge.inbound.executor.CommandExecutor` (the action
table, the agent's own GWS session, the outcome from CometD); ``/agent status`` and finding the
call of a ``/dispo`` are reads of the agent's GWS state.
"""

from __future__ import annotations

from bridge.commands import Dialect, build_command
from bridge.errors import CommandError, GwsError
from bridge.gws import operations
from bridge.inbound.executor import CommandExecutor
from bridge.inbound.outcomes import CommandStatus
from bridge.inbound.problems import Problem
from bridge.inbound.slack_access import SlackAccess
from bridge.inbound.slack_commands import SlackIntent, SlackUsageError
from bridge.inbound.slack_dialect import SlackOutcome, render_outcome, render_status

__all__ = ["SlackPerformer"]

NO_CURRENT_CALL = ":no_entry: No current call found; use `/dispo <disposition> <call id>`."


class SlackPerformer:
    """Runs intents for one receiver; ``outcome_wait`` bounds the wait for GWS's confirmation."""

    def __init__(
        self, executor: CommandExecutor, access: SlackAccess, *, outcome_wait: float, client_name: str
    ) -> None:
        self._executor = executor
        self._access = access
        self._wait = outcome_wait
        self._client = client_name

    async def perform(self, agent: str, intent: SlackIntent) -> str:
        """Run ``intent`` as ``agent``: the text to show the user (success or why not); never raises
        for a refusal, a GWS failure or GWS being away."""
        try:
            if intent.action is None:
                client = self._executor.sessions.client(agent)
                return render_status(agent, await operations.get_devices(client))
            if intent.is_disposition:
                call_id = await self._resolve_call(agent, intent)
                if call_id is None:
                    return NO_CURRENT_CALL
                intent = SlackIntent(
                    intent.action, dict(intent.params, call_id=call_id), intent.summary, call_id
                )
            return render_outcome(await self.run(agent, intent))
        except SlackUsageError as refused:
            return str(refused)
        except GwsError as exc:
            return render_outcome(SlackOutcome(agent, intent.summary, "unreachable", exc.message))

    async def run(self, agent: str, intent: SlackIntent) -> SlackOutcome:
        """The command of ``intent`` (its params complete) through the executor, and how it ended."""
        assert intent.action is not None
        try:
            command = build_command(
                agent=agent, action=intent.action, params=intent.params, dialect=Dialect.SLACK
            )
            execution = await self._executor.execute(command, self._client)
        except CommandError as exc:
            return SlackOutcome(agent, intent.summary, "refused", str(exc))
        except Problem as problem:
            return SlackOutcome(agent, intent.summary, "refused", problem.detail)
        outcome = await self._executor.wait(execution, self._wait)
        status = outcome.status if outcome is not None else CommandStatus(execution.record["status"])
        detail = outcome.error if outcome is not None and outcome.error else ""
        return SlackOutcome(agent, intent.summary, status, detail, command.id)

    async def _resolve_call(self, agent: str, intent: SlackIntent) -> str | None:
        """The call a disposition is for: the one named (if the agent's), else the agent's current call."""
        calls = await operations.get_calls(self._executor.sessions.client(agent))
        ids = [str(c.get("id")) for c in calls if c.get("id")]
        if intent.call_id is not None:
            if intent.call_id in ids or agent in await self._access.call_owners(intent.call_id):
                return intent.call_id
            raise SlackUsageError(f":no_entry: Call {intent.call_id} is not one of {agent}'s calls.")
        for state in ("Established", "Held"):
            for call in calls:
                if call.get("state") == state and call.get("id"):
                    return str(call["id"])
        return ids[-1] if ids else None
