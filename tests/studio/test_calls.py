"""A scripted call through an imported flow hears what Studio would have said.

Studio's semantics come from its widget pages (see /work/shared/twilio-reference.md, "Studio
semantics an importer must keep"): an unwired transition ends the execution; a split's
conditions ignore case and surrounding spaces; a gather that hears nothing follows timeout.
"""

from __future__ import annotations

from ivr_engine.emulator.twiml import Dial, Play
from ivr_engine.tooling.script import DialResult, Press, Recording, Silence, Speak

from .conftest import hear


def test_say_play_speaks_with_liquid_filled_in_then_plays_and_ends(load) -> None:
    call, said = hear(load("say_play"), caller="+15557654321")
    assert said == ["Hello +15557654321, thanks for calling.", "Goodbye."]
    plays = [v for t in call.turns for v in t.heard if isinstance(v, Play)]
    assert [(p.url, p.loop) for p in plays] == [("https://example.com/jingle.mp3", 2)]
    assert call.ended and call.path == ["welcome", "jingle", "bye"]


def test_a_menu_key_goes_where_the_split_sent_it(load) -> None:
    call, said = hear(load("menu"), Press("3"))
    assert said == ["Press 1 for sales or 2 for support.", "Connecting you to support."]
    assert call.path == ["main_menu", "support"]


def test_a_wrong_key_hears_the_invalid_prompt_and_the_menu_again(load) -> None:
    _, said = hear(load("menu"), Press("9"), Press("1"))
    assert said == [
        "Press 1 for sales or 2 for support.",
        "Sorry, that is not an option.",
        "Press 1 for sales or 2 for support.",
        "Connecting you to sales.",
    ]


def test_silence_in_the_menu_repeats_it_as_the_timeout_loop_did(load) -> None:
    _, said = hear(load("menu"), Silence(), Press("2"))
    assert said == [
        "Press 1 for sales or 2 for support.",
        "Press 1 for sales or 2 for support.",
        "Connecting you to support.",
    ]


def test_split_conditions_compare_numbers_and_read_the_gathered_answer(load) -> None:
    _, said = hear(load("gather_split"), Press("6000"))
    assert said[-1] == "Account 6000 is a big one."


def test_split_contains_ignores_case_as_studio_does(load) -> None:
    _, said = hear(load("gather_split"), Speak("YES please"))
    assert said[-1] == "You said yes."


def test_split_regex_matches_the_whole_answer_ignoring_case(load) -> None:
    _, said = hear(load("gather_split"), Speak("Sí"))
    assert said[-1] == "Dijiste sí."


def test_an_answer_no_condition_matches_ends_the_call_like_an_unwired_no_match(load) -> None:
    call, said = hear(load("gather_split"), Press("1234"))
    assert said == ["Enter or say your account number."]
    assert call.ended and call.path[-1] == "studio_end"


def test_silence_at_a_gather_with_unwired_timeout_ends_the_call(load) -> None:
    call, said = hear(load("gather_split"), Silence())
    assert said == ["Enter or say your account number."]
    assert call.ended and call.end_reason == "no valid input"


def test_connect_call_to_rings_every_number_then_takes_a_message(load) -> None:
    call, _ = hear(load("dial_record"))
    dial = call.turns[0].waits_on
    assert isinstance(dial, Dial)
    assert dial.values == ("+15550100", "+15550101") and dial.timeout == 20
    call, said = hear(load("dial_record"), DialResult("no-answer"), Recording(7))
    assert said == ["Thanks, your message lasted 7 seconds."]


def test_a_recording_with_no_audio_follows_no_audio(load) -> None:
    _, said = hear(load("dial_record"), DialResult("completed"), Silence())
    assert said == ["We did not hear a message."]


def test_an_unmapped_widget_says_so_and_continues_at_its_failure_transition(load) -> None:
    call, said = hear(load("unmapped"))
    assert said == [
        "This step of the call, check hours, was not imported from Twilio Studio.",
        "This step of the call, to queue, was not imported from Twilio Studio.",
    ]
    assert call.path == ["check_hours", "to_queue"] and call.ended


def test_a_subflow_runs_with_its_parameters_and_the_call_comes_back(load) -> None:
    _, said = hear(load("subflow_parent", "subflow_child"), caller="+15551112222")
    assert said == ["Checking +15551112222.", "Back in the main flow."]


def test_a_liquid_retry_counter_allows_as_many_tries_as_it_did_in_studio(load) -> None:
    # Studio: 1st silence sets 0 (< 2, again), 2nd sets 1 (again), 3rd sets 2: goodbye
    call, said = hear(load("retry_counter"), Silence(), Silence(), Silence())
    assert said == ["Please enter your zip code."] * 3 + ["We did not hear you. Goodbye."]
    assert call.ended


def test_an_answer_after_a_retry_goes_on_as_the_keypress_did(load) -> None:
    _, said = hear(load("retry_counter"), Silence(), Press("94110"))
    assert said[-1] == "Thanks, 94110."
