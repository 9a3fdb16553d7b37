"""TwiML responses read back into what the caller hears, split the way Twilio runs them."""

from ivr_engine.tooling.twiml import (
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
    read_twiml,
    split,
)

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
