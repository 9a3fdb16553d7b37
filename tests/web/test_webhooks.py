"""Twilio's paths: signature first, then the webhook; unknown paths and methods answered as HTTP says."""

from __future__ import annotations

import pytest

from ivr_engine.web.voice_webhooks import voice_webhooks
from ivr_engine.web.webhooks import Webhook
from tests.conftest import Twilio

pytestmark = pytest.mark.backends("sqlite", "postgresql")

SID = "CA" + "6" * 32


async def _never(scope, params):  # type: ignore[no-untyped-def]
    raise AssertionError("not called")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("voice/acme/step/3/input", {"flow_id": "acme", "step": 3, "kind": "input"}),
        ("voice/acme/step/x/input", None),  # the step is a number
        ("voice/acme/step/²/input", None),  # a digit for str.isdigit(), not for int()
        ("voice/acme/step/٣/input", None),  # a digit for int(), but not an ASCII one
        ("voice/acme/step/-1/input", None),
        pytest.param("voice/acme/step/" + "9" * 5000 + "/input", None, id="5000-digit step"),
        ("voice//step/3/input", None),  # a flow id is never empty
        ("voice/acme/step/3", None),
        ("voice/acme/step/3/input/more", None),
        ("voice/acme/stop/3/input", None),
    ],
)
def test_a_path_matches_segment_by_segment(path: str, expected: object) -> None:
    webhook = Webhook("/voice/{flow_id}/step/{step:int}/{kind}", _never)
    assert webhook.match(path.split("/")) == expected


def test_every_voice_webhook_path_is_unambiguous() -> None:
    samples = ["voice/f/step/1/input", "status/call", "status/recording", "status/transcription"]
    samples.append("voice/f")
    for sample in samples:
        matching = [w.path for w in voice_webhooks if w.match(sample.split("/")) is not None]
        assert len(matching) == 1, (sample, matching)


def test_an_unknown_twilio_path_is_404_once_signed_and_403_before(twilio: Twilio) -> None:
    assert twilio.post("/voice/acme/step/x/input", {"CallSid": SID}).status_code == 404
    assert twilio.post("/status/nothing", {"CallSid": SID}).status_code == 404
    unsigned = twilio.client.post("/status/nothing", data={"CallSid": SID})
    assert unsigned.status_code == 403


def test_a_wrong_method_is_405_with_the_allowed_ones(twilio: Twilio) -> None:
    response = twilio.get(f"/status/call?CallSid={SID}")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_a_callback_is_acknowledged_with_an_empty_204(twilio: Twilio) -> None:
    response = twilio.post("/status/call", {"CallSid": SID, "CallStatus": "completed"})
    assert response.status_code == 204
    assert response.content == b""
    assert "content-length" not in response.headers


def test_twiml_is_sent_as_xml_with_its_length(twilio: Twilio) -> None:
    response = twilio.post("/voice/acme", {"CallSid": SID, "From": "+15551234567"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?><Response>')


def test_other_paths_still_reach_the_starlette_routes(twilio: Twilio) -> None:
    assert twilio.client.get("/healthz").status_code == 200
    assert twilio.client.get("/nowhere").status_code == 404
