"""Calls end to end: a real app over HTTP, signed requests, a real SQLite file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ivr_engine.web import Settings, create_app
from tests.conftest import Twilio, values
from tests.web.calls import Call

pytestmark = pytest.mark.backends("sqlite", "postgresql")


def session_row(settings: Settings, call_sid: str) -> tuple[int, int] | None:
    found = values(settings, "SELECT step, ended FROM sessions WHERE call_sid = ?", (call_sid,))
    return found[0] if found else None  # type: ignore[return-value]


def test_incoming_call_greets_and_asks_inside_a_gather_with_a_redirect_after_it(
    twilio: Twilio,
) -> None:
    answer = Call(twilio, "acme").start()
    assert answer.xml == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="en-US" voice="Polly.Joanna">Thanks for calling Acme.</Say>'
        '<Gather action="/voice/acme/step/1/input" input="dtmf" language="en-US" method="POST" numDigits="1" timeout="5">'
        '<Say language="en-US" voice="Polly.Joanna">Press 1 for sales, 2 for support, or 0 to leave a message.</Say>'
        "</Gather>"
        '<Redirect method="POST">/voice/acme/step/1/no-input</Redirect>'
        "</Response>"
    )


def test_pressing_1_dials_sales_and_busy_goes_to_voicemail_then_hangs_up(
    twilio: Twilio, settings: Settings
) -> None:
    call = Call(twilio, "acme")
    call.start()
    dial = call.press("1")
    assert dial.verbs() == ["Dial"]
    assert [n.text for n in dial.root.iter("Number")] == ["+15550100"]
    assert dial.root.find("Dial").attrib["timeout"] == "20"
    voicemail = call.dial_result("busy")
    assert voicemail.verbs() == ["Say", "Record", "Redirect"]
    assert "leave a message" in voicemail.said()[0]
    done = call.record()
    assert done.verbs() == ["Say", "Hangup"]
    assert done.said() == ["Thanks, we'll call you back soon. Goodbye."]
    assert session_row(settings, call.sid) == (4, 1)


def test_support_rings_two_numbers_together_with_caller_id(twilio: Twilio) -> None:
    call = Call(twilio, "acme")
    call.start()
    dial = call.press("2").root.find("Dial")
    assert [n.text for n in dial.iter("Number")] == ["+15550111", "+15550112"]
    assert dial.attrib["callerId"] == "+15550199"
    assert call.dial_result("completed").said() == ["Goodbye."]


def test_invalid_key_reprompts_with_no_match_text_then_silence_with_no_input_text(
    twilio: Twilio,
) -> None:
    call = Call(twilio, "acme")
    call.start()
    assert call.press("7").said() == [
        "Sorry, that's not a valid choice.",
        "Press 1 for sales, 2 for support, or 0 to leave a message.",
    ]
    assert call.silence().said() == [
        "Sorry, I didn't hear anything.",
        "Press 1 for sales, 2 for support, or 0 to leave a message.",
    ]
    assert call.silence().verbs() == ["Say", "Hangup"]  # third failure: on_failure -> goodbye
    assert call.last.said() == ["Goodbye."]


def test_a_retried_action_gets_identical_twiml_and_does_not_count_an_attempt_twice(
    twilio: Twilio, settings: Settings
) -> None:
    call = Call(twilio, "acme")
    call.start()
    first_url = call.last.url("Redirect")
    first = call.silence()
    retried = twilio.post(first_url, call.base_params)
    assert retried.text == first.xml
    assert session_row(settings, call.sid) == (2, 0)
    # two more silences are needed to fail: the retry did not count as one
    assert call.silence().verbs() == ["Gather", "Redirect"]
    assert call.silence().said() == ["Goodbye."]


def test_a_stale_action_url_gets_the_twiml_the_caller_is_in(twilio: Twilio) -> None:
    call = Call(twilio, "acme")
    call.start()
    stale = call.last.url("Gather")
    current = call.press("7")
    assert twilio.post(stale, {**call.base_params, "Digits": "1"}).text == current.xml


def test_a_retried_incoming_call_webhook_does_not_start_the_call_again(
    twilio: Twilio, settings: Settings
) -> None:
    call = Call(twilio, "acme")
    first = call.start()
    assert call.start().xml == first.xml
    assert session_row(settings, call.sid) == (1, 0)


def test_a_restart_mid_call_continues_the_call_from_the_database(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        call = Call(Twilio(client), "acme")
        call.start()
        call.press("7")  # one failed attempt so far
    with TestClient(create_app(settings)) as client:
        call.twilio = Twilio(client)
        assert call.silence().verbs() == ["Gather", "Redirect"]  # second failure
        assert call.silence().said() == ["Goodbye."]  # third: the count survived the restart


def wait_for(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def test_a_flow_edited_mid_call_keeps_the_old_version_for_that_call_and_serves_the_new_one_to_the_next(
    client: TestClient, twilio: Twilio, flows_dir: Path
) -> None:
    call = Call(twilio, "acme")
    call.start()
    path = flows_dir / "acme.yaml"
    path.write_text(
        path.read_text()
        .replace("Thanks for calling Acme.", "Welcome to New Acme.")
        .replace("Goodbye.", "Bye now.")
    )
    flows = client.app.state.flows  # type: ignore[attr-defined]
    wait_for(lambda: "New Acme" in str(flows.current("acme").texts))
    assert call.press("2") and call.dial_result("completed").said() == ["Goodbye."]  # old version
    assert Call(twilio, "acme", sid="CA" + "2" * 32).start().said()[0] == "Welcome to New Acme."


def test_a_broken_edit_is_rejected_and_the_last_good_version_keeps_serving(
    client: TestClient, twilio: Twilio, flows_dir: Path
) -> None:
    flows = client.app.state.flows  # type: ignore[attr-defined]
    good = flows.current("acme").version
    path = flows_dir / "acme.yaml"
    path.write_text(path.read_text().replace("next: main_menu", "next: main_menuu"))
    wait_for(lambda: "acme" in flows.rejected)
    assert any(
        'goes to "main_menuu", which is not a node in this flow' in p
        for p in flows.rejected["acme"]
    )
    assert flows.current("acme").version == good
    assert Call(twilio, "acme").start().said()[0] == "Thanks for calling Acme."


def test_an_exception_in_a_node_answers_an_apology_and_the_on_error_path_not_a_500(
    twilio: Twilio, flows_dir: Path, settings: Settings
) -> None:
    (flows_dir / "fragile.yaml").write_text(
        "start: hello\non_error: sorry\nnodes:\n"
        '  hello:\n    type: say\n    text: "You owe {{ 1 / 0 }} dollars"\n    next: bye\n'
        "  bye:\n    type: hangup\n"
        "  sorry:\n    type: hangup\n    text: Please call again later.\n"
    )
    with TestClient(create_app(settings)) as client:
        answer = Call(Twilio(client), "fragile").start()
    assert answer.said() == ["We're sorry, something went wrong.", "Please call again later."]
    assert answer.verbs() == ["Say", "Say", "Hangup"]


def test_an_unknown_flow_answers_an_apology_and_hangs_up(twilio: Twilio) -> None:
    answer = Call(twilio, "nope").start()
    assert answer.verbs() == ["Say", "Hangup"]
    assert answer.said() == ["We're sorry, something went wrong."]


def test_an_action_for_an_unknown_call_apologises_then_continues_at_on_error(
    twilio: Twilio,
) -> None:
    call = Call(twilio, "acme", sid="CA" + "7" * 32)
    response = twilio.post("/voice/acme/step/1/input", {**call.base_params, "Digits": "1"})
    assert response.status_code == 200
    answer = call._answer(response)
    # acme's on_error says "Let me take a message instead." and goes to voicemail
    assert answer.said()[:2] == [
        "We're sorry, something went wrong.",
        "Let me take a message instead.",
    ]
    assert answer.verbs() == ["Say", "Say", "Say", "Record", "Redirect"]
    assert call.record().said() == ["Thanks, we'll call you back soon. Goodbye."]


def test_an_action_for_an_unknown_call_in_a_flow_without_on_error_hangs_up(
    twilio: Twilio, flows_dir: Path, settings: Settings
) -> None:
    (flows_dir / "plain.yaml").write_text(
        "start: hi\nnodes:\n  hi:\n    type: hangup\n    text: Hi.\n"
    )
    with TestClient(create_app(settings)) as client:
        response = Twilio(client).post(
            "/voice/plain/step/3/input", {"CallSid": "CA" + "6" * 32, "Digits": "1"}
        )
    assert response.status_code == 200
    assert response.text.endswith(
        '<Say language="en-US">We\'re sorry, something went wrong.</Say><Hangup /></Response>'
    )


def test_recovering_an_unknown_call_can_run_a_subflow_on_its_on_error_path(
    flows_dir: Path, settings: Settings
) -> None:
    (flows_dir / "front.yaml").write_text(
        "start: hi\non_error: help\nnodes:\n"
        "  hi:\n    type: hangup\n"
        "  help:\n    type: subflow\n    flow: helpdesk\n    next: bye\n"
        "  bye:\n    type: hangup\n    text: Goodbye from the front.\n"
    )
    (flows_dir / "helpdesk.yaml").write_text(
        "start: tell\nnodes:\n"
        "  tell:\n    type: say\n    text: The helpdesk is open until six.\n    next: back\n"
        "  back:\n    type: return\n"
    )
    with TestClient(create_app(settings)) as client:
        response = Twilio(client).post(
            "/voice/front/step/2/input", {"CallSid": "CA" + "3" * 32, "Digits": "1"}
        )
    assert response.status_code == 200
    assert "The helpdesk is open until six." in response.text
    assert "Goodbye from the front." in response.text
