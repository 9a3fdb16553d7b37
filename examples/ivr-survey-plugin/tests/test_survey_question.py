"""The survey_question node type, run by the real engine: load a flow, step through a call."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr_engine import Event, EventKind, FlowError
from ivr_engine.loader import FlowLoader
from ivr_engine.registry import build_registry
from ivr_engine.runtime import StepResult, start_call, step

FLOWS = Path(__file__).resolve().parents[1] / "flows"
CALL = {"CallSid": "CA" + "1" * 32, "From": "+15551234567", "To": "+15550000000"}


@pytest.fixture(scope="module")
def loader() -> FlowLoader:
    registry = build_registry()  # finds survey_question through the installed entry point
    assert "survey_question" in registry, "install the plugin first: pip install -e ."
    return FlowLoader(registry)


def answer(loader: FlowLoader, *events: Event) -> list[StepResult]:
    """Start the example survey call, then send each event; every step's result, in order."""
    flow = loader.load_file(FLOWS / "survey.yaml").flow

    async def run() -> list[StepResult]:
        results = [await start_call(flow, CALL)]
        for event in events:
            results.append(await step(flow, results[-1].session, event))
        return results

    return asyncio.run(run())


def press(digits: str) -> Event:
    return Event(EventKind.INPUT, {"Digits": digits})


def test_the_question_is_asked_inside_a_gather_for_one_key_or_speech(loader: FlowLoader) -> None:
    [first] = answer(loader)
    assert first.twiml == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Gather action="/voice/survey/step/1/input" hints="one, two, three, four, five" '
        'input="dtmf speech" language="en-US" method="POST" numDigits="1" speechTimeout="auto" '
        'timeout="5"><Say language="en-US">On a scale of 1 to 5, how happy are you with our '
        "service?</Say></Gather>"
        '<Redirect method="POST">/voice/survey/step/1/no-input</Redirect></Response>'
    )


def test_a_key_press_is_stored_as_a_number_and_the_call_goes_on(loader: FlowLoader) -> None:
    *_, last = answer(loader, press("4"))
    assert last.session.vars["rating"] == 4
    assert "you gave us 4 out of 5" in last.twiml


def test_a_spoken_number_counts_too(loader: FlowLoader) -> None:
    spoken = Event(EventKind.INPUT, {"SpeechResult": "I'd say five.", "Confidence": "0.8"})
    *_, last = answer(loader, spoken)
    assert last.session.vars["rating"] == 5


def test_anything_else_is_asked_again_then_goes_to_on_failure(loader: FlowLoader) -> None:
    _, again, gave_up = answer(loader, press("9"), Event(EventKind.NO_INPUT))
    assert "Sorry, I need a number from 1 to 5." in again.twiml
    assert "rating" not in again.session.vars
    assert "No problem. Goodbye." in gave_up.twiml


def test_a_wrong_field_is_reported_with_file_line_and_column(
    loader: FlowLoader, tmp_path: Path
) -> None:
    path = tmp_path / "survey.yaml"
    text = (FLOWS / "survey.yaml").read_text().replace("    invalid:", "    invalide:")
    path.write_text(text)
    with pytest.raises(FlowError) as caught:
        loader.load_file(path)
    assert str(caught.value) == (
        f'{path}:9:5: node "rate_us": "invalide" is not a field of a survey_question node '
        '(did you mean "invalid"?); allowed fields are attempts, into, invalid, next, on_failure '
        "or question"
    )


def test_too_many_attempts_is_a_warning(loader: FlowLoader, tmp_path: Path) -> None:
    path = tmp_path / "survey.yaml"
    text = (FLOWS / "survey.yaml").read_text().replace("    into:", "    attempts: 5\n    into:")
    path.write_text(text)
    [warning] = loader.load_file(path).warnings
    assert str(warning) == (
        f'{path}:10:15: warning: node "rate_us", field "attempts": callers rarely answer a survey '
        "after 3 tries: consider 2 or 3"
    )
