"""`hangup` node: optionally say goodbye, then end the call."""

from ivr_engine.nodes import HangupNode
from tests.support import Call, load_valid, twiml


def test_a_minimal_hangup_just_hangs_up() -> None:
    flow = load_valid("hangup_minimal")
    node = flow.nodes["bye"]
    assert isinstance(node, HangupNode)
    assert node.targets() == []
    result = Call(flow).start()
    assert result.twiml == twiml("<Hangup />")
    assert result.session.ended
    assert result.session.end_reason == "hangup"
    assert result.session.node is None


def test_a_full_hangup_says_goodbye_in_its_voice_first() -> None:
    flow = load_valid("hangup_full")
    result = Call(flow).start()
    assert result.twiml == twiml(
        '<Say language="en-US" voice="Polly.Joanna">Thanks for calling. Goodbye.</Say><Hangup />'
    )
