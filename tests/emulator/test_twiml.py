"""The one TwiML interpreter: responses read into verbs and split the way Twilio runs them, and
played for an emulated caller (what is heard, which request comes next, when the call ends)."""

from __future__ import annotations

import asyncio

import pytest

from ivr_engine.emulator import EmulatorError, Keys, ScriptedCaller, Speech, Turn, TwimlPlayer
from ivr_engine.emulator.caller import SILENCE, Caller
from ivr_engine.emulator.twiml import (
    Dial,
    Hangup,
    Listen,
    Other,
    Pause,
    Play,
    Record,
    Redirect,
    Say,
    describe,
    listens_for,
    parse,
    read_twiml,
    split,
)

DOC = "http://127.0.0.1:9/voice/acme/step/1/input?lang=en"
CALL = {
    "CallSid": "CA" + "1" * 32,
    "AccountSid": "AC" + "2" * 32,
    "From": "+15551234567",
    "To": "+15550000000",
    "CallStatus": "in-progress",
    "Direction": "inbound",
    "ApiVersion": "2010-04-01",
}


def play(body: str, caller: Caller | None = None, url: str = DOC) -> tuple[Turn, list[str]]:
    heard: list[str] = []
    player = TwimlPlayer(caller or ScriptedCaller(), lambda: dict(CALL), heard.append)
    turn = asyncio.run(player.play(url, parse(f"<Response>{body}</Response>", "test")))
    return turn, heard


def test_say_play_and_pause_are_heard_in_order_and_a_document_without_more_verbs_ends_the_call() -> (
    None
):
    turn, heard = play(
        '<Say voice="alice">Hello   there.</Say><Play loop="2">https://x.test/a.mp3</Play>'
        '<Pause length="3"/><Play digits="1w2"/>'
    )
    assert heard == [
        "Hello there.",
        "[playing https://x.test/a.mp3] (x2)",
        "[pause 3 s]",
        "[playing keys 1w2]",
        "[end of instructions: the call ends]",
    ]
    assert turn.ended == "end of instructions" and turn.next is None


def test_a_relative_gather_action_is_resolved_against_the_document_url() -> None:
    turn, _ = play('<Gather action="/voice/acme/step/2/input"/>', ScriptedCaller([Keys("1")]))
    assert turn.next is not None
    assert turn.next.url == "http://127.0.0.1:9/voice/acme/step/2/input"
    assert turn.next.method == "POST"
    assert turn.next.params == {**CALL, "Digits": "1", "FinishedOnKey": ""}


def test_a_path_relative_action_is_resolved_like_a_browser_would() -> None:
    turn, _ = play('<Gather action="menu?x=1"/>', ScriptedCaller([Keys("1")]))
    assert (
        turn.next is not None and turn.next.url == "http://127.0.0.1:9/voice/acme/step/1/menu?x=1"
    )


def test_a_gather_without_action_posts_back_to_the_document_itself() -> None:
    turn, _ = play("<Gather/>", ScriptedCaller([Keys("42#")]))
    assert turn.next is not None and turn.next.url == DOC
    assert turn.next.params["Digits"] == "42"
    assert turn.next.params["FinishedOnKey"] == "#"


def test_gather_and_redirect_honour_method_get() -> None:
    turn, _ = play('<Gather method="GET" action="/a"/>', ScriptedCaller([Keys("5")]))
    assert turn.next is not None and turn.next.method == "GET"
    turn, _ = play('<Redirect method="GET">/b</Redirect>')
    assert turn.next is not None and (turn.next.method, turn.next.url) == (
        "GET",
        "http://127.0.0.1:9/b",
    )


def test_num_digits_keeps_only_that_many_keys() -> None:
    turn, heard = play('<Gather numDigits="1" action="/a"/>', ScriptedCaller([Keys("12")]))
    assert turn.next is not None and turn.next.params["Digits"] == "1"
    assert heard == ["[waiting for keys] pressed 12"]


def test_prompts_nested_in_a_gather_are_heard_before_it_waits() -> None:
    _, heard = play(
        '<Gather action="/a"><Say>Press 1.</Say><Pause/></Gather>', ScriptedCaller([Keys("1")])
    )
    assert heard == ["Press 1.", "[pause 1 s]", "[waiting for keys] pressed 1"]


def test_no_input_skips_the_action_and_follows_the_redirect_after_the_gather() -> None:
    turn, heard = play(
        '<Gather action="/a"><Say>Press 1.</Say></Gather><Redirect>/voice/acme/step/1/no-input</Redirect>',
        ScriptedCaller([SILENCE]),
    )
    assert heard == ["Press 1.", "[waiting for keys] no input"]
    assert turn.next is not None
    assert turn.next.url == "http://127.0.0.1:9/voice/acme/step/1/no-input"
    assert turn.next.params == CALL


def test_a_caller_out_of_script_is_silent() -> None:
    turn, heard = play('<Gather action="/a"/><Say>Bye.</Say><Hangup/>')
    assert heard == ["[waiting for keys] no input", "Bye.", "[hang up]"]
    assert turn.ended == "hang up" and turn.next is None


def test_only_the_finish_key_counts_as_no_input() -> None:
    turn, heard = play('<Gather action="/a"/>', ScriptedCaller([Keys("#")]))
    assert heard[0] == "[waiting for keys] no input"
    assert turn.ended == "end of instructions"


def test_action_on_empty_result_requests_the_action_with_empty_digits() -> None:
    turn, _ = play('<Gather action="/a" actionOnEmptyResult="true"/>')
    assert turn.next is not None and turn.next.params["Digits"] == ""


def test_speech_is_sent_with_a_confidence_when_the_gather_listens_for_it() -> None:
    turn, heard = play(
        '<Gather input="dtmf speech" action="/a"/>', ScriptedCaller([Speech("sales please")])
    )
    assert heard == ['[waiting for keys or speech] said "sales please"']
    assert turn.next is not None
    assert turn.next.params["SpeechResult"] == "sales please"
    assert turn.next.params["Confidence"] == "0.92"


def test_speech_at_a_keys_only_gather_is_no_input() -> None:
    turn, heard = play('<Gather action="/a"/>', ScriptedCaller([Speech("sales")]))
    assert heard[0] == '[waiting for keys] said "sales", but only keys count here'
    assert turn.next is None


def test_a_record_sends_fake_recording_details_and_queues_its_callbacks() -> None:
    turn, heard = play(
        '<Record action="/voice/acme/step/3/record" recordingStatusCallback="/status/recording" '
        'transcribe="true" transcribeCallback="/status/transcription"/>',
        ScriptedCaller([Speech("Please call me back about my order")]),
    )
    assert heard == ["[beep]", '[recording] 3 s: "Please call me back about my order"']
    assert turn.next is not None
    assert turn.next.url == "http://127.0.0.1:9/voice/acme/step/3/record"
    params = turn.next.params
    assert params["RecordingSid"].startswith("RE") and len(params["RecordingSid"]) == 34
    assert params["RecordingUrl"] == (
        f"https://api.twilio.com/2010-04-01/Accounts/{CALL['AccountSid']}"
        f"/Recordings/{params['RecordingSid']}"
    )
    assert params["RecordingDuration"] == "3"
    [status] = turn.callbacks
    assert status.url == "http://127.0.0.1:9/status/recording"
    assert status.params["RecordingStatus"] == "completed"
    assert status.params["RecordingSid"] == params["RecordingSid"]
    [transcription] = turn.later
    assert transcription.url == "http://127.0.0.1:9/status/transcription"
    assert transcription.params["TranscriptionText"] == "Please call me back about my order"
    assert transcription.params["RecordingSid"] == params["RecordingSid"]


def test_a_silent_record_goes_on_with_the_next_verb() -> None:
    turn, heard = play(
        '<Record action="/rec" playBeep="false"/><Redirect>/no-recording</Redirect>',
        ScriptedCaller([SILENCE]),
    )
    assert heard == ["[recording] silence: nothing recorded"]
    assert turn.next is not None and turn.next.url == "http://127.0.0.1:9/no-recording"


def test_a_record_without_a_scripted_message_leaves_the_default_one_and_keeps_the_keys() -> None:
    caller = ScriptedCaller([Keys("1")])
    _, heard = play('<Record action="/rec"/>', caller)
    assert heard[1].startswith('[recording] 4 s: "Hello, this is a test message')
    assert list(caller.inputs) == [Keys("1")]


def test_a_dial_lists_every_destination_and_sends_the_scripted_outcome() -> None:
    turn, heard = play(
        '<Dial action="/dialled" timeout="20"><Number>+15550111</Number>'
        "<Sip>sip:desk@example.com</Sip><Client>alice</Client></Dial>",
        ScriptedCaller(dial_outcomes=["busy"]),
    )
    assert heard == ["[dialling +15550111, sip:desk@example.com, alice] busy"]
    assert turn.next is not None
    assert turn.next.params["DialCallStatus"] == "busy"
    assert turn.next.params["DialCallSid"].startswith("CA")
    assert "DialCallDuration" not in turn.next.params


def test_an_answered_dial_reports_its_duration() -> None:
    turn, _ = play('<Dial action="/d">+15550100</Dial>')
    assert turn.next is not None
    assert turn.next.params["DialCallStatus"] == "completed"
    assert turn.next.params["DialCallDuration"] == "60"


def test_a_dial_without_action_goes_on_with_the_next_verb() -> None:
    _, heard = play("<Dial><Number>+15550100</Number></Dial><Say>Bye.</Say>")
    assert heard == [
        "[dialling +15550100] completed",
        "Bye.",
        "[end of instructions: the call ends]",
    ]


def test_a_verb_the_emulator_does_not_know_ends_the_call_saying_so() -> None:
    turn, heard = play("<Pay/><Say>never heard</Say>")
    assert heard == ["[<Pay> is not emulated: the call ends here]"]
    assert turn.ended == "<Pay> is not emulated"


def test_reject_ends_the_call() -> None:
    turn, heard = play('<Reject reason="busy"/>')
    assert heard == ["[call rejected: busy]"] and turn.ended == "rejected"


def test_the_emulated_clock_counts_speech_pauses_timeouts_and_dialled_calls() -> None:
    heard: list[str] = []
    player = TwimlPlayer(ScriptedCaller([SILENCE]), lambda: dict(CALL), heard.append)
    body = (
        '<Say>one two three four five</Say><Pause length="2"/><Gather timeout="7"/><Dial>1</Dial>'
    )
    asyncio.run(player.play(DOC, parse(f"<Response>{body}</Response>", "test")))
    assert player.seconds == 5 / 2.5 + 2 + 7 + 60


def test_malformed_xml_is_reported_as_twilio_error_12100() -> None:
    with pytest.raises(EmulatorError, match=r"^the answer to the dial request is not valid XML"):
        parse("<Response><Say>unclosed</Response>", "dial")


def test_a_document_that_is_not_a_response_is_reported() -> None:
    with pytest.raises(
        EmulatorError,
        match=r"^the answer to the incoming call request is <html>, not a TwiML <Response>: "
        r"Twilio would hang up with an application error \(error 12100\)$",
    ):
        parse("<html><body>hi</body></html>", "incoming call")


def test_attributes_that_are_not_numbers_fall_back_to_twilios_defaults() -> None:
    _, heard = play('<Say loop="twice">Hi.</Say><Pause length=""/>')
    assert heard[:2] == ["Hi.", "[pause 1 s]"]


# ---- reading responses into verbs (shared with the simulator and flow tests) ----

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def test_prompts_nested_in_a_gather_come_first_and_can_be_interrupted() -> None:
    verbs = read_twiml(
        f'{HEAD}<Response><Say voice="alice">Hi</Say><Gather action="/a/step/1/input" '
        'input="dtmf speech" numDigits="1" timeout="7" hints="sales, support">'
        '<Say language="en-GB">Press 1</Say><Play loop="2">https://x/a.mp3</Play></Gather>'
        "<Redirect>/a/step/1/no-input</Redirect></Response>"
    )
    assert verbs == [
        Say("Hi", voice="alice"),
        Say("Press 1", language="en-GB", interruptible=True),
        Play("https://x/a.mp3", loop=2, interruptible=True),
        Listen(
            input="dtmf speech",
            num_digits=1,
            timeout=7,
            hints=("sales", "support"),
            action="/a/step/1/input",
        ),
        Redirect("/a/step/1/no-input"),
    ]


def test_a_reply_waits_on_its_gather_and_keeps_what_twilio_runs_after_it() -> None:
    reply = split(
        read_twiml(
            f'{HEAD}<Response><Pause length="2"/><Gather/><Say>Bye</Say><Redirect>/r</Redirect></Response>'
        )
    )
    assert reply.heard == (Pause(2),)
    assert reply.waits_on == Listen()
    assert reply.then == (Say("Bye"), Redirect("/r"))
    assert not reply.hangs_up


def test_record_and_dial_read_their_attributes_and_destinations() -> None:
    record, dial = read_twiml(
        f'{HEAD}<Response><Record action="/r" maxLength="60" playBeep="false" transcribe="true"/>'
        '<Dial action="/d" timeout="20" callerId="+15550199"><Number>+15550111</Number>'
        "<Sip>sip:a@b.example</Sip><Client>agent</Client><Queue>support</Queue></Dial></Response>"
    )
    assert record == Record(max_length=60, beep=False, transcribe=True, action="/r")
    assert dial == Dial(
        (
            ("number", "+15550111"),
            ("sip", "sip:a@b.example"),
            ("client", "agent"),
            ("queue", "support"),
        ),
        timeout=20,
        caller_id="+15550199",
        action="/d",
    )


def test_a_hangup_ends_the_reply_and_a_document_that_runs_out_hangs_up_too() -> None:
    assert split(read_twiml(f"{HEAD}<Response><Say>Bye</Say><Hangup/></Response>")).hangs_up
    ran_out = split(read_twiml(f"{HEAD}<Response><Say>Bye</Say></Response>"))
    assert ran_out.hangs_up and ran_out.heard == (Say("Bye"),) and ran_out.waits_on is None


def test_a_plain_redirect_is_followed_not_waited_on() -> None:
    reply = split(
        read_twiml(f"{HEAD}<Response><Say>Hold on</Say><Redirect>/x</Redirect></Response>")
    )
    assert reply.redirect == Redirect("/x") and reply.waits_on is None


def test_verbs_read_as_transcript_lines() -> None:
    lines = [
        describe(v)
        for v in [
            Say("Hello", loop=3),
            Play("https://x/a.mp3"),
            Pause(2),
            Listen(num_digits=4),
            Record(max_length=120),
            Dial((("number", "+15550100"), ("number", "+15550101"))),
            Hangup(),
            Redirect("/x"),
            Other("Reject", ""),
        ]
    ]
    assert lines == [
        'say "Hello" (3 times)',
        "play https://x/a.mp3",
        "pause 2s",
        "listen for keys (4 digits)",
        "record a message (up to 120s)",
        "dial +15550100, +15550101",
        "hang up",
        "redirect to /x",
        "<Reject>",
    ]


def test_what_a_gather_listens_for_is_named_the_way_a_caller_would_act() -> None:
    assert listens_for(Listen()) == "keys (end with #)"
    assert listens_for(Listen(finish_on_key="")) == "keys"
    assert listens_for(Listen(input="speech")) == "speech"
    assert listens_for(Listen(input="dtmf speech", num_digits=1)) == "keys (1 digit) or speech"
