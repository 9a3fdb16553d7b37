"""The outbox end to end: a real app and worker sending to a fake Twilio over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from ivr_engine.runtime import Session
from ivr_engine.runtime.effects import OutboundMessage
from ivr_engine.store import SessionStore
from ivr_engine.store.target import open_database
from ivr_engine.web import Settings, create_app
from tests.conftest import AUTH_TOKEN, Twilio
from tests.messaging.conftest import CALLER, SMS_FROM, history, rows, settled, wait_until
from tests.messaging.fake_twilio import ACCOUNT_SID, FakeTwilio, Reply
from tests.web.calls import Call

pytestmark = pytest.mark.backends("sqlite", "postgresql")

TICKET_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Say language="en-US">Thanks for calling. We are texting you your ticket number.</Say>'
    '<Say language="en-US">Goodbye.</Say><Hangup /></Response>'
)


def call_sid(n: int) -> str:
    return f"CA{n:032x}"


def test_a_call_reaching_a_message_node_gets_its_twiml_while_the_send_is_still_held(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    fake.hold()  # Twilio accepts the message but does not answer until released
    answer = Call(twilio, "ticket", sid=call_sid(1)).start()
    assert answer.xml == TICKET_TWIML
    wait_until(lambda: fake.holding == 1, "the worker's request is held at the fake")
    assert rows(settings)[0]["status"] == "sending"  # the call did not wait for the answer
    fake.release()
    [row] = wait_until(lambda: settled(settings, 1), "the message is recorded as sent")
    assert row["status"] == "sent"
    assert row["message_sid"] == fake.messages[0].sid


def test_the_message_arrives_with_the_rendered_fields_our_sender_and_a_status_callback(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    Call(twilio, "ticket", sid=call_sid(2)).start()
    [row] = wait_until(lambda: settled(settings, 1), "the message is sent")
    [message] = fake.messages
    assert message.params == {
        "To": [CALLER],
        "From": [SMS_FROM],
        "Body": [f"Your ticket number is T-1001 (call {call_sid(2)})."],
        "MediaUrl": ["https://example.com/ticket.png"],
        "StatusCallback": [f"http://testserver/status/message?outbox={row['id']}"],
    }
    assert (row["status"], row["recipient"], row["channel"], row["attempts"]) == (
        "sent",
        CALLER,
        "sms",
        1,
    )
    assert [status for status, _ in history(settings, row["id"])] == ["pending", "sending", "sent"]


def test_the_fake_only_accepts_our_account_credentials(fake: FakeTwilio) -> None:
    token = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert fake.authorized(f"Basic {token}")
    assert not fake.authorized("Basic " + base64.b64encode(b"AC:wrong").decode())


def test_a_rate_limit_answer_is_retried_with_backoff_then_sent_once(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    fake.answer_next(Reply(429, 20429, "Too Many Requests"))
    Call(twilio, "ticket", sid=call_sid(3)).start()
    [row] = wait_until(lambda: settled(settings, 1), "the message is sent")
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert len(fake.attempts) == 2 and len(fake.messages) == 1
    events = history(settings, row["id"])
    assert events[2][0] == "pending"
    assert events[2][1].startswith(
        "Twilio refused it: Too Many Requests (error 20429, HTTP 429); next attempt in "
    )


def test_server_errors_are_retried_until_the_limit_then_dead_lettered_with_the_reason(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    fake.answer_next(*[Reply(503, 0, "Service Unavailable")] * 10)
    Call(twilio, "ticket", sid=call_sid(4)).start()
    [row] = wait_until(lambda: settled(settings, 1), "the message is dead-lettered")
    assert (row["status"], row["attempts"]) == ("dead", 4)
    assert row["reason"] == (
        "gave up after 4 attempt(s): Twilio refused it: Service Unavailable (HTTP 503)"
    )
    assert len(fake.attempts) == 4 and fake.messages == []


def test_a_permanent_error_is_not_retried(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    fake.refuse[CALLER] = Reply(400, 21408, "Permission to send an SMS has not been enabled")
    Call(twilio, "ticket", sid=call_sid(5)).start()
    [row] = wait_until(lambda: settled(settings, 1), "the message fails")
    assert (row["status"], row["attempts"], row["error_code"]) == ("failed", 1, "21408")
    assert len(fake.attempts) == 1


def test_opted_out_21610_is_not_retried_and_suppresses_the_number_for_the_next_call(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    fake.refuse[CALLER] = Reply(400, 21610, "Attempt to send to unsubscribed recipient")
    Call(twilio, "ticket", sid=call_sid(6)).start()
    [row] = wait_until(lambda: settled(settings, 1), "the message fails")
    assert (row["status"], row["attempts"], row["error_code"]) == ("failed", 1, "21610")
    Call(twilio, "ticket", sid=call_sid(7)).start()
    _, second = wait_until(lambda: settled(settings, 2), "the second message is decided")
    assert second["status"] == "not_sent"
    assert second["reason"].startswith(
        f"{CALLER} opted out of sms messages (Twilio error 21610 when sending message #{row['id']}, "
    )
    assert len(fake.attempts) == 1  # the second message never reached Twilio


def test_a_twilio_that_is_down_for_a_while_loses_nothing_and_sends_each_message_once(
    settings: Settings, fake: FakeTwilio
) -> None:
    patient = replace(settings, messaging=replace(settings.messaging, max_attempts=1000))
    with TestClient(create_app(patient)) as client:
        fake.stop()
        for n in range(3):
            Call(Twilio(client), "ticket", sid=call_sid(10 + n)).start()
        wait_until(
            lambda: len(rows(patient)) == 3 and all(r["attempts"] >= 2 for r in rows(patient)),
            "every message has failed to connect twice",
        )
        assert all(r["status"] in ("pending", "sending") for r in rows(patient))
        assert any(
            detail.startswith("cannot connect to Twilio")
            for row in rows(patient)
            for _, detail in history(patient, row["id"])
        )
        fake.start()
        found = wait_until(lambda: settled(patient, 3), "every message is sent")
    assert [r["status"] for r in found] == ["sent"] * 3
    assert sorted(fake.bodies()) == sorted(
        f"Your ticket number is T-1001 (call {call_sid(10 + n)})." for n in range(3)
    )


def test_an_answer_lost_after_twilio_accepted_the_message_does_not_send_it_twice(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    fake.answer_next(Reply(drop=True))  # accepted, then the connection drops: no answer
    Call(twilio, "ticket", sid=call_sid(20)).start()
    [row] = wait_until(lambda: settled(settings, 1), "the message is settled")
    assert len(fake.messages) == 1 and len(fake.attempts) == 1
    assert fake.lookups == 1
    assert (row["status"], row["message_sid"]) == ("sent", fake.messages[0].sid)
    assert history(settings, row["id"])[-1] == (
        "sent",
        f"Twilio already has it as {fake.messages[0].sid} (found after an attempt whose answer "
        "was lost): not sent again",
    )


def test_a_rendered_recipient_that_is_no_phone_number_is_recorded_as_not_sent(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    answer = Call(twilio, "bad_number", sid=call_sid(30)).start()
    assert answer.said() == ["Goodbye."]
    [row] = rows(settings)  # decided when queued, inside the call's own transaction
    assert row["status"] == "not_sent"
    assert row["reason"] == (
        'the recipient "555-0100" is not a phone number in E.164 form (+ then country code and '
        "number): check the node's `to`"
    )
    assert history(settings, row["id"]) == [("not_sent", row["reason"])]
    assert fake.attempts == []


def test_each_sender_is_paced_to_its_configured_rate(settings: Settings, fake: FakeTwilio) -> None:
    paced = replace(settings, messaging=replace(settings.messaging, per_sender_rate=20.0))
    with TestClient(create_app(paced)) as client:
        for n in range(4):
            Call(Twilio(client), "ticket", sid=call_sid(40 + n)).start()
        found = wait_until(lambda: settled(paced, 4), "all four are sent")
    assert {json.loads(r["payload"])["route"]["from"] for r in found} == {SMS_FROM}
    starts = sorted(r["last_attempt_at"] for r in found)  # when each request was let go
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert min(gaps) >= 0.045  # 20 per second: 50 ms apart, less clock rounding


def test_a_message_queued_unchecked_by_an_older_server_is_checked_and_sent(
    settings: Settings, fake: FakeTwilio
) -> None:
    async def queue_the_old_way() -> None:
        database = await open_database(settings.database())
        try:
            session = Session(call_sid(50), "ticket", "v0", {}, {}, "en-US", None, step=1)
            message = OutboundMessage(
                "ticket", "text_ticket", call_sid(50), "sms", CALLER, None, "Hi"
            )
            await SessionStore(database).save(session, [message])  # no outbox: stored as given
        finally:
            await database.close()

    asyncio.run(queue_the_old_way())
    with TestClient(create_app(settings)):
        [row] = wait_until(lambda: settled(settings, 1), "the old row is sent")
    assert (row["status"], fake.messages[0].params["From"]) == ("sent", [SMS_FROM])
