"""`menu` node: pick an option by key or spoken word; re-prompt on silence or a wrong key."""

from ivr_engine.nodes import MenuNode
from tests.support import Call, action, load_valid, twiml

FULL_PROMPT = (
    '<Say language="en-GB" voice="Polly.Joanna">'
    "Say sales or support, or press 1 or 2. Press star for the operator.</Say>"
)


def _full_gather(step: int, lead_in: str = "") -> str:
    flow_url = "https://ivr.example.com/voice/menu_full"
    return (
        # the menu has a "#" option: finishOnKey="" keeps Twilio from ending the input at "#"
        f'<Gather action="{flow_url}/step/{step}/input" finishOnKey="" '
        'hints="sales, buy something, support, help" '
        'input="dtmf speech" language="en-GB" method="POST" numDigits="1" speechTimeout="auto" '
        f'timeout="7">{lead_in}{FULL_PROMPT}</Gather>'
        f'<Redirect method="POST">{flow_url}/step/{step}/no-input</Redirect>'
    )


def test_a_minimal_menu_asks_for_one_key_and_follows_the_option() -> None:
    flow = load_valid("menu_minimal")
    node = flow.nodes["main_menu"]
    assert isinstance(node, MenuNode)
    assert [(t.label, t.node_id) for t in node.targets()] == [("1", "sales")]
    call = Call(flow)
    first = call.start()
    assert first.twiml == twiml(
        f'<Gather action="{action(flow, 1, "input")}" input="dtmf" language="en-US" '
        'method="POST" numDigits="1" timeout="5"><Say language="en-US">Press 1 for sales.</Say>'
        f'</Gather><Redirect method="POST">{action(flow, 1, "no-input")}</Redirect>'
    )
    assert first.session.node == "main_menu"
    chosen = call.press("1")
    assert chosen.twiml == twiml('<Say language="en-US">Sales is closed today.</Say><Hangup />')
    assert chosen.session.path == ["main_menu", "sales"]


def test_a_minimal_menu_hangs_up_after_three_wrong_keys() -> None:
    call = Call(load_valid("menu_minimal"))
    call.start()
    assert "Press 1 for sales." in call.press("9").twiml
    assert "Press 1 for sales." in call.press("8").twiml
    last = call.press("7")
    assert last.twiml == twiml("<Hangup />")
    assert last.session.ended
    assert last.session.end_reason == "no valid input"


def test_a_full_menu_keeps_star_and_hash_keys_and_spoken_words() -> None:
    flow = load_valid("menu_full")
    node = flow.nodes["main_menu"]
    assert [(t.label, t.node_id) for t in node.targets()] == [
        ("1", "sales"),
        ("2", "support"),
        ("*", "operator"),
        ("#", "main_menu"),
        ("failure", "operator"),
    ]
    assert node.spoken() == {"1": ["sales", "buy something"], "2": ["support", "help"]}
    assert Call(flow).start().twiml == twiml(_full_gather(1))


def test_a_full_menu_understands_a_spoken_phrase_containing_an_options_words() -> None:
    call = Call(load_valid("menu_full"))
    call.start()
    result = call.say("I'd like to buy something, please")
    assert result.twiml == twiml('<Say language="en-US">Sales.</Say><Hangup />')
    assert result.session.path == ["main_menu", "sales"]


def test_a_menu_without_a_hash_option_leaves_twilios_finish_key_alone() -> None:
    assert "finishOnKey" not in Call(load_valid("menu_minimal")).start().twiml


def test_a_full_menu_routes_the_hash_key() -> None:
    call = Call(load_valid("menu_full"))
    call.start()
    assert call.press("#").session.path == ["main_menu", "main_menu"]


def test_a_full_menu_routes_the_star_key() -> None:
    call = Call(load_valid("menu_full"))
    call.start()
    assert call.press("*").session.path == ["main_menu", "operator"]


def test_a_full_menu_says_its_no_match_text_before_asking_again() -> None:
    call = Call(load_valid("menu_full"))
    call.start()
    result = call.press("5")
    lead_in = '<Say language="en-GB" voice="Polly.Joanna">Sorry, I didn\'t get that.</Say>'
    assert result.twiml == twiml(_full_gather(2, lead_in))
    assert result.session.attempts == {"main_menu": 1}


def test_a_full_menu_goes_to_on_failure_after_its_attempts_of_silence() -> None:
    call = Call(load_valid("menu_full"))
    call.start()
    lead_in = '<Say language="en-GB" voice="Polly.Joanna">Sorry, I didn\'t hear anything.</Say>'
    assert call.silence().twiml == twiml(_full_gather(2, lead_in))
    result = call.silence()
    assert result.twiml == twiml('<Say language="en-US">Operator.</Say><Hangup />')
    assert result.session.path == ["main_menu", "operator"]


def test_a_menu_option_leading_back_to_itself_starts_its_attempts_afresh() -> None:
    call = Call(load_valid("menu_full"))
    call.start()
    call.press("5")
    again = call.press("#")
    assert again.twiml == twiml(_full_gather(3))
    assert again.session.attempts == {}
