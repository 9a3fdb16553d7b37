"""The scripted caller: answers in order, silence after, and how a recording uses the script."""

from __future__ import annotations

import asyncio

import pytest

from ivr_engine.emulator import SILENCE, DialSpec, GatherSpec, Keys, ScriptedCaller, Speech
from ivr_engine.emulator.caller import DEFAULT_MESSAGE, parse_dial_outcomes, parse_keys


def test_keys_split_on_commas_and_an_empty_answer_is_silence() -> None:
    assert parse_keys("7,,1#") == [Keys("7"), SILENCE, Keys("1#")]


def test_a_character_that_is_not_a_phone_key_is_refused_by_name() -> None:
    with pytest.raises(
        ValueError,
        match=r'^"a" is not a phone key: use 0-9, \* and #, with commas between answers$',
    ):
        parse_keys("1,a")


def test_an_unknown_dial_outcome_is_refused_with_the_choices() -> None:
    assert parse_dial_outcomes("busy, no-answer") == ["busy", "no-answer"]
    with pytest.raises(
        ValueError,
        match=r'^"engaged" is not a dial outcome: use one of completed, answered, busy, '
        r"no-answer, failed, canceled$",
    ):
        parse_dial_outcomes("engaged")


def test_answers_come_in_order_then_silence() -> None:
    caller = ScriptedCaller([Keys("1"), Speech("sales")])
    gather = GatherSpec()
    answers = [asyncio.run(caller.answer(gather)) for _ in range(3)]
    assert answers == [Keys("1"), Speech("sales"), SILENCE]


def test_a_recording_takes_the_next_speech_or_silence_but_not_keys() -> None:
    caller = ScriptedCaller([Speech("call me"), SILENCE, Keys("2")])
    assert asyncio.run(caller.message()) == "call me"
    assert asyncio.run(caller.message()) is None
    assert asyncio.run(caller.message()) == DEFAULT_MESSAGE
    assert list(caller.inputs) == [Keys("2")]


def test_dials_take_the_scripted_outcomes_then_are_answered() -> None:
    caller = ScriptedCaller(dial_outcomes=["busy"])
    dial = DialSpec(("+15550100",))
    assert [asyncio.run(caller.dial_outcome(dial)) for _ in range(2)] == ["busy", "completed"]
