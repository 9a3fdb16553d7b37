"""Message status callbacks: every event kept once, the current status never moving backwards."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from ivr_engine.messaging.status import current
from ivr_engine.web import Settings, create_app
from tests.conftest import Twilio, values
from tests.messaging.conftest import CALLER, history, rows, settled, wait_until
from tests.messaging.fake_twilio import ACCOUNT_SID, FakeTwilio, Reply
from tests.web.calls import Call

pytestmark = pytest.mark.backends("sqlite", "postgresql")


def sent_message(twilio: Twilio, settings: Settings, fake: FakeTwilio) -> tuple[str, str]:
    """Send one follow-up; return its SID and the status callback URL Twilio was given."""
    Call(twilio, "ticket", sid="CA" + "e" * 32).start()
    wait_until(lambda: settled(settings, 1), "the message is sent")
    [message] = fake.messages
    return message.sid, message.first("StatusCallback") or ""


def report(twilio: Twilio, url: str, sid: str, status: str, **extra: str) -> int:
    params = {
        "MessageSid": sid,
        "MessageStatus": status,
        "AccountSid": ACCOUNT_SID,
        "To": CALLER,
        "From": "+15550001111",
        **extra,
    }
    return twilio.post(url, params).status_code  # type: ignore[no-any-return]


def events(settings: Settings, sid: str) -> list[str]:
    found = values(
        settings, "SELECT status FROM message_events WHERE message_sid = ? ORDER BY id", (sid,)
    )
    return [status for (status,) in found]


@pytest.mark.parametrize(
    ("arrivals", "final"),
    [
        (["sent", "delivered", "read"], "read"),
        (["read", "delivered"], "read"),
        (["failed", "sent"], "failed"),
        (["undelivered", "queued", "sent"], "undelivered"),
        (["delivered", "sent", "queued", "accepted"], "delivered"),
    ],
)
def test_the_current_status_follows_precedence_whatever_the_arrival_order(
    twilio: Twilio, settings: Settings, fake: FakeTwilio, arrivals: list[str], final: str
) -> None:
    sid, url = sent_message(twilio, settings, fake)
    for status in arrivals:
        assert report(twilio, url, sid, status) == 204
    assert rows(settings)[0]["delivery"] == final


def test_a_repeated_callback_is_stored_once(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    sid, url = sent_message(twilio, settings, fake)
    for status in ["sent", "sent", "delivered", "sent", "delivered"]:
        report(twilio, url, sid, status)
    assert events(settings, sid) == ["sent", "delivered"]
    assert rows(settings)[0]["delivery"] == "delivered"


def test_a_failed_callback_with_21610_suppresses_the_number(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    sid, url = sent_message(twilio, settings, fake)
    report(twilio, url, sid, "failed", ErrorCode="21610")
    assert values(settings, "SELECT number, channel, active, source FROM suppressions") == [
        (CALLER, "sms", 1, f"Twilio error 21610 on message {sid}")
    ]


def test_a_callback_for_a_message_whose_answer_was_lost_settles_it_without_a_lookup(
    settings: Settings, fake: FakeTwilio
) -> None:
    # The retry settles the row: from the callback when it came first, else by a lookup. It
    # waits 0.5-1 s here, far longer than the callback takes (the fixture's retry_max of 0.1 s
    # used to cap it, and the lookup then sometimes came first).
    slow = replace(settings, messaging=replace(settings.messaging, retry_base=1.0, retry_max=1.0))
    with TestClient(create_app(slow)) as client:
        twilio = Twilio(client)
        fake.answer_next(Reply(drop=True))  # Twilio has the message; we never hear its SID
        Call(twilio, "ticket", sid="CA" + "f" * 32).start()
        wait_until(lambda: rows(slow) and rows(slow)[0]["uncertain"] == 1, "the answer is lost")
        [message] = fake.messages
        report(twilio, message.first("StatusCallback") or "", message.sid, "sent")
        [row] = wait_until(lambda: settled(slow, 1), "the row is settled")
    assert (row["status"], row["message_sid"], row["delivery"]) == ("sent", message.sid, "sent")
    assert fake.lookups == 0 and len(fake.attempts) == 1
    assert history(slow, row["id"])[-1] == (
        "sent",
        f"Twilio already has it as {message.sid} (learnt from its status callback): not sent again",
    )


def test_a_status_callback_without_sid_or_status_is_malformed(twilio: Twilio) -> None:
    response = twilio.post("/status/message", {"MessageSid": "SM" + "1" * 32})
    assert response.status_code == 400
    assert response.text == "missing MessageSid or MessageStatus"


def test_precedence_never_depends_on_order() -> None:
    statuses = ["queued", "sent", "delivered", "read", "failed"]
    assert {current(list(order)) for order in itertools.permutations(statuses)} == {"read"}
    assert {current(list(o)) for o in itertools.permutations(["sent", "failed", "queued"])} == {
        "failed"
    }


def test_a_callback_that_beats_the_worker_to_the_sid_still_sets_the_status(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    fake.hold()  # Twilio has the message; its answer to us is held back
    Call(twilio, "ticket", sid="CA" + "9" * 32).start()
    wait_until(lambda: fake.holding == 1, "the request is held")
    [message] = fake.messages
    assert report(twilio, "/status/message", message.sid, "sent") == 204  # no row in the URL
    assert rows(settings)[0]["delivery"] == ""  # nothing links the SID to a row yet
    fake.release()
    [row] = wait_until(lambda: settled(settings, 1), "the answer is recorded")
    assert (row["message_sid"], row["delivery"]) == (message.sid, "sent")
