"""Cached TwiML text is exactly what the SDK would write, for every distinct document."""

from twilio.twiml.voice_response import VoiceResponse

from ivr_engine.runtime.twiml import render


def build(step: int, text: str, beep: bool | int) -> VoiceResponse:
    response = VoiceResponse()
    gather = response.gather(action=f"/voice/a/step/{step}/input", num_digits=1)
    gather.say(text, language="en-US")
    response.record(play_beep=beep)
    return response


def test_a_cached_document_is_the_sdks_own_text() -> None:
    first = build(1, "Press 1", True)
    assert render(first) == first.to_xml()
    again = build(1, "Press 1", True)
    assert render(again) == again.to_xml()


def test_documents_differing_in_any_detail_get_their_own_text() -> None:
    variants = [
        build(1, "Press 1", True),
        build(2, "Press 1", True),
        build(1, "Press 2", True),
        build(1, "Press 1", 1),
    ]
    texts = [render(v) for v in variants]
    assert texts == [v.to_xml() for v in variants]
    assert len(set(texts)) == 4  # bool True renders "true", the number 1 renders "1"
