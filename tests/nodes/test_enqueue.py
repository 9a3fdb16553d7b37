"""`enqueue` node: hold the caller in a queue with the engine's own hold treatment, then branch."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET

import pytest

from ivr_engine.callbacks import MemoryCallbacks
from ivr_engine.nodes import EnqueueNode
from ivr_engine.nodes.enqueue import DEFAULT_MUSIC
from ivr_engine.runtime import EventKind, Services, StepResult, aside
from ivr_engine.runtime.events import Event
from tests.support import NOW, PREFIX, Call, action, load_text, load_valid, twiml


def hold(call: Call, kind: EventKind = EventKind.WAIT, **params: str) -> StepResult:
    """One waitUrl (or hold-key) request while the caller waits, as Twilio sends it."""
    assert call.session is not None
    event = Event(kind, {**call.params, **params})
    result = asyncio.run(
        aside(call.flow, call.session, event, now=NOW, url_prefix=PREFIX, services=call.services)
    )
    call.session = result.session
    return result


def waiting(position: int, waited: int, average: int = 120) -> dict[str, str]:
    return {
        "QueueSid": "QU" + "5" * 32,
        "QueuePosition": str(position),
        "QueueTime": str(waited),
        "AvgQueueTime": str(average),
        "CurrentQueueSize": str(position + 2),
        "MaxQueueSize": "1000",
    }


def test_a_minimal_enqueue_puts_the_caller_in_the_queue_with_the_engine_as_wait_url() -> None:
    flow = load_valid("enqueue_minimal")
    assert isinstance(flow.nodes["hold"], EnqueueNode)
    call = Call(flow)
    root = ET.fromstring(call.start().twiml)
    [enqueue] = list(root)
    assert enqueue.tag == "Enqueue"
    assert enqueue.text == "support"
    assert enqueue.attrib == {
        "action": action(flow, 1, "enqueue"),
        "method": "POST",
        "waitUrl": action(flow, 1, "wait"),
        "waitUrlMethod": "POST",
    }


def test_the_wait_url_plays_twilios_hold_music_and_keeps_the_call_at_its_step() -> None:
    call = Call(load_valid("enqueue_minimal"))
    call.start()
    result = hold(call, **waiting(3, 0))
    assert result.twiml == twiml(f"<Play>{DEFAULT_MUSIC}</Play>")
    assert result.session.step == 1 and result.session.node == "hold"
    assert result.session.vars["queue"]["position"] == 3


def test_the_position_is_announced_at_most_every_announce_every_seconds() -> None:
    call = Call(load_valid("enqueue_full"))
    call.start()
    first = hold(call, **waiting(4, 0, average=300))
    assert first.twiml == twiml(
        '<Say language="en-US">You are number 4 in line. The average wait is 5 minutes.</Say>'
        "<Play>https://example.com/audio/hold.mp3</Play>"
    )
    soon = hold(call, **waiting(3, 30, average=300))
    assert soon.twiml == twiml("<Play>https://example.com/audio/hold.mp3</Play>")
    later = hold(call, **waiting(2, 50, average=240))
    assert "You are number 2 in line. The average wait is 4 minutes." in later.twiml


def test_after_max_wait_the_caller_is_offered_a_call_back_and_key_1_records_it() -> None:
    callbacks = MemoryCallbacks()
    flow = load_valid("enqueue_full")
    call = Call(flow, services=Services(callbacks=callbacks))
    call.start()
    offer = ET.fromstring(hold(call, **waiting(2, 300)).twiml)
    gather = offer.find("Gather")
    assert gather is not None
    assert gather.attrib == {
        "action": action(flow, 1, "hold"),
        "input": "dtmf",
        "method": "POST",
        "numDigits": "1",
        "timeout": "5",
    }
    assert [s.text for s in gather] == [
        "Press 1 and we will call you back as soon as an agent is free."
    ]
    other_key = hold(call, EventKind.HOLD, Digits="2")  # an empty answer: back to the music
    assert other_key.twiml == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert hold(call, EventKind.HOLD, Digits="1").twiml == twiml("<Leave />")
    after = call.send(EventKind.ENQUEUE, QueueResult="leave", QueueTime="312")
    assert after.session.path == ["hold", "callback_thanks"]
    assert "We will call you back" in after.twiml
    [request] = callbacks.requests
    assert (request.queue, request.number, request.waited) == ("support", "+15551230000", 312)
    assert (request.flow_id, request.node_id, request.call_sid) == (
        "enqueue_full",
        "hold",
        call.params["CallSid"],
    )


def test_without_call_backs_max_wait_takes_the_caller_out_of_the_queue_as_a_timeout() -> None:
    call = Call(
        load_text(
            "start: hold\nnodes:\n  hold:\n    type: enqueue\n    queue: sales\n"
            "    max_wait: 60\n    on: {timeout: vm}\n  vm:\n    type: record\n    next: bye\n"
            "  bye:\n    type: hangup\n",
            "sales_line",
        )
    )
    call.start()
    assert hold(call, **waiting(1, 30)).twiml.endswith("</Play></Response>")
    assert hold(call, **waiting(1, 61)).twiml == twiml("<Leave />")
    after = call.send(EventKind.ENQUEUE, QueueResult="leave", QueueTime="61")
    assert after.session.path == ["hold", "vm"]
    assert after.session.vars["queue"]["result"] == "leave"


@pytest.mark.parametrize(
    ("result", "path", "ended"),
    [
        ("bridged", ["hold", "goodbye"], True),
        ("redirected-from-bridged", ["hold", "goodbye"], True),
        ("queue-full", ["hold", "voicemail"], False),
        ("error", ["hold", "voicemail"], False),
        ("system-error", ["hold", "voicemail"], False),
        ("leave", ["hold", "voicemail"], False),
        ("hangup", ["hold"], True),
    ],
)
def test_each_queue_result_goes_where_the_flow_says(
    result: str, path: list[str], ended: bool
) -> None:
    call = Call(load_valid("enqueue_full"))
    call.start()
    after = call.send(EventKind.ENQUEUE, QueueResult=result, QueueTime="42")
    assert after.session.path == path
    assert after.session.ended is ended
    assert after.session.vars["queue"]["waited"] == 42


def test_a_call_back_without_a_store_fails_the_step_with_an_apology() -> None:
    call = Call(load_valid("enqueue_full"))
    call.start()
    hold(call, **waiting(2, 300))
    hold(call, EventKind.HOLD, Digits="1")
    after = call.send(EventKind.ENQUEUE, QueueResult="leave")
    assert "Services.callbacks" in (after.error or "")


def test_a_wait_request_at_a_node_that_serves_none_leaves_the_queue_and_says_why() -> None:
    call = Call(load_valid("enqueue_full"))
    call.start()
    call.send(EventKind.ENQUEUE, QueueResult="leave")  # the call moved on to voicemail
    late = hold(call, **waiting(1, 10))
    assert late.twiml == twiml("<Leave />")
    assert "serves no requests while waiting" in (late.error or "")
    assert late.session.node == "voicemail"
