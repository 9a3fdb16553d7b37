"""The message node: what it hands the outbox, with the flow's own senders as defaults."""

from __future__ import annotations

import asyncio

import pytest

from ivr_engine.loader import FlowLoader
from ivr_engine.project import project_registry
from ivr_engine.runtime import start_call

pytestmark = pytest.mark.backends("sqlite", "postgresql")

FLOW = """
start: confirm
sms_from: "+15550009999"
whatsapp_from: "whatsapp:+15550008888"
nodes:
  confirm:
    type: message
    channel: whatsapp
    body: See you tomorrow.
    fallback: sms
    next: receipt
  receipt:
    type: message
    from: "+15550007777"
    to: "+15557654321"
    body: Receipt for {{ call.from }}.
"""


def test_senders_default_to_the_flows_and_the_last_message_may_end_the_call() -> None:
    flow = FlowLoader(project_registry()).load_text(FLOW, "senders.yaml", "senders").flow
    result = asyncio.run(start_call(flow, {"CallSid": "CA" + "1" * 32, "From": "+15551234567"}))
    whatsapp, sms = result.messages
    assert (whatsapp.to, whatsapp.sender, whatsapp.fallback_sender) == (
        "+15551234567",
        "whatsapp:+15550008888",
        "+15550009999",
    )
    assert (sms.to, sms.sender, sms.body, sms.fallback_sender) == (
        "+15557654321",
        "+15550007777",
        "Receipt for +15551234567.",
        None,
    )
    assert result.twiml.endswith("<Hangup /></Response>")
    assert result.session.ended
