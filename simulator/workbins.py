"""The agents' workbins (8.5.1 Workbins API): parking an interaction, pulling it back, and the
``/v2/me/workbins`` notifications, which reach only a client that subscribed to the workbin
(SubscribeWorkbinEvents, seed 003).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from simulator.envelopes import OperationError
from simulator.media_messages import workbin_message
from simulator.messages import TOPIC_WORKBINS, MessageBuilder, Publish
from simulator.model import Interaction, InteractionState, User, Workbin

__all__ = ["Workbins"]


class Workbins:
    """Parks and pulls the agents' interactions.

    ``subscribed``: whether a user's client subscribed to a workbin's notifications.
    ``interaction_changed``: announces an interaction that changed hands (pulled back).
    """

    def __init__(
        self,
        builder: MessageBuilder,
        publish: Publish,
        *,
        subscribed: Callable[[User, Workbin], bool],
        interaction_changed: Callable[[User, Interaction], None],
    ) -> None:
        self._builder = builder
        self._publish_to = publish
        self._subscribed = subscribed
        self._interaction_changed = interaction_changed

    @staticmethod
    def find(user: User, key: str) -> Workbin:
        """A workbin by id or name; OperationError 6 when unknown."""
        workbin = user.workbins.get(key)
        if workbin is None:
            workbin = next((w for w in user.workbins.values() if w.name == key), None)
        if workbin is None:
            raise OperationError(6, f"Workbin {key} not found")
        return workbin

    def place(self, user: User, workbin: Workbin, interaction: Interaction) -> str:
        """Park an owned interaction; publishes ``PlacedIn`` on /v2/me/workbins; returns its workbin URI."""
        user.interactions.pop(interaction.id, None)
        interaction.state = InteractionState.QUEUED
        interaction.workbin = workbin.workbin_id
        workbin.interactions[interaction.id] = interaction
        message = workbin_message(
            interaction, user, workbin.name, operation="Create", content_operation="PlacedIn"
        )
        self._publish(user, workbin, message)
        return self._builder.workbin_interaction_uri(workbin.workbin_id, interaction.id)

    def _publish(self, user: User, workbin: Workbin, message: dict[str, Any]) -> None:
        """Workbin notifications reach only a client that subscribed (SubscribeWorkbinEvents, 003)."""
        if self._subscribed(user, workbin):
            self._publish_to(TOPIC_WORKBINS, message, user.user_name)

    def pull(self, user: User, uri: str) -> Interaction:
        """PullInteractionFromWorkbin: the interaction becomes the agent's again (state ``Pulled``)."""
        parts = [unquote(part) for part in uri.strip().rstrip("/").split("/")]
        if len(parts) < 3:
            raise OperationError(1, "Parameter 'uri' is not a workbin interaction URI")
        workbin = self.find(user, parts[-3])
        interaction = workbin.interactions.pop(parts[-1], None)
        if interaction is None:
            raise OperationError(6, f"Interaction {parts[-1]} not found in workbin")
        message = workbin_message(
            interaction, user, workbin.name, operation="Delete", content_operation="TakenOut"
        )
        self._publish(user, workbin, message)
        interaction.workbin = None
        interaction.owner = user.user_name
        interaction.state = InteractionState.PULLED
        user.interactions[interaction.id] = interaction
        self._interaction_changed(user, interaction)
        return interaction
