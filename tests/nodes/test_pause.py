"""`pause` node: a moment of silence (1 second unless told), then continue."""

from ivr_engine.nodes import PauseNode
from tests.support import Call, load_valid, twiml


def test_a_minimal_pause_is_silent_for_one_second() -> None:
    flow = load_valid("pause_minimal")
    assert isinstance(flow.nodes["wait"], PauseNode)
    assert Call(flow).start().twiml == twiml('<Pause length="1" /><Hangup />')


def test_a_full_pause_waits_its_seconds_then_continues_in_the_same_response() -> None:
    flow = load_valid("pause_full")
    assert flow.nodes["wait"].field("seconds") == 3
    result = Call(flow).start()
    assert result.twiml == twiml('<Pause length="3" /><Say language="en-US">Hello?</Say><Hangup />')
    assert result.session.path == ["wait", "hello"]
