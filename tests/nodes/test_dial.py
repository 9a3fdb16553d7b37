"""`dial` node: connect the caller, then branch on how the dialled call ended."""

import pytest

from ivr_engine.nodes import DialNode
from ivr_engine.runtime import EventKind
from tests.support import Call, action, load_text, load_valid, twiml


def test_a_minimal_dial_rings_one_number_for_thirty_seconds() -> None:
    flow = load_valid("dial_minimal")
    node = flow.nodes["sales"]
    assert isinstance(node, DialNode)
    assert node.destination() == ("to", "+15550100")
    call = Call(flow)
    assert call.start().twiml == twiml(
        f'<Dial action="{action(flow, 1, "dial")}" method="POST" timeout="30">'
        "<Number>+15550100</Number></Dial>"
    )
    after = call.send(EventKind.DIAL, DialCallStatus="completed")
    assert after.twiml == twiml("<Hangup />")
    assert after.session.end_reason == "dial completed"


def test_a_full_dial_rings_numbers_together_with_every_option() -> None:
    flow = load_valid("dial_full")
    node = flow.nodes["support"]
    # unquoted phone numbers stay text; `on:` stays the key "on", not YAML's True
    assert node.destination() == ("to", ("+15550111", "+15550112"))
    assert node.field("caller_id") == "+15550199"
    assert [(t.label, t.node_id) for t in node.targets()] == [
        ("completed", "goodbye"),
        ("answered", "goodbye"),
        ("busy", "voicemail"),
        ("no-answer", "voicemail"),
        ("failed", "sorry"),
        ("canceled", "goodbye"),
        ("other outcome", "voicemail"),
    ]
    assert Call(flow).start().twiml == twiml(
        f'<Dial action="{action(flow, 1, "dial")}" callerId="+15550199" method="POST" '
        'record="record-from-answer" timeLimit="3600" timeout="20">'
        "<Number>+15550111</Number><Number>+15550112</Number></Dial>"
    )


@pytest.mark.parametrize(
    ("status", "path"),
    [
        ("completed", ["support", "goodbye"]),
        ("busy", ["support", "voicemail"]),
        ("no-answer", ["support", "voicemail"]),
        ("failed", ["support", "sorry"]),
        ("something-new", ["support", "voicemail"]),
    ],
)
def test_a_full_dial_goes_where_its_outcome_says(status: str, path: list[str]) -> None:
    call = Call(load_valid("dial_full"))
    call.start()
    assert call.send(EventKind.DIAL, DialCallStatus=status).session.path == path


@pytest.mark.parametrize(
    ("destination", "noun"),
    [
        ("sip: sip:sales@pbx.example.com", "<Sip>sip:sales@pbx.example.com</Sip>"),
        ("client: agent_anna", "<Client>agent_anna</Client>"),
        ("queue: support", "<Queue>support</Queue>"),
    ],
)
def test_a_dial_can_call_a_sip_address_a_client_or_a_queue(destination: str, noun: str) -> None:
    flow = load_text(f"start: d\nnodes:\n  d:\n    type: dial\n    {destination}\n")
    assert Call(flow).start().twiml == twiml(
        f'<Dial action="{action(flow, 1, "dial")}" method="POST" timeout="30">{noun}</Dial>'
    )
