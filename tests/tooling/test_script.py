"""A scripted call drives the real runtime the way Twilio would, and keeps what happened."""

import asyncio
from datetime import UTC, datetime

import pytest

from ivr_engine.emulator.twiml import Dial, Listen, Record, Say
from ivr_engine.model import Flow
from ivr_engine.runtime import Taken
from ivr_engine.tooling.script import (
    ActionError,
    Call,
    DialResult,
    HangUp,
    Press,
    Recording,
    Silence,
    Speak,
)

MONDAY_NOON_NY = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 12:00 in New York


def play(call: Call, *actions: object) -> Call:
    async def go() -> None:
        await call.start()
        for action in actions:
            await call.act(action)  # type: ignore[arg-type]

    asyncio.run(go())
    return call


def test_the_call_starts_with_what_the_caller_hears_and_where_it_waits(acme: Flow) -> None:
    call = Call(acme, at=MONDAY_NOON_NY)
    turn = asyncio.run(call.start())
    assert [v.text for v in turn.heard if isinstance(v, Say)] == [
        "Thanks for calling Acme.",
        "Press 1 for sales, 2 for support, or 0 to leave a message.",
    ]
    assert isinstance(turn.waits_on, Listen) and turn.node == "main_menu"
    assert turn.taken == (
        Taken(None, "start", "welcome", "acme"),
        Taken("welcome", "next", "main_menu", "acme"),
    )


def test_keys_dial_results_and_recordings_move_the_call_and_are_remembered(acme: Flow) -> None:
    call = play(Call(acme, at=MONDAY_NOON_NY), Press("1"), DialResult("busy"), Recording(12))
    assert call.path == ["welcome", "main_menu", "sales", "voicemail", "thanks"]
    assert call.ended and call.end_reason == "hangup"
    assert call.variables["voicemail"]["duration"] == 12
    assert call.variables["voicemail"]["url"].startswith("https://api.twilio.com/2010-04-01/")
    assert [(t.node, t.via) for t in call.taken][2:] == [
        ("main_menu", "1"),
        ("sales", "busy"),
        ("voicemail", "recorded"),
    ]


def test_silence_runs_what_twilio_runs_after_the_gather_and_counts_as_no_input(acme: Flow) -> None:
    call = play(Call(acme, at=MONDAY_NOON_NY), Silence())
    last = call.turns[-1]
    assert (
        next(v.text for v in last.heard if isinstance(v, Say)) == "Sorry, I didn't hear anything."
    )
    assert last.taken == (Taken("main_menu", "no input", "main_menu", "acme"),)


def test_only_the_finish_key_is_no_input_by_the_same_rule_as_the_emulator(acme: Flow) -> None:
    call = play(Call(acme, at=MONDAY_NOON_NY), Press("#"))
    assert call.turns[-1].taken == (Taken("main_menu", "no input", "main_menu", "acme"),)


def test_silence_at_a_recording_records_nothing(acme: Flow) -> None:
    call = play(Call(acme, at=MONDAY_NOON_NY), Press("0"), Silence())
    assert call.taken[-1] == Taken("voicemail", "no recording", "thanks", "acme")
    assert call.variables["voicemail"]["url"] is None


def test_keys_stop_at_the_finish_key_and_at_the_number_of_digits(every_node: Flow) -> None:
    call = play(Call(every_node, at=MONDAY_NOON_NY), Press("2"), Press("99#1"))
    assert call.taken[-1] == Taken("account", "no match", "account", "every_node")
    call = play(Call(every_node, at=MONDAY_NOON_NY), Press("2"), Press("999912"))
    assert call.variables["account_number"] == "9999"


def test_speech_picks_a_menu_option_by_its_words(every_node: Flow) -> None:
    call = play(Call(every_node, at=MONDAY_NOON_NY), Speak("sales please"))
    assert isinstance(call.waits_on, Dial) and call.waits_on.values == ("+15550100",)


def test_the_time_of_the_call_decides_business_hours(every_node: Flow) -> None:
    christmas = datetime(2026, 12, 25, 15, 0, tzinfo=UTC)
    call = play(Call(every_node, at=christmas))
    assert call.path == ["intro", "breath", "open_check", "closed_message", "bye"]
    assert call.end_reason == "hangup"


def test_preset_variables_and_messages_are_kept(every_node: Flow) -> None:
    call = play(
        Call(every_node, at=MONDAY_NOON_NY, variables={"tier": "silver"}, caller="+15557654321"),
        Press("2"),
        Press("9999"),
    )
    assert call.variables["tier"] == "gold"
    (message,) = call.messages
    assert (message.to, message.body) == ("+15557654321", "Thanks for calling, gold member.")
    assert isinstance(call.waits_on, Dial)


def test_a_failing_node_sends_the_call_down_the_on_error_path(acme: Flow) -> None:
    call = play(Call(acme, at=MONDAY_NOON_NY, fail_at=["sales"]), Press("1"))
    assert call.path == ["welcome", "main_menu", "operator_apology", "voicemail"]
    assert call.errors[0].startswith('SimulatedFault: node "sales" failed on purpose')
    assert isinstance(call.waits_on, Record)


def test_a_dial_outcome_nothing_handles_ends_the_call(every_node: Flow) -> None:
    call = play(Call(every_node, at=MONDAY_NOON_NY), Press("1"), DialResult("busy"))
    assert call.end_reason == "dial busy"
    assert call.taken[-1] == Taken("sales", "other outcome", None, "every_node")


def test_the_caller_hanging_up_ends_the_call_there(acme: Flow) -> None:
    call = play(Call(acme, at=MONDAY_NOON_NY), HangUp())
    assert call.ended and call.end_reason == "caller hung up" and call.waits_on is None


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (
            [Speak("sales")],
            "the caller cannot speak an answer here: the call listens for keys (1 digit)",
        ),
        ([Press("12a")], '"12a" are not phone keys: use 0-9, * and # (e.g. press: "1")'),
        (
            [DialResult("busy")],
            "the caller gave a dial result, but the call waits for keys (1 digit), or silence",
        ),
        (
            [Press("1"), Press("2")],
            "the caller pressed keys, but the call waits for a dial result: completed, answered, "
            "busy, no-answer, failed, canceled",
        ),
        (
            [Press("1"), DialResult("rejected")],
            '"rejected" is not a dial result: use one of completed, answered, busy, no-answer, '
            "failed, canceled",
        ),
        (
            [Press("0"), DialResult("busy")],
            "the caller gave a dial result, but the call waits for a recording (seconds of "
            "speech), or silence",
        ),
        ([HangUp(), Press("1")], "the call has already ended: nothing more can happen"),
    ],
)
def test_an_action_that_does_not_fit_the_moment_is_refused_with_what_fits(
    acme: Flow, actions: list[object], message: str
) -> None:
    with pytest.raises(ActionError) as raised:
        play(Call(acme, at=MONDAY_NOON_NY), *actions)
    assert str(raised.value) == message


def test_a_fault_at_an_unknown_node_is_refused(acme: Flow) -> None:
    with pytest.raises(ActionError, match=r'^fail_at: "salse" is not a node of flow "acme"$'):
        Call(acme, at=MONDAY_NOON_NY, fail_at=["salse"])
