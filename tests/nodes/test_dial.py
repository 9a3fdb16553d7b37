"""`dial` node: connect the caller, then branch on how the dialled call ended."""

import pytest

from ivr_engine.errors import FlowError
from ivr_engine.nodes import DialNode
from ivr_engine.runtime import EventKind
from tests.support import Call, action, load_text, load_valid, loader, twiml


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


# ---- destinations held in variables (templates) ----------------------------------------

PHARMACY = """
start: pick
vars:
  pharmacist: "+15550123"
  desk: ""
nodes:
  pick:
    type: menu
    prompt: Press 1 for the pharmacist, 2 for the desk.
    options:
      1: pharmacist
      2: set_desk
  set_desk:
    type: set
    vars:
      desk: "{{ call.from_city }}"
    next: desk
  pharmacist:
    type: dial
    to: "{{ pharmacist }}"
    caller_id: "{{ call.to }}"
    next: bye
  desk:
    type: dial
    to: ["+15550111", "{{ desk }}"]
    on:
      failed: sorry
    next: bye
  sorry:
    type: hangup
    text: Sorry, we could not connect you.
  bye:
    type: hangup
    text: Goodbye.
"""


def test_a_dial_rings_the_number_a_variable_holds_with_a_templated_caller_id() -> None:
    flow = load_text(PHARMACY)
    call = Call(flow)
    call.start()
    assert call.press("1").twiml == twiml(
        f'<Dial action="{action(flow, 2, "dial")}" callerId="+15550000000" method="POST" '
        'timeout="30"><Number>+15550123</Number></Dial>'
    )


def test_a_rendered_number_that_is_not_e164_takes_on_failed_and_the_log_names_node_and_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    call = Call(load_text(PHARMACY), FromCity="Springfield")
    call.start()
    with caplog.at_level("WARNING", logger="ivr_engine.nodes.dial"):
        result = call.press("2")
    assert result.error is None
    assert result.session.path == ["pick", "set_desk", "desk", "sorry"]
    assert result.twiml == twiml(
        '<Say language="en-US">Sorry, we could not connect you.</Say><Hangup />'
    )
    assert 'node "desk", field "to.1": "Springfield" is not a phone number' in caplog.text
    assert 'taking on: failed ("sorry")' in caplog.text


def test_a_rendered_number_that_is_not_valid_without_on_failed_takes_the_flows_on_error() -> None:
    flow = load_text(
        """
start: transfer
on_error: oops
vars:
  agent: "ext. 12"
nodes:
  transfer:
    type: dial
    to: "{{ agent }}"
    next: bye
  oops:
    type: hangup
    text: Please call back later.
  bye:
    type: hangup
"""
    )
    result = Call(flow).start()
    assert "cannot dial" in (result.error or "")
    assert 'node "transfer", field "to": "ext. 12"' in (result.error or "")
    assert result.twiml == twiml(
        '<Say language="en-US">We\'re sorry, something went wrong.</Say>'
        '<Say language="en-US">Please call back later.</Say><Hangup />'
    )


@pytest.mark.parametrize(
    ("field", "value", "verb"),
    [
        ("sip", "{{ line }}", "<Sip>sip:desk@pbx.example.com</Sip>"),
        ("client", "{{ line }}", "<Client>sip:desk@pbx.example.com</Client>"),
    ],
)
def test_sip_and_client_destinations_may_be_templates(field: str, value: str, verb: str) -> None:
    flow = load_text(
        f"""
start: transfer
vars:
  line: "sip:desk@pbx.example.com"
nodes:
  transfer:
    type: dial
    {field}: "{value}"
"""
    )
    assert verb in Call(flow).start().twiml


def test_a_rendered_sip_address_without_sip_prefix_fails_the_step() -> None:
    flow = load_text(
        """
start: transfer
vars:
  line: "desk@pbx.example.com"
nodes:
  transfer:
    type: dial
    sip: "{{ line }}"
"""
    )
    result = Call(flow).start()
    assert 'field "sip": "desk@pbx.example.com" is not a SIP address' in (result.error or "")


def test_a_template_in_dial_naming_an_unknown_variable_is_refused_at_load_time() -> None:
    with pytest.raises(
        FlowError, match='field "to": uses the variable "pharmacits", which nothing'
    ):
        loader().load_text(
            'start: d\nnodes:\n  d:\n    type: dial\n    to: "{{ pharmacits }}"\n', "t.yaml", "t"
        )
