"""WhatsApp's 24-hour window: free-form inside it; template, SMS fallback or nothing outside."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from ivr_engine.messaging.window import WINDOW_SECONDS, WindowStore
from ivr_engine.store.database import Database
from ivr_engine.web import Settings
from tests.conftest import Twilio
from tests.messaging.conftest import (
    CALLER,
    SMS_FROM,
    WHATSAPP_FROM,
    history,
    settled,
    text,
    wait_until,
)
from tests.messaging.fake_twilio import FakeTwilio
from tests.web.calls import Call

pytestmark = pytest.mark.backends("sqlite", "postgresql")

TEMPLATE = "HX0123456789abcdef0123456789abcdef"


def follow_up(twilio: Twilio, key: str, n: int = 1) -> None:
    """A call to the WhatsApp flow choosing message node 1 (template), 2 (fallback) or 3 (plain)."""
    call = Call(twilio, "whatsapp", sid=f"CA{n:032x}")
    call.start()
    call.press(key)


def test_inside_the_window_a_free_form_message_goes_to_whatsapp(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    text(twilio, "Hi, can I move my appointment?", sender="whatsapp:" + CALLER)
    follow_up(twilio, "3")
    [row] = wait_until(lambda: settled(settings, 1), "the message is sent")
    assert row["status"] == "sent"
    [message] = fake.messages
    assert (message.first("To"), message.first("From"), message.first("Body")) == (
        "whatsapp:" + CALLER,
        "whatsapp:" + WHATSAPP_FROM,
        "Thanks for calling.",
    )


def test_inside_the_window_a_node_with_a_template_still_sends_its_body(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    text(twilio, "hello", sender="whatsapp:" + CALLER)
    follow_up(twilio, "1")
    wait_until(lambda: settled(settings, 1), "the message is sent")
    [message] = fake.messages
    assert message.first("Body") == "Your appointment is confirmed."
    assert message.first("ContentSid") is None


def test_outside_the_window_the_nodes_template_is_sent_with_its_variables(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    follow_up(twilio, "1")
    [row] = wait_until(lambda: settled(settings, 1), "the message is sent")
    [message] = fake.messages
    assert message.params["To"] == ["whatsapp:" + CALLER]
    assert message.params["ContentSid"] == [TEMPLATE]
    assert json.loads(message.params["ContentVariables"][0]) == {"1": CALLER, "2": "tomorrow 9am"}
    assert "Body" not in message.params
    assert history(settings, row["id"])[1][1] == (
        f"attempt 1: to whatsapp:{CALLER} from whatsapp:{WHATSAPP_FROM}, template {TEMPLATE} "
        "(outside the WhatsApp 24-hour window: sent as its template)"
    )


def test_outside_the_window_fallback_sms_sends_the_body_as_an_sms(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    follow_up(twilio, "2")
    [row] = wait_until(lambda: settled(settings, 1), "the message is sent")
    [message] = fake.messages
    assert message.params["To"] == [CALLER]
    assert message.params["From"] == [SMS_FROM]
    assert message.params["Body"] == ["Tap to book a callback."]
    assert row["status"] == "sent"


def test_outside_the_window_without_template_or_fallback_nothing_is_sent_and_the_row_says_why(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    follow_up(twilio, "3")
    [row] = wait_until(lambda: settled(settings, 1), "the message is decided")
    assert row["status"] == "not_sent"
    assert row["reason"] == (
        f"outside the WhatsApp 24-hour window ({CALLER} has not written on WhatsApp in the last "
        "24 hours) and the node has neither a template nor fallback: sms"
    )
    assert fake.attempts == []


def test_an_sms_from_the_caller_does_not_open_the_whatsapp_window(
    twilio: Twilio, settings: Settings, fake: FakeTwilio
) -> None:
    text(twilio, "hello")  # SMS, not WhatsApp
    follow_up(twilio, "3")
    [row] = wait_until(lambda: settled(settings, 1), "the message is decided")
    assert row["status"] == "not_sent"


def test_the_window_closes_24_hours_after_the_last_inbound_message(tmp_path: Path) -> None:
    async def scenario() -> list[bool]:
        database = await Database.open(tmp_path / "w.sqlite3")
        window = WindowStore(database)
        try:
            await database.write(window.record(CALLER, 1_000.0))
            await database.write(window.record(CALLER, 500.0))  # a late, older webhook
            return [
                await window.is_open(CALLER, 1_000.0 + WINDOW_SECONDS - 1),
                await window.is_open(CALLER, 1_000.0 + WINDOW_SECONDS),
                await window.is_open("+15559999999", 1_000.0),
            ]
        finally:
            await database.close()

    assert asyncio.run(scenario()) == [True, False, False]
