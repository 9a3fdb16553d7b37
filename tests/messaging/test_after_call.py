"""After-call follow-ups: the flow's on_hangup chain runs once when the call has completed."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from ivr_engine.loader import FlowLoader
from ivr_engine.project import project_registry
from ivr_engine.runtime import run_after_call
from ivr_engine.runtime.step import new_session
from ivr_engine.web import Settings
from tests.conftest import ROOT, Twilio
from tests.messaging.conftest import CALLER, rows, settled, wait_until
from tests.messaging.fake_twilio import FakeTwilio
from tests.web.calls import Call

pytestmark = pytest.mark.backends("sqlite", "postgresql")


def hang_up(twilio: Twilio, call: Call, duration: str) -> int:
    params = {**call.base_params, "CallStatus": "completed", "CallDuration": duration}
    return twilio.post("/status/call", params).status_code  # type: ignore[no-any-return]


def test_on_hangup_runs_once_even_when_the_completed_callback_repeats(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    call = Call(twilio, "ticket", sid="CA" + "1" * 32)
    call.start()
    assert [hang_up(twilio, call, "42") for _ in range(3)] == [204, 204, 204]
    found = wait_until(lambda: settled(settings, 2), "the ticket and the thank-you are sent")
    assert [row["node_id"] for row in found] == ["text_ticket", "thanks_text"]
    assert sorted(fake.bodies()) == [
        "Thanks for your call (completed, 42 s).",
        f"Your ticket number is T-1001 (call {call.sid}).",
    ]


def test_on_hangup_sees_the_call_outcome_and_branches_on_it(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    call = Call(twilio, "ticket", sid="CA" + "2" * 32)
    call.start()
    hang_up(twilio, call, "3")
    found = wait_until(lambda: settled(settings, 2), "both messages are sent")
    after_call = next(row for row in found if row["node_id"] != "text_ticket")
    assert json.loads(after_call["payload"])["body"] == (
        "Sorry we missed you (completed). Reply to book a callback."
    )
    assert "Sorry we missed you (completed). Reply to book a callback." in fake.bodies()


def test_a_flow_without_on_hangup_queues_nothing_after_the_call(
    twilio: Twilio, settings: Settings
) -> None:
    call = Call(twilio, "acme", sid="CA" + "3" * 32)
    call.start()
    hang_up(twilio, call, "30")
    assert rows(settings) == []


def test_run_after_call_is_pure_and_returns_the_chains_messages_without_twiml() -> None:
    flow = FlowLoader(project_registry()).load_file(ROOT / "tests/flows/valid/ticket.yaml").flow
    session = new_session(flow, {"CallSid": "CA" + "4" * 32, "From": CALLER})
    ended = session.evolve(
        ended=True, step=2, call={**session.call, "status": "no-answer", "duration": 0}
    )
    result = asyncio.run(run_after_call(flow, ended, now=datetime(2026, 1, 5, tzinfo=UTC)))
    assert result.twiml == "" and result.error is None
    [message] = result.messages
    assert (message.node_id, message.to, message.body, message.step) == (
        "missed_text",
        CALLER,
        "Sorry we missed you (no-answer). Reply to book a callback.",
        3,
    )
    assert result.session.path[-2:] == ["after_call", "missed_text"]
    assert session.path == []  # the input session is untouched
