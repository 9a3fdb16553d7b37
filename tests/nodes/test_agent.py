"""`agent` node: hand the call to a ConversationRelay voice agent and take it back after."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from ivr_engine.nodes import AgentNode
from ivr_engine.runtime import EventKind
from tests.support import Call, action, load_valid, twiml

SESSION = {"SessionId": "VX" + "4" * 32, "SessionDuration": "95", "CallStatus": "in-progress"}


def test_a_minimal_agent_connects_to_the_websocket_in_the_calls_language() -> None:
    flow = load_valid("agent_minimal")
    assert isinstance(flow.nodes["assistant"], AgentNode)
    assert Call(flow).start().twiml == twiml(
        f'<Connect action="{action(flow, 1, "connect")}" method="POST">'
        '<ConversationRelay language="en-US" url="wss://agent.example.com/relay" />'
        "</Connect>"
    )


def test_a_full_agent_sets_every_documented_attribute_and_its_parameters() -> None:
    flow = load_valid("agent_full")
    root = ET.fromstring(Call(flow).start().twiml)
    connect = root.find("Connect")
    assert connect is not None
    assert connect.attrib == {"action": action(flow, 1, "connect"), "method": "POST"}
    relay = connect.find("ConversationRelay")
    assert relay is not None
    assert relay.attrib == {
        "url": "wss://agent.example.com/relay",
        "welcomeGreeting": "Hi! I'm the virtual assistant. How can I help?",
        "language": "en-US",
        "voice": "en-US-Journey-O",
        "ttsProvider": "Google",
        "transcriptionProvider": "Deepgram",
        "speechModel": "nova-3-general",
        "interruptible": "any",
        "dtmfDetection": "true",
        "hints": "Acme,refund",
    }
    assert [(p.tag, p.attrib) for p in relay] == [
        ("Parameter", {"name": "account", "value": "1234"}),
        ("Parameter", {"name": "caller", "value": "+15551230000"}),
    ]


def test_a_hand_off_asking_for_a_human_resumes_the_flow_with_the_parsed_handoff_data() -> None:
    call = Call(load_valid("agent_full"))
    call.start()
    handoff = {"reason": "human", "summary": "wants a refund"}
    after = call.send(
        EventKind.CONNECT, SessionStatus="ended", HandoffData=json.dumps(handoff), **SESSION
    )
    assert after.session.path == ["assistant", "after_agent", "human"]
    assert after.session.vars["agent"] == {
        "status": "ended",
        "handoff": handoff,
        "duration": 95,
        "session_id": SESSION["SessionId"],
    }
    assert ET.fromstring(after.twiml).find("Dial") is not None


def test_a_hand_off_without_data_goes_on_at_next() -> None:
    call = Call(load_valid("agent_full"))
    call.start()
    after = call.send(EventKind.CONNECT, SessionStatus="ended", **SESSION)
    assert after.session.path == ["assistant", "after_agent", "goodbye"]
    assert after.session.vars["agent"]["handoff"] is None


def test_handoff_data_that_is_not_json_is_kept_as_text() -> None:
    call = Call(load_valid("agent_minimal"))
    call.start()
    after = call.send(EventKind.CONNECT, SessionStatus="ended", HandoffData="human", **SESSION)
    assert after.session.vars["agent"]["handoff"] == "human"


def test_a_failed_session_goes_to_on_failure_with_the_error() -> None:
    call = Call(load_valid("agent_full"))
    call.start()
    after = call.send(
        EventKind.CONNECT,
        SessionStatus="failed",
        ErrorCode="39001",
        ErrorMessage="Network connection to WebSocket server failed",
        **SESSION,
    )
    assert after.session.path == ["assistant", "human"]
    assert after.session.vars["agent"]["error_code"] == "39001"


@pytest.mark.parametrize("params", [{"SessionStatus": "completed"}, {"CallStatus": "completed"}])
def test_a_caller_who_hung_up_on_the_agent_ends_the_call(params: dict[str, str]) -> None:
    call = Call(load_valid("agent_full"))
    call.start()
    after = call.send(EventKind.CONNECT, **{**SESSION, "SessionStatus": "ended", **params})
    assert after.session.ended
    assert after.session.path == ["assistant"]
