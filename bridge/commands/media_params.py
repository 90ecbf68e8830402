"""Parameter schemas of the interaction actions: e-mail, chat and workbins.

Built like every params model (:class:`~bridge.commands.params.ParamsModel`: strict, frozen,
unknown fields forbidden) with examples from the seed samples (003).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from bridge.commands.params import Ident, ParamsModel, Text, UserData, with_examples

_INTERACTION = "0000Ka8WP8G94H9A"


# -- interactions ----------------------------------------------------------------------------------


class InteractionParams(ParamsModel):
    model_config = with_examples({"interaction_id": _INTERACTION})

    interaction_id: Ident


class InteractionAcceptParams(InteractionParams):
    model_config = with_examples({"interaction_id": _INTERACTION, "nickname": "Ann"})

    nickname: Text | None = None


class PlaceInQueueParams(InteractionParams):
    model_config = with_examples({"interaction_id": _INTERACTION, "queue": "Email-Inbound"})

    queue: Text


class PlaceInWorkbinParams(InteractionParams):
    model_config = with_examples({"interaction_id": _INTERACTION, "workbin": "TestWorkbin"})

    workbin: Text


class InteractionTransferParams(InteractionParams):
    model_config = with_examples({"interaction_id": _INTERACTION, "user_id": "agent0002"})

    user_id: Ident


class InteractionDataParams(InteractionParams):
    model_config = with_examples({"interaction_id": _INTERACTION, "user_data": {"CaseId": "CS-1"}})

    user_data: UserData


class WorkbinPullParams(ParamsModel):
    model_config = with_examples({"workbin_id": "TestWorkbin", "interaction_id": _INTERACTION})

    workbin_id: Ident
    interaction_id: Ident


# -- chat and e-mail ---------------------------------------------------------------------------------

MessageText = Annotated[str, Field(min_length=1, max_length=4096)]
EmailAddress = Annotated[str, Field(pattern=r"^[^\s@]{1,128}@[^\s@]{1,128}$")]
EmailAddresses = Annotated[str, Field(min_length=3, max_length=1024)]  # GWS's own comma-separated list


class ChatMessageParams(InteractionParams):
    model_config = with_examples({"interaction_id": _INTERACTION, "text": "How can I help?"})

    text: MessageText


class ChatAgentParams(InteractionParams):
    model_config = with_examples({"interaction_id": _INTERACTION, "agent_id": "agent0002"})

    agent_id: Ident


class ChatHistoryParams(InteractionParams):
    model_config = with_examples({"interaction_id": _INTERACTION})

    event_id: Ident | None = None


class InteractionDeleteDataParams(InteractionParams):
    model_config = with_examples({"interaction_id": _INTERACTION, "keys": ["CaseId"]})

    keys: Annotated[list[Text], Field(min_length=1, max_length=200)]


class EmailReplyParams(InteractionParams):
    model_config = with_examples(
        {"interaction_id": _INTERACTION, "queue": "Email-Outbound", "quote_original": True}
    )

    queue: Text | None = None  # where the reply waits while the agent composes it
    subject_prefix: Text | None = None
    reply_to_start_line: Text | None = None
    indent_character: Annotated[str, Field(min_length=1, max_length=8)] | None = None
    quote_original: bool | None = None


class EmailSendParams(InteractionParams):
    model_config = with_examples(
        {"interaction_id": _INTERACTION, "to": "ann@example.com", "subject": "Your case", "text": "Solved."}
    )

    to: EmailAddresses
    subject: Annotated[str, Field(max_length=998)]
    text: Annotated[str, Field(max_length=4096)]
    from_address: EmailAddress | None = None
    cc: EmailAddresses | None = None
    bcc: EmailAddresses | None = None
    queue: Text | None = None


class EmailCreateParams(ParamsModel):
    model_config = with_examples({"queue": "Email-Outbound"})

    queue: Text
    interaction_type: Text = "Outbound"
    interaction_sub_type: Text = "OutboundNew"


def _base64(value: str) -> str:
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise PydanticCustomError("base64", "content must be base64 (RFC 4648, no line breaks)") from None
    if not decoded:
        raise PydanticCustomError("base64", "content must not be empty")
    return value


class EmailAttachParams(InteractionParams):
    """A file for an e-mail (003:2648-2673): its bytes in base64, its name and MIME type."""

    model_config = with_examples(
        {"interaction_id": _INTERACTION, "file_name": "invoice.pdf", "content": "JVBERi0xLjQK",
         "mime_type": "application/pdf"}
    )  # fmt: skip

    file_name: Annotated[str, Field(pattern=r'^[^"\\/\x00-\x1f\x7f]{1,255}$')]
    content: Annotated[str, Field(min_length=4, max_length=8 * 1024 * 1024), AfterValidator(_base64)]
    mime_type: Annotated[str, Field(pattern=r"^[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}$")] = (
        "application/octet-stream"
    )

    @property
    def data(self) -> bytes:
        return base64.b64decode(self.content, validate=True)


class EmailAttachmentParams(InteractionParams):
    model_config = with_examples({"interaction_id": _INTERACTION, "attachment_id": "00009a8T8Y13002S"})

    attachment_id: Ident  # the documentId GWS gave when it was attached


# -- workbins -------------------------------------------------------------------------------------------


class WorkbinParams(ParamsModel):
    model_config = with_examples({"workbin_id": "RW1haWxXb3JrYmluRHJhZnQvUHJpdmF0ZVZpZXc"})

    workbin_id: Ident


class WorkbinAddParams(WorkbinParams):
    model_config = with_examples(
        {"workbin_id": "RW1haWxXb3JrYmluRHJhZnQvUHJpdmF0ZVZpZXc", "interaction_id": _INTERACTION}
    )

    interaction_id: Ident
