"""`dequeue` node: an agent's call takes the next caller from a queue (`<Dial><Queue>`)."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET

import pytest

from ivr_engine.nodes import DequeueNode
from ivr_engine.runtime import EventKind, aside
from ivr_engine.runtime.events import Event
from tests.support import NOW, PREFIX, Call, action, load_valid, twiml


def test_a_minimal_dequeue_dials_the_queue_without_an_announcement() -> None:
    flow = load_valid("dequeue_minimal")
    assert isinstance(flow.nodes["take"], DequeueNode)
    assert Call(flow).start().twiml == twiml(
        f'<Dial action="{action(flow, 1, "dial")}" method="POST" timeout="30">'
        "<Queue>support</Queue></Dial>"
    )


def test_a_full_dequeue_announces_to_the_caller_through_the_queue_url() -> None:
    flow = load_valid("dequeue_full")
    call = Call(flow)
    dial = ET.fromstring(call.start().twiml).find("Dial")
    assert dial is not None and dial.attrib["timeout"] == "60"
    queue = dial.find("Queue")
    assert queue is not None and queue.text == "support"
    assert queue.attrib == {"url": action(flow, 1, "bridge"), "method": "POST"}
    assert call.session is not None
    # Twilio asks the url for the caller's leg; the agent's session answers it, and stays put
    event = Event(EventKind.BRIDGE, {"CallSid": "CA" + "7" * 32, "DequeingCallSid": "x"})
    result = asyncio.run(aside(flow, call.session, event, now=NOW, url_prefix=PREFIX))
    assert result.twiml == twiml(
        '<Say language="en-US">Thanks for waiting. You are now connected to an agent.</Say>'
    )
    assert result.session.step == 1


@pytest.mark.parametrize(
    ("status", "path"),
    [
        ("completed", ["take", "again"]),
        ("answered", ["take", "again"]),
        ("no-answer", ["take", "no_callers"]),
        ("failed", ["take", "sorry"]),
        ("busy", ["take", "sorry"]),
    ],
)
def test_the_dial_result_becomes_bridged_empty_or_failed(status: str, path: list[str]) -> None:
    call = Call(load_valid("dequeue_full"))
    call.start()
    assert call.send(EventKind.DIAL, DialCallStatus=status).session.path == path
