"""`message` node: queue an SMS or WhatsApp message; the call goes on at once."""

from ivr_engine.nodes import MessageNode
from tests.support import CALLER, Call, load_valid, twiml


def test_a_minimal_message_texts_the_caller_and_the_call_goes_on() -> None:
    flow = load_valid("message_minimal")
    assert isinstance(flow.nodes["text_link"], MessageNode)
    result = Call(flow).start()
    assert result.twiml == twiml("<Hangup />")
    assert [m.as_dict() for m in result.messages] == [
        {
            "flow_id": "message_minimal",
            "node_id": "text_link",
            "call_sid": CALLER["CallSid"],
            "channel": "sms",
            "to": "+15551230000",
            "sender": None,
            "body": "Here is the link to pay your bill.",
            "media_url": None,
            "template": None,
            "template_vars": {},
            "fallback": "none",
            "step": 1,
            "fallback_sender": None,
        }
    ]


def test_a_full_message_renders_every_field_for_whatsapp() -> None:
    flow = load_valid("message_full")
    assert flow.settings == {"sms_from": "+15550199", "whatsapp_from": "whatsapp:+15550199"}
    result = Call(flow).start()
    assert result.session.path == ["confirm", "goodbye"]
    assert result.twiml == twiml(
        '<Say language="en-US">We sent you the details. Goodbye.</Say><Hangup />'
    )
    (message,) = result.messages
    assert message.channel == "whatsapp"
    assert message.to == "whatsapp:+15551230000"
    assert message.sender == "whatsapp:+15550199"
    assert message.body == "Your appointment is at 3 PM."
    assert message.media_url == "https://example.com/map.png"
    assert message.template == "HX0123456789abcdef0123456789abcdef"
    assert message.template_vars == {"1": "3 PM"}
    assert message.fallback == "sms"
    assert message.fallback_sender == "+15550199"  # the flow's sms_from, for the SMS fallback


def test_a_message_without_next_may_end_the_after_call_chain() -> None:
    flow = load_valid("message_full")
    assert flow.on_hangup == "missed_call_text"
    node = flow.nodes["missed_call_text"]
    assert not node.voice_only
    assert node.targets() == []
