"""Queues, Verify and voice agents end to end: the real app over HTTP, signed requests, SQLite.

Twilio's side is played by hand here, request by request, exactly as Twilio sends them: the
waitUrl requests of a queued caller, the key pressed in the wait document, the `<Enqueue>`
and `<Connect>` actions, and the `<Queue url>` request made for a caller being dequeued.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ivr_engine.messaging.settings import MessagingSettings
from ivr_engine.web import Settings, create_app
from tests.conftest import AUTH_TOKEN, ROOT, Twilio, session_data, subprocess_env, values
from tests.fake_verify import FakeVerify
from tests.web.calls import Answer, Call

QUEUE = {"QueueSid": "QU" + "5" * 32, "AvgQueueTime": "240", "CurrentQueueSize": "3"}


def waiting(call: Call, twilio: Twilio, url: str, position: int, waited: int) -> Answer:
    params = {**call.base_params, **QUEUE, "QueuePosition": str(position), "QueueTime": str(waited)}
    return call._answer(twilio.post(url, params))


@pytest.mark.backends("sqlite", "postgresql")
def test_a_queued_caller_hears_the_position_asks_for_a_call_back_and_is_listed(
    twilio: Twilio, settings: Settings
) -> None:
    call = Call(twilio, "support")
    first = call.start()
    assert first.said() == [
        "Thanks for calling Acme support. All our agents are busy, so please hold."
    ]
    enqueue = first.root.find("Enqueue")
    assert enqueue is not None and enqueue.text == "support"
    wait_url, action = enqueue.attrib["waitUrl"], enqueue.attrib["action"]
    assert (wait_url, action) == ("/voice/support/step/1/wait", "/voice/support/step/1/enqueue")
    hold = waiting(call, twilio, wait_url, 3, 0)
    assert hold.said() == ["You are number 3 in line."]
    assert hold.verbs() == ["Say", "Play"]
    assert waiting(call, twilio, wait_url, 2, 40).verbs() == ["Play"]  # not again so soon
    offer = waiting(call, twilio, wait_url, 1, 185)
    assert offer.said() == [
        "You are number 1 in line.",
        "To be called back instead of waiting, press 1.",
    ]
    leave = call.press("1")  # the wait document's <Gather>
    assert leave.verbs() == ["Leave"]
    assert session_data(settings, call.sid)["step"] == 1  # still waiting in the queue
    done = call._answer(
        twilio.post(action, {**call.base_params, "QueueResult": "leave", "QueueTime": "190"})
    )
    assert done.said() == [
        "Thanks. We will call you back at + 1 5 5 5 1 2 3 4 5 6 7 as soon as an agent is free."
    ]
    rows = values(
        settings,
        "SELECT call_sid, flow_id, node_id, queue, number, waited, status FROM callback_requests",
    )
    assert rows == [(call.sid, "support", "hold", "support", "+15551234567", 190, "pending")]
    where = (
        ["--database", settings.database_url]
        if settings.database_url
        else ["--db", settings.db_path]
    )
    listed = subprocess.run(
        [sys.executable, "-m", "ivr_engine", "callbacks", *where],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        cwd=ROOT,
        check=True,
    )
    assert "+15551234567  queue support  waited 3m10s  pending" in listed.stdout


def test_an_agent_takes_the_caller_who_hears_the_dequeue_announcement_then_both_go_on(
    twilio: Twilio,
) -> None:
    caller, agent = Call(twilio, "support"), Call(twilio, "support_agent", sid="CA" + "8" * 32)
    enqueue = caller.start().root.find("Enqueue")
    assert enqueue is not None
    queue = agent.start().root.find("Dial/Queue")
    assert queue is not None and queue.text == enqueue.text == "support"
    # Twilio runs the <Queue url> on the caller's leg, naming the agent's call
    bridge = caller._answer(
        twilio.post(
            queue.attrib["url"],
            {
                **caller.base_params,
                "QueueSid": QUEUE["QueueSid"],
                "QueueTime": "75",
                "DequeingCallSid": agent.sid,
            },
        )
    )
    assert bridge.said() == ["Thanks for waiting. You are now connected to an Acme agent."]
    # the bridge ends: each leg's action is requested
    after_caller = caller._answer(
        twilio.post(
            enqueue.attrib["action"],
            {**caller.base_params, "QueueResult": "bridged", "QueueTime": "75"},
        )
    )
    assert after_caller.said() == ["Thanks for calling Acme. Goodbye."]
    assert agent.dial_result("completed").said() == [
        "Press 1 to take the next caller, or hang up to stop."
    ]


def test_an_agent_hands_the_call_back_asking_for_a_human_and_the_caller_is_queued(
    twilio: Twilio, settings: Settings
) -> None:
    call = Call(twilio, "assistant")
    first = call.start()
    relay = first.root.find("Connect/ConversationRelay")
    assert relay is not None and relay.attrib["url"] == "wss://agent.acme.example.com/relay"
    assert [(p.get("name"), p.get("value")) for p in relay] == [("caller", "+15551234567")]
    params = {
        **call.base_params,
        "SessionId": "VX" + "4" * 32,
        "SessionStatus": "ended",
        "SessionDuration": "63",
        "HandoffData": '{"reason": "human", "summary": "billing question"}',
    }
    back = call._answer(twilio.post(call.last.url("Connect"), params))
    assert back.said() == ["One moment, I am putting you through to a person."]
    assert back.verbs() == ["Say", "Enqueue"]
    stored = session_data(settings, call.sid)["vars"]["agent"]
    assert stored["handoff"] == {"reason": "human", "summary": "billing question"}
    assert stored["status"] == "ended"


@pytest.fixture
def verify_twilio(
    tmp_path: Path, flows_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Twilio, FakeVerify]]:
    fake = FakeVerify(auth_token=AUTH_TOKEN).start()
    monkeypatch.setenv("IVR_VERIFY_SERVICE_SID", fake.service_sid)
    settings = Settings(
        flows_dir=flows_dir,
        db_path=str(tmp_path / "ivr.sqlite3"),
        auth_token=AUTH_TOKEN,
        messaging=MessagingSettings(account_sid=fake.account_sid, api_url=fake.url),
    )
    try:
        with TestClient(create_app(settings)) as client:
            yield Twilio(client), fake
    finally:
        fake.stop()


def test_a_caller_keys_in_the_texted_code_and_verify_approves_it(
    verify_twilio: tuple[Twilio, FakeVerify], caplog: pytest.LogCaptureFixture
) -> None:
    twilio, fake = verify_twilio
    call = Call(twilio, "verified")
    ask = call.start()
    assert ask.said() == [
        "Welcome to Acme accounts. To protect your account, we will send you a code.",
        "Please enter the six-digit code we just sent you.",
    ]
    code = fake.codes["+15551234567"]
    assert call.press("999999").said() == [
        "That code is not right.",
        "Please enter the six-digit code we just sent you.",
    ]
    done = call.press(code)
    assert done.said()[0].startswith("Thank you, you are verified.")
    assert [kind for kind, _ in fake.requests] == [
        "Verifications",
        "VerificationCheck",
        "VerificationCheck",
    ]
    assert code not in caplog.text and all(code not in a.xml for a in call.answers)
