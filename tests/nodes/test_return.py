"""`return` node: end a subflow and go back to the flow that ran it, or hang up when dialled."""

from ivr_engine.nodes import ReturnNode
from tests.support import Call, load_valid, twiml, valid_folder


def test_a_minimal_return_hangs_up_when_its_flow_is_dialled_directly() -> None:
    flow = load_valid("return_minimal")
    node = flow.nodes["back"]
    assert isinstance(node, ReturnNode)
    assert node.targets() == []
    result = Call(flow).start()
    assert result.twiml == twiml('<Say language="en-US">Thanks for waiting.</Say><Hangup />')
    assert (result.session.path, result.session.end_reason) == (["thanks", "back"], "end of flow")


def test_a_minimal_return_goes_back_to_the_subflow_node_that_ran_it() -> None:
    result = Call(load_valid("subflow_minimal"), services=valid_folder()).start()
    assert result.session.path == ["hold", "return_minimal:thanks", "return_minimal:back"]
    assert result.session.stack == []
    # back in subflow_minimal, whose subflow node has no next: the call ends there
    assert result.twiml == twiml('<Say language="en-US">Thanks for waiting.</Say><Hangup />')
    assert result.session.end_reason == "end of flow"


def test_a_full_return_flow_hands_back_its_variables_from_either_return() -> None:
    flow = load_valid("return_full")
    assert [n.id for n in flow.nodes.values() if isinstance(n, ReturnNode)] == ["done", "gave_up"]
    verified = Call(load_valid("subflow_full"), services=valid_folder())
    verified.start()
    assert verified.press("4321").session.vars["pin_check"] == {
        "account": "1234",
        "pin": "4321",
        "ok": "yes",
    }
    silent = Call(load_valid("subflow_full"), services=valid_folder())
    silent.start()
    silent.silence()
    gave_up = silent.silence()
    assert gave_up.session.path == ["verify", "return_full:ask", "return_full:gave_up", "result"]
    assert gave_up.session.vars["pin_check"] == {"account": "1234", "pin": "", "ok": "no"}


def test_a_full_return_flow_dialled_directly_hangs_up_at_its_return() -> None:
    call = Call(load_valid("return_full"))
    call.start()
    result = call.press("4321")
    assert result.twiml == twiml("<Hangup />")
    assert result.session.path == ["ask", "check", "good", "done"]
    assert result.session.vars == {"account": "", "pin": "4321", "ok": "yes"}
