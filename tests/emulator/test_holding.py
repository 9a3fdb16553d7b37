"""Queues, voice agents and Verify codes in whole emulated calls: `ivr serve` in a subprocess,
the emulator playing Twilio (waitUrl loop, `<Leave>`, `<Connect>` actions), real SQLite."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ivr_engine.emulator import (
    CallResult,
    EmulatedCall,
    Keys,
    ScriptedCaller,
    SignedHttp,
    new_session,
)
from ivr_engine.emulator.holding import AgentOutcome
from tests.conftest import AUTH_TOKEN, Served, free_port, ivr_serve
from tests.fake_verify import FakeVerify


def call(url: str, caller: ScriptedCaller, **options: Any) -> CallResult:
    async def run() -> CallResult:
        async with new_session() as session:
            return await EmulatedCall(SignedHttp(session, AUTH_TOKEN), url, caller, **options).run()

    return asyncio.run(run())


def purposes(result: CallResult) -> list[str]:
    return [e.request.purpose for e in result.exchanges]


def test_a_caller_holds_hears_the_position_and_an_agent_takes_the_call(served: Served) -> None:
    result = call(served.url("/voice/support"), ScriptedCaller(queue_events=[("bridged", 60)]))
    assert result.heard[:4] == [
        "Thanks for calling Acme support. All our agents are busy, so please hold.",
        "[waiting in queue support]",
        "You are number 1 in line.",
        "[hold music http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3]",
    ]
    assert result.heard[-3:] == [
        "[an agent takes the call from queue support]",
        "Thanks for calling Acme. Goodbye.",
        "[hang up]",
    ]
    assert purposes(result) == [
        "incoming call", "queue wait", "queue wait", "enqueue", "call status callback"
    ]  # fmt: skip


def test_after_max_wait_the_caller_presses_1_and_the_call_back_is_stored(served: Served) -> None:
    caller = ScriptedCaller([Keys("1")], queue_events=[("bridged", 10_000)])
    result = call(served.url("/voice/support"), caller, call_sid="CA" + "c" * 32)
    assert "To be called back instead of waiting, press 1." in result.heard
    assert "[leaves the queue]" in result.heard
    assert result.heard[-2].startswith("Thanks. We will call you back at")
    with sqlite3.connect(served.db_path) as db:
        row = db.execute(
            "SELECT queue, number, waited FROM callback_requests WHERE call_sid = ?",
            ("CA" + "c" * 32,),
        ).fetchone()
    assert row is not None and row[:2] == ("support", "+15551234567") and row[2] >= 180


def test_a_caller_who_hangs_up_in_the_queue_ends_the_call_and_twilio_reports_it(
    served: Served,
) -> None:
    result = call(served.url("/voice/support"), ScriptedCaller(queue_events=[("hangup", 30)]))
    assert result.ended == "caller hung up in the queue"
    hangup = [e for e in result.exchanges if e.request.purpose == "enqueue"]
    assert [e.request.params["QueueResult"] for e in hangup] == ["hangup"]
    assert [e.reply.status for e in hangup] == [200]  # valid TwiML, though nobody listens


def test_the_agent_hands_back_asking_for_a_human_and_the_caller_is_queued(served: Served) -> None:
    caller = ScriptedCaller(
        agent_outcomes=[AgentOutcome("ended", '{"reason": "human"}', 40)],
        queue_events=[("bridged", 0)],
    )
    result = call(served.url("/voice/assistant"), caller)
    assert result.heard[:4] == [
        "[voice agent at wss://agent.acme.example.com/relay]",
        "Hi, this is the Acme assistant. How can I help you today?",
        '[agent session ended {"reason": "human"}]',
        "One moment, I am putting you through to a person.",
    ]
    assert "[waiting in queue support]" in result.heard
    connect = next(e for e in result.exchanges if e.request.purpose == "connect")
    assert connect.request.params["SessionStatus"] == "ended"


def test_a_caller_who_hangs_up_on_the_agent_ends_the_call(served: Served) -> None:
    result = call(
        served.url("/voice/assistant"), ScriptedCaller(agent_outcomes=[AgentOutcome("completed")])
    )
    assert result.ended == "caller hung up on the agent"
    assert purposes(result) == ["incoming call", "connect", "call status callback"]


@pytest.fixture
def verify_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Served, FakeVerify]]:
    fake = FakeVerify(auth_token=AUTH_TOKEN).start()
    monkeypatch.setenv("IVR_VERIFY_SERVICE_SID", fake.service_sid)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", fake.account_sid)
    monkeypatch.setenv("IVR_TWILIO_API_URL", fake.url)
    try:
        with ivr_serve(tmp_path, free_port()) as server:
            yield server, fake
    finally:
        fake.stop()


def test_a_caller_keys_in_the_code_verify_sent_and_hears_the_balance(
    verify_served: tuple[Served, FakeVerify],
) -> None:
    served, fake = verify_served
    result = call(served.url("/voice/verified"), ScriptedCaller([Keys("000000"), Keys(fake.code)]))
    assert result.heard[1:3] == [
        "Please enter the six-digit code we just sent you.",
        "[waiting for keys] pressed 000000",
    ]
    assert "That code is not right." in result.heard
    assert result.heard[-2].startswith("Thank you, you are verified.")
    assert [kind for kind, _ in fake.requests] == [
        "Verifications",
        "VerificationCheck",
        "VerificationCheck",
    ]
    assert fake.code not in served.log.read_text()
