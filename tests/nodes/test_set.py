"""`set` node: set variables, and switch the call's language or voice from here on."""

from ivr_engine.nodes import SetNode
from tests.support import Call, load_valid, twiml


def test_a_minimal_set_sets_a_variable_later_nodes_read() -> None:
    flow = load_valid("set_minimal")
    node = flow.nodes["remember"]
    assert isinstance(node, SetNode)
    assert node.variables_written() == [(("vars", "reason"), "reason")]
    result = Call(flow).start()
    assert result.session.vars == {"reason": "billing"}
    assert result.twiml == twiml('<Say language="en-US">Reason: billing.</Say><Hangup />')


def test_a_full_set_renders_templates_keeps_other_values_and_switches_language() -> None:
    flow = load_valid("set_full")
    greeting = flow.text("remember", ("vars", "greeting"))
    assert greeting is not None and greeting.variables == {"first_name"}
    result = Call(flow).start()
    assert result.session.vars == {
        "first_name": "Ana",
        "greeting": "Hola Ana",
        "attempts_left": 3,
        "vip": True,
        "note": None,
    }
    assert result.session.language == "es-MX"
    assert result.session.voice == "Polly.Mia"
    assert result.twiml == twiml(
        '<Say language="es-MX" voice="Polly.Mia">Hola Ana, adiós.</Say><Hangup />'
    )
