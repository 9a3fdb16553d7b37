"""`gather` node: collect digits or speech into a variable, checked against a pattern."""

from ivr_engine.nodes import GatherNode
from tests.support import Call, action, load_valid, twiml

FULL_PROMPT = (
    '<Say language="en-US" voice="Polly.Joanna">'
    "Please enter or say your 8-digit account number.</Say>"
)


def test_a_minimal_gather_stores_the_keys_in_its_variable() -> None:
    flow = load_valid("gather_minimal")
    node = flow.nodes["ask_zip"]
    assert isinstance(node, GatherNode)
    assert node.variables_written() == [(("into",), "zip")]
    call = Call(flow)
    assert call.start().twiml == twiml(
        f'<Gather action="{action(flow, 1, "input")}" input="dtmf" language="en-US" '
        'method="POST" timeout="5"><Say language="en-US">Enter your zip code.</Say></Gather>'
        f'<Redirect method="POST">{action(flow, 1, "no-input")}</Redirect>'
    )
    result = call.press("90210")
    assert result.session.vars == {"zip": "90210"}
    assert result.twiml == twiml(
        '<Say language="en-US">Thanks. You entered 9 0 2 1 0.</Say><Hangup />'
    )


def test_a_full_gather_sets_every_gather_attribute() -> None:
    flow = load_valid("gather_full")
    assert [(t.label, t.node_id) for t in flow.nodes["ask_account"].targets()] == [
        ("answer", "thanks"),
        ("failure", "agent"),
    ]
    assert Call(flow).start().twiml == twiml(
        f'<Gather action="{action(flow, 1, "input")}" finishOnKey="#" hints="account number" '
        'input="dtmf speech" language="en-US" method="POST" numDigits="8" speechTimeout="auto" '
        f'timeout="10">{FULL_PROMPT}</Gather>'
        f'<Redirect method="POST">{action(flow, 1, "no-input")}</Redirect>'
    )


def test_a_full_gather_accepts_a_spoken_answer_matching_its_pattern() -> None:
    call = Call(load_valid("gather_full"))
    call.start()
    result = call.say("12345678")
    assert result.session.vars == {"account": "12345678"}
    assert result.twiml == twiml(
        '<Say language="en-US">Thanks. Account 1 2 3 4 5 6 7 8.</Say><Hangup />'
    )


def test_a_full_gather_refuses_an_answer_not_matching_its_pattern_then_gives_up() -> None:
    flow = load_valid("gather_full")
    call = Call(flow)
    call.start()
    again = call.press("123")
    assert again.session.vars == {}
    assert again.twiml == twiml(
        f'<Gather action="{action(flow, 2, "input")}" finishOnKey="#" hints="account number" '
        'input="dtmf speech" language="en-US" method="POST" numDigits="8" speechTimeout="auto" '
        'timeout="10"><Say language="en-US" voice="Polly.Joanna">That is not an 8-digit account '
        f"number.</Say>{FULL_PROMPT}</Gather>"
        f'<Redirect method="POST">{action(flow, 2, "no-input")}</Redirect>'
    )
    failed = call.press("456")
    assert failed.session.path == ["ask_account", "agent"]
    assert failed.twiml == twiml(
        f'<Dial action="{action(flow, 3, "dial")}" method="POST" timeout="30">'
        "<Number>+15550100</Number></Dial>"
    )


def test_a_spoken_number_is_matched_without_the_spaces_and_full_stop_recognition_adds() -> None:
    call = Call(load_valid("gather_full"))
    call.start()
    result = call.say("1234 5678.")
    assert result.session.vars == {"account": "12345678"}
    assert result.session.path == ["ask_account", "thanks"]


def test_spoken_words_that_are_no_number_still_do_not_match_a_digits_pattern() -> None:
    call = Call(load_valid("gather_full"))
    call.start()
    assert call.say("I don't know it.").session.attempts == {"ask_account": 1}
