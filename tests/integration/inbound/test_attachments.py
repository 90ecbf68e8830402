"""E-mail attachments through the receiver against the simulator (003:2648-2673)."""

from __future__ import annotations

import base64

from tests.integration.inbound.conftest import ReceiverHandle
from tests.plugins.simulator import SimulatorHandle

AGENT = "agent0001"
PDF = b"%PDF-1.4\n% a tiny document\n" + bytes(range(256))  # binary-safe, every byte value


async def _settled(receiver: ReceiverHandle, action: str, **params: object) -> dict[str, object]:
    status, body, _ = await receiver.command(action, agent=AGENT, **params)
    assert status in (200, 202), (action, status, body)
    return await receiver.status_of(body["id"], until="settled")


async def test_a_file_is_attached_to_a_reply_as_multipart_and_removed_by_its_document_id(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    email = await simulator.send_interaction(AGENT, "email")
    await _settled(receiver, "interaction.accept", interaction_id=email)
    await simulator.log(clear=True)
    record = await _settled(
        receiver, "email.attach_file", interaction_id=email, file_name="invoice 7.pdf",
        content=base64.b64encode(PDF).decode(), mime_type="application/pdf",
    )  # fmt: skip
    assert record["status"] == "succeeded", record
    document_id = record["gws_reply"]["documentId"]  # type: ignore[index]
    [sent] = [e for e in await simulator.log(clear=True) if e["method"] == "POST"]
    assert sent["path"] == f"/api/v2/me/interactions/{email}/attachments"
    kept = simulator.sim.state.users[AGENT].interactions[email].attachments[document_id]
    assert (kept.file_name, kept.mime_type, kept.content) == ("invoice 7.pdf", "application/pdf", PDF)

    async with simulator.agent_client(AGENT) as gws:  # GWS hands the bytes back as they were
        await gws.login()
        assert gws.session is not None
        url = f"{simulator.base_url}/api/v2/me/interactions/{email}/attachments/{document_id}"
        async with gws.session.get(url, headers={"Authorization": gws.basic_header()}) as reply:
            assert reply.status == 200 and reply.content_type == "application/pdf"
            assert await reply.read() == PDF

    record = await _settled(
        receiver, "email.delete_attachment", interaction_id=email, attachment_id=document_id
    )
    assert record["status"] == "succeeded", record
    assert simulator.sim.state.users[AGENT].interactions[email].attachments == {}
    status, body, _ = await receiver.command(
        "email.delete_attachment", agent=AGENT, interaction_id=email, attachment_id=document_id
    )
    assert status >= 400 and body["status"] == status  # GWS: not found, as a problem


async def test_bad_attachment_parameters_are_refused_before_gws(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    email = await simulator.send_interaction(AGENT, "email")
    await simulator.log(clear=True)
    for params, field in (
        ({"file_name": "a.txt", "content": "not base64!"}, "content"),
        ({"file_name": 'a".txt', "content": "YQ=="}, "file_name"),
        ({"file_name": "../a.txt", "content": "YQ=="}, "file_name"),
        ({"file_name": "a.txt", "content": "YQ==", "mime_type": "text/plain\r\nX: y"}, "mime_type"),
    ):
        status, body, _ = await receiver.command(
            "email.attach_file", agent=AGENT, interaction_id=email, **params
        )
        assert status == 422, (params, body)
        assert body["errors"][0]["loc"][-1] == field, body
    assert await simulator.log() == []  # nothing reached GWS
