"""E-mail and chat interactions and workbins (8.5.1 Interactions and Workbins APIs).

Interaction operations are synchronous in GWS 8.5.1: a refusal is the operation's failure
envelope (``{"status":"error",…}`` or ``{"statusCode":n,…}``), not an ErrorMessage. Each
operation returns the envelope family its seed sample shows (see ``ENVELOPES``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from simulator.envelopes import Envelope, OperationError
from simulator.media_messages import (
    interaction_flat_message,
    interaction_nested_message,
    reply_created_message,
)
from simulator.messages import TOPIC_INTERACTIONS, MessageBuilder, Publish
from simulator.model import Interaction, InteractionState, MediaChannel, SimState, User, Workbin
from simulator.op_params import require
from simulator.workbins import Workbins

__all__ = ["ENVELOPES", "MediaEngine"]

# operationName -> success envelope (chat Accept is S0, e-mail Accept is OK: handled in envelope_for)
ENVELOPES: dict[str, Envelope] = {
    "Accept": Envelope.OK, "Reject": Envelope.OK, "Cancel": Envelope.N0, "Complete": Envelope.S0,
    "PlaceInQueue": Envelope.OK, "UpdateUserData": Envelope.OK, "AttachUserData": Envelope.OK,
    "DeleteUserData": Envelope.OK, "PlaceInWorkbin": Envelope.OK, "GetWorkbinContent": Envelope.OK,
    "Transfer": Envelope.S0, "SingleStepTransfer": Envelope.S0, "Reply": Envelope.OK,
    "ReplyAll": Envelope.OK, "Send": Envelope.OK, "Create": Envelope.OK, "InviteUser": Envelope.OK,
    "EndChatSession": Envelope.OK, "LeaveConference": Envelope.OK, "SendMessage": Envelope.S0,
    "SendStartTypingNotification": Envelope.S0, "SendStopTypingNotification": Envelope.S0,
    "RequestChatHistory": Envelope.S0, "PullInteractionFromWorkbin": Envelope.N0,
}  # fmt: skip
_OWNED = (InteractionState.ACCEPTED, InteractionState.PULLED, InteractionState.REPLY_CREATED)


class MediaEngine:
    """Interactions (and, through :attr:`workbins`, workbins) for one :class:`SimState`."""

    def __init__(
        self,
        state: SimState,
        builder: MessageBuilder,
        publish: Publish,
        *,
        invite_timeout: float | None = None,
        workbin_subscribed: Callable[[User, Workbin], bool] = lambda user, workbin: True,
    ) -> None:
        self.state = state
        self.builder = builder
        self.publish = publish
        self.invite_timeout = invite_timeout
        #: The agents' workbins; what is parked or pulled is announced like any interaction change.
        self.workbins = Workbins(
            builder, publish, subscribed=workbin_subscribed, interaction_changed=self._nested
        )
        self._timers: set[asyncio.TimerHandle] = set()

    def cancel_timers(self) -> None:
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()

    def _revoke_if_unanswered(self, user_name: str, interaction_id: str) -> None:
        """An invitation left unanswered is revoked, as GWS does after agent inactivity."""
        user = self.state.users.get(user_name)
        interaction = user.interactions.get(interaction_id) if user is not None else None
        if user is None or interaction is None or interaction.state is not InteractionState.INVITED:
            return
        self._drop(user, interaction, InteractionState.REVOKED, flat=True)
        self.state.interactions.pop(interaction.id, None)

    @staticmethod
    def envelope_for(operation: str, interaction: Interaction | None) -> Envelope:
        if operation == "Accept" and interaction is not None and interaction.channel is MediaChannel.CHAT:
            return Envelope.S0
        return ENVELOPES.get(operation, Envelope.OK)

    # -- publishing -------------------------------------------------------------------------------

    def _nested(self, user: User, interaction: Interaction, *, with_capabilities: bool = True) -> None:
        message = interaction_nested_message(interaction, with_capabilities=with_capabilities)
        self.publish(TOPIC_INTERACTIONS, message, user.user_name)

    def _flat(self, user: User, interaction: Interaction) -> None:
        self.publish(TOPIC_INTERACTIONS, interaction_flat_message(interaction), user.user_name)

    def _properties_changed(self, user: User, interaction: Interaction) -> None:
        """``PropertiesChanged`` (no capabilities, whole transcript for chats); the state is kept."""
        kept = interaction.state
        interaction.state = InteractionState.PROPERTIES_CHANGED
        try:
            self._nested(user, interaction, with_capabilities=False)
        finally:
            interaction.state = kept

    # -- invitations and customer side ------------------------------------------------------------

    def invite(
        self,
        user: User,
        channel: MediaChannel,
        *,
        subject: str,
        text: str,
        user_data: dict[str, Any] | None = None,
        from_address: str = "customer@example.com",
        interaction: Interaction | None = None,
    ) -> Interaction:
        """Offer a new (or transferred) interaction to ``user``: e-mail nested, chat flat (quirk C1)."""
        if interaction is None:
            interaction_id = self.state.new_interaction_id()
            data = {"Subject": subject, **(user_data or {})}
            if channel is MediaChannel.EMAIL:
                data.setdefault("FromAddress", from_address)
                data.setdefault("To", "support@example.com")
            interaction = Interaction(
                id=interaction_id,
                channel=channel,
                owner=user.user_name,
                state=InteractionState.INVITED,
                subject=subject,
                text=text,
                from_address=from_address,
                to_address="support@example.com",
                queue="EmailInQueue" if channel is MediaChannel.EMAIL else "ChatInQueue",
                user_data=data,
                thread_id=f"{interaction_id}T",
                customer_user_id=uuid.uuid5(uuid.NAMESPACE_URL, interaction_id).hex[:16].upper(),
            )
            if channel is MediaChannel.CHAT:
                self._event(interaction, "PARTY_JOINED", interaction.customer_user_id, "Client",
                            nickName=interaction.customer_nickname)  # fmt: skip
                if text:
                    self._event(interaction, "MESSAGE", interaction.customer_user_id, "Client",
                                nickName=interaction.customer_nickname, text=text)  # fmt: skip
            self.state.interactions[interaction.id] = interaction
        else:
            interaction.owner = user.user_name
            interaction.state = InteractionState.INVITED
        user.interactions[interaction.id] = interaction
        if channel is MediaChannel.EMAIL:
            self._nested(user, interaction)
        else:
            self._flat(user, interaction)
        if self.invite_timeout is not None:
            handle: asyncio.TimerHandle

            def revoke(name: str = user.user_name, interaction_id: str = interaction.id) -> None:
                self._timers.discard(handle)
                self._revoke_if_unanswered(name, interaction_id)

            handle = asyncio.get_running_loop().call_later(self.invite_timeout, revoke)
            self._timers.add(handle)
        return interaction

    @staticmethod
    def _event(
        interaction: Interaction, kind: str, user_id: str, user_type: str | None, **extra: Any
    ) -> None:
        event: dict[str, Any] = {"userId": user_id, "messageType": kind}
        if user_type is not None:
            event["userType"] = user_type
        event["visibility"] = "All"
        event.update(extra)
        event["id"] = len(interaction.events) + 1
        interaction.events.append(event)

    def customer_message(self, interaction_id: str, text: str) -> Interaction:
        """A customer chat line; the owner gets PropertiesChanged with the whole transcript."""
        interaction = self.state.interactions.get(interaction_id)
        if interaction is None or interaction.channel is not MediaChannel.CHAT:
            raise OperationError(6, f"Chat {interaction_id} not found")
        self._event(interaction, "MESSAGE", interaction.customer_user_id, "Client",
                    nickName=interaction.customer_nickname, text=text)  # fmt: skip
        owner = self.state.users.get(interaction.owner or "")
        if owner is not None and interaction.state in _OWNED:
            self._properties_changed(owner, interaction)
        return interaction

    # -- agent operations -------------------------------------------------------------------------

    def find(self, user: User, interaction_id: str) -> Interaction:
        interaction = user.interactions.get(interaction_id)
        if interaction is None:
            raise OperationError(6, f"Interaction {interaction_id} not found")
        return interaction

    def _drop(
        self, user: User, interaction: Interaction, state: InteractionState, *, flat: bool = False
    ) -> None:
        interaction.state = state
        user.interactions.pop(interaction.id, None)
        if flat:
            self._flat(user, interaction)
        else:
            self._nested(user, interaction)
        if state in (InteractionState.COMPLETED, InteractionState.QUEUED) and interaction.workbin is None:
            self.state.interactions.pop(interaction.id, None)

    def perform(self, user: User, interaction: Interaction, body: dict[str, Any]) -> dict[str, Any]:
        """Run an interaction operation; returns extra reply attributes (e.g. ``replyInteractionId``).

        Raises OperationError: 1 missing parameter, 2 wrong state or unknown operation, 6 unknown target.
        """
        name = str(require(body, "operationName"))
        chat = interaction.channel is MediaChannel.CHAT
        if name == "Accept":
            self._expect(interaction, (InteractionState.INVITED,))
            interaction.state = InteractionState.ACCEPTED
            interaction.start_date = int(time.time() * 1000)
            if chat:
                nickname = str(body.get("nickname") or user.user_name)
                self._event(interaction, "PARTY_JOINED", user.id, "Agent", nickName=nickname)
            self._nested(user, interaction)
        elif name == "Reject":
            self._expect(interaction, (InteractionState.INVITED,))
            self._drop(user, interaction, InteractionState.REVOKED, flat=True)
            self.state.interactions.pop(interaction.id, None)  # offered elsewhere: not ours to track
        elif name == "Cancel":
            self._expect(interaction, (InteractionState.REPLY_CREATED,))
            self._drop(user, interaction, InteractionState.REVOKED, flat=True)
            self.state.interactions.pop(interaction.id, None)
        elif name in ("Complete", "Send"):
            self._expect(interaction, _OWNED)
            self._drop(user, interaction, InteractionState.COMPLETED)
        elif name == "PlaceInQueue":
            require(body, "queueName")
            self._expect(interaction, _OWNED)
            interaction.queue = str(body["queueName"])
            self._drop(user, interaction, InteractionState.QUEUED)
        elif name in ("UpdateUserData", "AttachUserData"):
            data = require(body, "userData")
            if not isinstance(data, dict):
                raise OperationError(1, "Parameter 'userData' must be an object")
            interaction.user_data.update(data)
            self._properties_changed(user, interaction)
        elif name == "DeleteUserData":
            data = require(body, "userData")
            for key in data if isinstance(data, (dict, list)) else [data]:
                interaction.user_data.pop(str(key), None)
            self._properties_changed(user, interaction)
        elif name == "PlaceInWorkbin":
            self._expect(interaction, _OWNED)
            self.workbins.place(user, self.workbins.find(user, str(require(body, "workbin"))), interaction)
        elif name == "GetWorkbinContent":
            workbin = self.workbins.find(user, str(require(body, "workbin")))
            for parked in workbin.interactions.values():
                self._nested(user, parked)
        elif name in ("Transfer", "SingleStepTransfer"):
            target = self.state.user(str(require(body, "userId")))
            if target is None:
                raise OperationError(6, f"User {body['userId']} not found")
            self._expect(interaction, _OWNED)
            self._drop(user, interaction, InteractionState.REVOKED, flat=True)
            self.invite(target, interaction.channel, subject=interaction.subject, text=interaction.text,
                        interaction=interaction)  # fmt: skip
        elif name in ("Reply", "ReplyAll") and not chat:
            self._expect(interaction, _OWNED)
            reply = self._reply(user, interaction, str(body.get("subjectPrefix") or "Re: "))
            if name == "ReplyAll":
                return {"replyInteractionId": reply.id}
        elif chat and name in ("SendMessage", "SendStartTypingNotification", "SendStopTypingNotification"):
            self._expect(interaction, _OWNED)
            if name == "SendMessage":
                self._event(interaction, "MESSAGE", user.id, "Agent", nickName=user.user_name,
                            text=str(require(body, "text")))  # fmt: skip
            else:
                notice = "TypingStarted" if name == "SendStartTypingNotification" else "TypingStopped"
                self._event(interaction, "NOTICE", user.id, None, noticeType=notice)
            self._properties_changed(user, interaction)
        elif chat and name == "RequestChatHistory":
            self._properties_changed(user, interaction)
        elif chat and name in ("EndChatSession", "LeaveConference"):
            self._expect(interaction, _OWNED)
            if not interaction.chat_ended:
                self._event(interaction, "PARTY_LEFT", user.id, None)
                interaction.chat_ended = name == "EndChatSession"
            self._properties_changed(user, interaction)
        elif chat and name == "InviteUser":
            target = self.state.user(str(require(body, "agentId")))
            if target is None:
                raise OperationError(6, f"User {body['agentId']} not found")
            target.interactions[interaction.id] = interaction
            self._flat(target, interaction)
        else:
            kind = interaction.channel.value
            raise OperationError(2, f"Operation '{name}' is not supported on this {kind} interaction")
        return {}

    @staticmethod
    def _expect(interaction: Interaction, states: tuple[InteractionState, ...]) -> None:
        if interaction.state not in states:
            raise OperationError(2, f"Operation not valid in state {interaction.state.value}")

    def _reply(self, user: User, original: Interaction, prefix: str) -> Interaction:
        reply = Interaction(
            id=self.state.new_interaction_id(),
            channel=MediaChannel.EMAIL,
            owner=user.user_name,
            state=InteractionState.REPLY_CREATED,
            subject=f"{prefix}{original.subject}",
            text=f"> {original.text}",
            from_address=original.to_address,
            to_address=original.from_address,
            queue="EmailOutQueue",
            user_data=dict(original.user_data),
            interaction_type="Outbound",
            interaction_sub_type="OutboundReply",
            parent_id=original.id,
        )
        self.state.interactions[reply.id] = reply
        user.interactions[reply.id] = reply
        self.publish(TOPIC_INTERACTIONS, reply_created_message(reply), user.user_name)
        return reply

    def create(self, user: User, body: dict[str, Any]) -> Interaction:
        """``Create`` on ``/me/interactions``: a new outbound e-mail, announced like a reply."""
        outbound = Interaction(
            id=self.state.new_interaction_id(),
            channel=MediaChannel.EMAIL,
            owner=user.user_name,
            state=InteractionState.REPLY_CREATED,
            subject="",
            text="",
            from_address="support@example.com",
            to_address="",
            queue=str(body.get("queueName") or "EmailOutQueue"),
            interaction_type=str(body.get("interactionType") or "Outbound"),
            interaction_sub_type=str(body.get("interactionSubType") or "OutboundNew"),
        )
        self.state.interactions[outbound.id] = outbound
        user.interactions[outbound.id] = outbound
        message = reply_created_message(outbound)
        message["interactionSubType"] = outbound.interaction_sub_type
        self.publish(TOPIC_INTERACTIONS, message, user.user_name)
        return outbound
