"""The example flows in flows/, walked through the pure runtime along their main paths.

These are the flows business users copy, so each main path is pinned to the exact TwiML a
caller's phone would get and the nodes the call went through.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ivr_engine.model import Flow
from ivr_engine.runtime import EventKind
from tests.support import EXAMPLES, PREFIX, Call, action, load, twiml

JOANNA = 'language="en-US" voice="Polly.Joanna"'
MIA = 'language="es-MX" voice="Polly.Mia"'


def say(text: str, voice: str = JOANNA) -> str:
    return f"<Say {voice}>{text}</Say>"


def gather(flow: Flow, step: int, inner: str, attrs: str) -> str:
    return (
        f'<Gather action="{action(flow, step, "input")}" {attrs}>{inner}</Gather>'
        f'<Redirect method="POST">{action(flow, step, "no-input")}</Redirect>'
    )


def dial(flow: Flow, step: int, number: str, timeout: int = 30) -> str:
    return (
        f'<Dial action="{action(flow, step, "dial")}" method="POST" timeout="{timeout}">'
        f"<Number>{number}</Number></Dial>"
    )


def record(flow: Flow, step: int, extra: str = "") -> str:
    return (
        f'<Record action="{action(flow, step, "record")}" finishOnKey="1234567890*#" '
        'maxLength="120" method="POST" playBeep="true" '
        f'recordingStatusCallback="{PREFIX}/status/recording" '
        f'recordingStatusCallbackMethod="POST" timeout="5"{extra} />'
        f'<Redirect method="POST">{action(flow, step, "no-recording")}</Redirect>'
    )


# ---- acme.yaml: the classic menu ---------------------------------------------------------


def test_acme_greets_and_asks_for_a_key() -> None:
    flow = load(EXAMPLES / "acme.yaml")
    menu = say("Press 1 for sales, 2 for support, or 0 to leave a message.")
    assert Call(flow).start().twiml == twiml(
        say("Thanks for calling Acme.")
        + gather(
            flow, 1, menu, 'input="dtmf" language="en-US" method="POST" numDigits="1" timeout="5"'
        )
    )


def test_acme_sends_a_busy_sales_line_to_voicemail_and_keeps_the_recording() -> None:
    flow = load(EXAMPLES / "acme.yaml")
    call = Call(flow)
    call.start()
    assert call.press("1").twiml == twiml(dial(flow, 2, "+15550100", timeout=20))
    voicemail = call.send(EventKind.DIAL, DialCallStatus="busy")
    assert voicemail.twiml == twiml(
        say("Nobody can take your call right now. Please leave a message after the beep.")
        + record(
            flow,
            3,
            f' transcribe="true" transcribeCallback="{PREFIX}/status/transcription"',
        )
    )
    done = call.send(EventKind.RECORD, RecordingUrl="https://example.com/RE1", RecordingSid="RE1")
    assert done.twiml == twiml(say("Thanks, we'll call you back soon. Goodbye.") + "<Hangup />")
    assert done.session.path == ["welcome", "main_menu", "sales", "voicemail", "thanks"]
    assert done.session.vars["voicemail"]["sid"] == "RE1"


def test_acme_says_goodbye_after_three_silences() -> None:
    call = Call(load(EXAMPLES / "acme.yaml"))
    call.start()
    assert "Sorry, I didn't hear anything." in call.silence().twiml
    assert "Sorry, I didn't hear anything." in call.silence().twiml
    last = call.silence()
    assert last.twiml == twiml(say("Goodbye.") + "<Hangup />")
    assert last.session.path[-1] == "goodbye"


# ---- account.yaml: gather with a pattern, a branch on it, an SMS follow-up ----------------


def test_account_reads_back_the_number_texts_a_link_and_offers_an_agent() -> None:
    flow = load(EXAMPLES / "account.yaml")
    call = Call(flow)
    first = call.start()
    assert first.twiml == twiml(
        say("Welcome to Acme account services.")
        + gather(
            flow,
            1,
            say("Please enter your 8-digit account number, then press pound."),
            'input="dtmf" language="en-US" method="POST" timeout="10"',
        )
    )
    answered = call.press("12345678")
    assert answered.twiml == twiml(
        say("Thank you. Account 1 2 3 4 5 6 7 8.")
        + gather(
            flow,
            2,
            say("We've texted you a link to manage your account. To speak with someone, press 0."),
            'input="dtmf" language="en-US" method="POST" numDigits="1" timeout="5"',
        )
    )
    assert answered.session.path == [
        "welcome",
        "ask_account",
        "confirm",
        "route",
        "text_link",
        "after_text",
    ]
    (sms,) = answered.messages
    assert (sms.channel, sms.to, sms.body) == (
        "sms",
        "+15551230000",
        "Manage account 12345678 online: https://acme.example.com/account/12345678",
    )
    assert call.press("0").twiml == twiml(dial(flow, 3, "+15550100"))


def test_account_sends_business_accounts_to_their_team_without_a_text() -> None:
    flow = load(EXAMPLES / "account.yaml")
    call = Call(flow)
    call.start()
    result = call.press("70000001")
    assert result.twiml == twiml(
        say("Thank you. Account 7 0 0 0 0 0 0 1.") + dial(flow, 2, "+15550170", timeout=20)
    )
    assert result.messages == []
    assert call.send(EventKind.DIAL, DialCallStatus="no-answer").session.path[-1] == "agent"


def test_account_asks_again_when_the_number_is_too_short_then_hands_over() -> None:
    flow = load(EXAMPLES / "account.yaml")
    call = Call(flow)
    call.start()
    again = call.press("1234")
    assert again.twiml == twiml(
        gather(
            flow,
            2,
            say("That is not an 8-digit account number.")
            + say("Please enter your 8-digit account number, then press pound."),
            'input="dtmf" language="en-US" method="POST" timeout="10"',
        )
    )
    assert "account" not in again.session.vars
    assert "Sorry, I didn't hear anything." in call.silence().twiml
    assert call.press("99").twiml == twiml(dial(flow, 4, "+15550100"))


# ---- hours.yaml: business hours, holidays, timezone ---------------------------------------


@pytest.mark.parametrize(
    ("moment", "first_node"),
    [
        (datetime(2026, 3, 4, 15, 0, tzinfo=UTC), "support"),  # Wed 10:00 in New York
        (datetime(2026, 3, 4, 23, 30, tzinfo=UTC), "closed"),  # Wed 18:30
        (datetime(2026, 3, 7, 15, 0, tzinfo=UTC), "support"),  # Sat 10:00
        (datetime(2026, 3, 7, 19, 0, tzinfo=UTC), "closed"),  # Sat 14:00
        (datetime(2026, 11, 26, 15, 0, tzinfo=UTC), "closed"),  # Thanksgiving
    ],
)
def test_hours_routes_by_new_york_opening_hours(moment: datetime, first_node: str) -> None:
    result = Call(load(EXAMPLES / "hours.yaml"), now=moment).start()
    assert result.session.path[:2] == ["check_hours", first_node]


def test_hours_rings_support_when_open() -> None:
    flow = load(EXAMPLES / "hours.yaml")
    result = Call(flow, now=datetime(2026, 3, 4, 15, 0, tzinfo=UTC)).start()
    assert result.twiml == twiml(dial(flow, 1, "+15550111", timeout=25))


def test_hours_tells_the_opening_times_when_closed_and_takes_a_message() -> None:
    flow = load(EXAMPLES / "hours.yaml")
    call = Call(flow, now=datetime(2026, 12, 25, 15, 0, tzinfo=UTC))
    closed = call.start()
    assert closed.twiml == twiml(
        say(
            "Our office is closed. We are open Monday to Friday from 8 AM to 6 PM, "
            "and Saturday from 9 AM to 1 PM, Eastern time."
        )
        + say("Please leave your name, number and a short message after the tone.")
        + record(
            flow,
            1,
            f' transcribe="true" transcribeCallback="{PREFIX}/status/transcription"',
        )
    )
    done = call.send(EventKind.RECORD, RecordingUrl="https://example.com/RE9", RecordingSid="RE9")
    assert done.session.path == ["check_hours", "closed", "voicemail", "thanks"]
    assert done.session.ended


# ---- bilingual.yaml: a set node switches to es-MX; texts are language maps ----------------


def test_bilingual_offers_spanish_in_a_spanish_voice() -> None:
    flow = load(EXAMPLES / "bilingual.yaml")
    assert Call(flow).start().twiml == twiml(
        say("Thanks for calling Acme. For English, press 1.")
        + gather(
            flow,
            1,
            say("Para español, oprima 2.", MIA),
            'input="dtmf" language="es-MX" method="POST" numDigits="1" timeout="5"',
        )
    )


def test_bilingual_continues_the_whole_call_in_spanish_after_pressing_2() -> None:
    flow = load(EXAMPLES / "bilingual.yaml")
    call = Call(flow)
    call.start()
    menu = call.press("2")
    assert menu.session.language == "es-MX"
    assert menu.twiml == twiml(
        gather(
            flow,
            2,
            say("Oprima 1 para ventas, 2 para soporte, o 0 para dejar un mensaje.", MIA),
            'input="dtmf" language="es-MX" method="POST" numDigits="1" timeout="5"',
        )
    )
    wrong = call.press("7")
    assert say("Lo siento, esa opción no es válida.", MIA) in wrong.twiml
    assert call.press("1").twiml == twiml(dial(flow, 4, "+15550100"))
    voicemail = call.send(EventKind.DIAL, DialCallStatus="busy")
    assert voicemail.twiml == twiml(
        say("Por favor, deje un mensaje después del tono.", MIA) + record(flow, 5)
    )
    done = call.send(EventKind.RECORD, RecordingUrl="https://example.com/RE2", RecordingSid="RE2")
    assert done.twiml == twiml(say("Gracias por llamar a Acme. Adiós.", MIA) + "<Hangup />")
    assert done.session.path == [
        "welcome",
        "choose_language",
        "spanish",
        "main_menu",
        "sales",
        "voicemail",
        "goodbye",
    ]


@pytest.mark.parametrize("choice", ["1", None], ids=["pressing 1", "choosing nothing"])
def test_bilingual_carries_on_in_english(choice: str | None) -> None:
    flow = load(EXAMPLES / "bilingual.yaml")
    call = Call(flow)
    call.start()
    menu = call.press(choice) if choice else call.silence()
    assert menu.session.language == "en-US"
    assert menu.twiml == twiml(
        gather(
            flow,
            2,
            say("Press 1 for sales, 2 for support, or 0 to leave a message."),
            'input="dtmf" language="en-US" method="POST" numDigits="1" timeout="5"',
        )
    )
    assert menu.session.path == ["welcome", "choose_language", "main_menu"]
