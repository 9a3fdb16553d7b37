"""Opt-out and opt-in through the Messaging URL, and what they do to follow-ups."""

from __future__ import annotations

import pytest

from ivr_engine.messaging.consent import HELP, OPT_IN, OPT_OUT, keyword
from ivr_engine.web import Settings
from tests.conftest import Twilio, values
from tests.messaging.conftest import CALLER, rows, settled, text, wait_until
from tests.messaging.fake_twilio import FakeTwilio
from tests.web.calls import Call

pytestmark = pytest.mark.backends("sqlite", "postgresql")

EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def consent_events(settings: Settings) -> list[tuple[str, str, str, str]]:
    return values(  # type: ignore[return-value]
        settings, "SELECT number, channel, action, source FROM consent_events ORDER BY id"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", OPT_OUT),
        (" stop ", OPT_OUT),
        ("Unsubscribe", OPT_OUT),
        ("cancel\n", OPT_OUT),
        ("End", OPT_OUT),
        ("StopAll", OPT_OUT),
        ("revoke", OPT_OUT),
        ("OPTOUT", OPT_OUT),
        ("START", OPT_IN),
        ("unstop", OPT_IN),
        (" Yes", OPT_IN),
        ("help", HELP),
        ("Info ", HELP),
        ("q u i t", None),  # Twilio counts only a message that is one word
        ("stop all", None),
        ("Subscribe", None),  # not one of Twilio's opt-in words
        ("stop please", None),
        ("Hello", None),
        ("", None),
    ],
)
def test_keywords_are_twilios_recognised_whatever_their_case_and_surrounding_spaces(
    body: str, expected: str | None
) -> None:
    assert keyword(body) == expected


def test_stop_by_sms_is_recorded_with_its_source_and_answered_with_empty_twiml(
    twilio: Twilio, settings: Settings
) -> None:
    response = text(twilio, "  Stop ")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == EMPTY  # Twilio's own opt-out handling already replied
    assert consent_events(settings) == [(CALLER, "sms", OPT_OUT, "replied STOP")]


def test_after_stop_a_follow_up_is_not_sent_and_its_row_says_why(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    text(twilio, "STOP")
    Call(twilio, "ticket", sid="CA" + "a" * 32).start()
    [row] = wait_until(lambda: settled(settings, 1), "the message is decided")
    assert row["status"] == "not_sent"
    assert row["reason"].startswith(f"{CALLER} opted out of sms messages (replied STOP, 20")
    assert fake.attempts == []


def test_start_sends_follow_ups_again(twilio: Twilio, settings: Settings, fake: FakeTwilio) -> None:
    text(twilio, "STOP")
    text(twilio, "start")
    Call(twilio, "ticket", sid="CA" + "b" * 32).start()
    [row] = wait_until(lambda: settled(settings, 1), "the message is sent")
    assert row["status"] == "sent"
    assert len(fake.sent_to(CALLER)) == 1
    assert [event[2] for event in consent_events(settings)] == [OPT_OUT, OPT_IN]


def test_stop_on_whatsapp_is_confirmed_and_silences_only_whatsapp(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    response = text(twilio, "STOP", sender="whatsapp:" + CALLER)
    assert response.text == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>You will not get more messages '
        "from us here. Reply START to subscribe again.</Message></Response>"
    )
    call = Call(twilio, "whatsapp", sid="CA" + "c" * 32)
    call.start()
    call.press("3")  # plain WhatsApp message
    Call(twilio, "ticket", sid="CA" + "d" * 32).start()  # an SMS to the same number
    found = wait_until(lambda: settled(settings, 2), "both messages are decided")
    by_channel = {row["channel"]: row for row in found}
    assert by_channel["whatsapp"]["status"] == "not_sent"
    assert "opted out of whatsapp messages" in by_channel["whatsapp"]["reason"]
    assert by_channel["sms"]["status"] == "sent"


def test_a_repeated_inbound_webhook_records_the_change_once(
    twilio: Twilio, settings: Settings
) -> None:
    sid = "SM" + "5" * 32
    text(twilio, "STOP", sid=sid)
    text(twilio, "STOP", sid=sid)
    assert len(consent_events(settings)) == 1


def test_an_ordinary_message_changes_no_consent_and_gets_no_reply(
    twilio: Twilio, settings: Settings
) -> None:
    assert text(twilio, "When do you open?").text == EMPTY
    assert consent_events(settings) == []
    assert rows(settings) == []


def test_an_inbound_message_without_a_sender_is_malformed(twilio: Twilio) -> None:
    response = twilio.post("/messaging/inbound", {"MessageSid": "SM" + "1" * 32, "Body": "STOP"})
    assert response.status_code == 400
    assert response.text == "missing From"


def test_a_forged_stop_gets_403_and_changes_no_consent(twilio: Twilio, settings: Settings) -> None:
    forged = Twilio(twilio.client, token="not-the-real-token")
    assert text(forged, "STOP").status_code == 403
    assert consent_events(settings) == []
