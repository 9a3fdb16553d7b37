"""The schema stage: YAML 1.1 leftovers put back as text, and errors worded for authors."""

from __future__ import annotations

import pytest

from ivr_engine.errors import FlowError
from tests.support import load_text, loader


def test_an_unquoted_phone_number_where_text_is_expected_stays_the_text_written() -> None:
    flow = load_text(
        "start: notify\n"
        "nodes:\n"
        "  notify:\n"
        "    type: message\n"
        "    to: +15550100\n"
        "    body: 0042\n"
        "    next: transfer\n"
        "  transfer:\n"
        "    type: dial\n"
        "    to: +15550111\n"
        "    caller_id: +15550199\n"
    )
    assert flow.nodes["notify"].field("to") == "+15550100"
    assert flow.nodes["notify"].field("body") == "0042"
    assert flow.nodes["transfer"].field("to") == "+15550111"
    assert flow.nodes["transfer"].field("caller_id") == "+15550199"


def test_numbers_where_numbers_are_expected_stay_numbers() -> None:
    flow = load_text("start: w\nnodes:\n  w:\n    type: pause\n    seconds: 3\n")
    assert flow.nodes["w"].field("seconds") == 3


def test_numbers_in_spoken_text_are_spoken_as_written() -> None:
    flow = load_text("start: w\nnodes:\n  w:\n    type: say\n    text: 1.50\n")
    text = flow.text("w", ("text",))
    assert text is not None and text.render({}, "en-US") == "1.50"


def test_dial_outcome_keys_and_yes_no_words_stay_strings() -> None:
    flow = load_text(
        "start: ask\n"
        "nodes:\n"
        "  ask:\n"
        "    type: menu\n"
        "    prompt: Say yes or no.\n"
        "    input: speech\n"
        "    options:\n"
        "      1: {next: yes, say: [yes, yeah]}\n"
        "      2: {next: no, say: [no, nope]}\n"
        "  yes:\n"
        "    type: dial\n"
        "    to: +15550100\n"
        "    on:\n"
        "      busy: no\n"
        "  no:\n"
        "    type: hangup\n"
    )
    assert set(flow.nodes) == {"ask", "yes", "no"}
    assert flow.nodes["ask"].field("options")["1"]["say"] == ("yes", "yeah")
    assert dict(flow.nodes["yes"].field("on")) == {"busy": "no"}
    assert "on" in flow.nodes["yes"].spec


def test_yaml_true_and_false_are_booleans_where_the_schema_wants_them() -> None:
    flow = load_text(
        "start: r\nnodes:\n  r:\n    type: record\n    beep: false\n    transcribe: true\n"
        "    next: h\n  h:\n    type: hangup\n"
    )
    assert flow.nodes["r"].field("beep") is False
    assert flow.nodes["r"].field("transcribe") is True


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yes", 'node "r", field "beep": must be true or false, not "yes": write true'),
        ("off", 'node "r", field "beep": must be true or false, not "off": write false'),
    ],
)
def test_yaml_11_booleans_are_refused_with_the_word_to_write(value: str, message: str) -> None:
    text = f"start: r\nnodes:\n  r:\n    type: record\n    beep: {value}\n    next: r\n"
    with pytest.raises(FlowError) as raised:
        loader().load_text(text, "f.yaml", "f")
    assert [p.message for p in raised.value.problems] == [message]


def test_a_misspelt_field_is_told_once_with_its_correction_not_as_a_missing_field() -> None:
    text = "start: g\nnodes:\n  g:\n    type: gather\n    promt: Hi.\n    itno: x\n    next: g\n"
    with pytest.raises(FlowError) as raised:
        loader().load_text(text, "f.yaml", "f")
    assert [p.message for p in raised.value.problems] == [
        'node "g": "promt" is not a field of a gather node (did you mean "prompt"?); allowed '
        "fields are attempts, finish_on_key, hints, input, into, language, next, no_input, "
        "no_match, num_digits, on_failure, pattern, prompt, timeout or voice",
        'node "g": "itno" is not a field of a gather node (did you mean "into"?); allowed '
        "fields are attempts, finish_on_key, hints, input, into, language, next, no_input, "
        "no_match, num_digits, on_failure, pattern, prompt, timeout or voice",
    ]


def test_a_missing_field_unrelated_to_an_unknown_one_is_still_told() -> None:
    text = (
        "start: g\nnodes:\n  g:\n    type: gather\n    prompt: Hi.\n    colour: red\n    next: g\n"
    )
    with pytest.raises(FlowError) as raised:
        loader().load_text(text, "f.yaml", "f")
    assert [p.message for p in raised.value.problems] == [
        'node "g": the required field "into" is missing: add it (name of the flow variable that '
        "receives the answer)",
        'node "g": "colour" is not a field of a gather node; allowed fields are attempts, '
        "finish_on_key, hints, input, into, language, next, no_input, no_match, num_digits, "
        "on_failure, pattern, prompt, timeout or voice",
    ]
