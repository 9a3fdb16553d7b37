"""`say` node: speak a text (or one text per language), then continue or end the call."""

from ivr_engine.nodes import SayNode
from tests.support import Call, load_valid, twiml


def test_a_minimal_say_speaks_its_text_in_the_flow_language_and_hangs_up() -> None:
    flow = load_valid("say_minimal")
    node = flow.nodes["welcome"]
    assert isinstance(node, SayNode)
    assert node.targets() == []
    assert flow.language == "en-US"
    result = Call(flow).start()
    assert result.twiml == twiml('<Say language="en-US">Thanks for calling.</Say><Hangup />')
    assert result.session.ended
    assert result.session.path == ["welcome"]


def test_a_full_say_picks_the_calls_language_from_a_language_map() -> None:
    flow = load_valid("say_full")
    text = flow.text("welcome", ("text",))
    assert text is not None
    assert dict(text.by_language) == {
        "en-US": "Thanks for calling {{ company }}.",
        "es-MX": "Gracias por llamar a {{ company }}.",
    }
    assert text.variables == {"company"}
    assert [t.node_id for t in flow.nodes["welcome"].targets()] == ["goodbye"]
    result = Call(flow).start()
    assert result.twiml == twiml(
        '<Say language="es-MX" loop="2" voice="Polly.Mia">Gracias por llamar a Acme.</Say>'
        "<Hangup />"
    )
    assert result.session.path == ["welcome", "goodbye"]
