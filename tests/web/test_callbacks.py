"""Status callbacks: call status closes sessions; recordings and transcriptions fill variables."""

from __future__ import annotations

import json

import pytest

from ivr_engine.web import Settings
from tests.conftest import Twilio, query, values
from tests.web.calls import Call

pytestmark = pytest.mark.backends("sqlite", "postgresql")

REC_SID = "RE" + "3" * 32


def stored(settings: Settings, call_sid: str) -> dict:  # type: ignore[type-arg]
    [row] = query(settings, "SELECT data FROM sessions WHERE call_sid = ?", (call_sid,))
    return json.loads(row["data"])  # type: ignore[no-any-return]


def leave_voicemail(twilio: Twilio) -> Call:
    call = Call(twilio, "acme")
    call.start()
    call.press("0")
    call.record(url="https://api.twilio.com/rec/" + REC_SID, sid=REC_SID, seconds="12")
    return call


def test_the_record_action_stores_url_sid_and_duration_in_the_variable(
    twilio: Twilio, settings: Settings
) -> None:
    call = leave_voicemail(twilio)
    assert stored(settings, call.sid)["vars"]["voicemail"] == {
        "url": "https://api.twilio.com/rec/" + REC_SID,
        "sid": REC_SID,
        "duration": 12,
        "transcription": None,
    }


def test_transcription_text_goes_into_the_record_nodes_variable_even_after_hangup(
    twilio: Twilio, settings: Settings
) -> None:
    call = leave_voicemail(twilio)
    completed = twilio.post(
        "/status/call", {**call.base_params, "CallStatus": "completed", "CallDuration": "40"}
    )
    assert completed.status_code == 204
    params = {
        "CallSid": call.sid,
        "RecordingSid": REC_SID,
        "TranscriptionSid": "TR" + "1" * 32,
        "TranscriptionText": "Please call me back about my order.",
        "TranscriptionStatus": "completed",
    }
    assert twilio.post("/status/transcription", params).status_code == 204
    session = stored(settings, call.sid)
    assert session["vars"]["voicemail"]["transcription"] == "Please call me back about my order."
    assert session["ended"] is True
    assert session["call"]["duration"] == 40


def test_recording_status_updates_the_recording(twilio: Twilio, settings: Settings) -> None:
    call = leave_voicemail(twilio)
    params = {
        "CallSid": call.sid,
        "RecordingSid": REC_SID,
        "RecordingStatus": "completed",
        "RecordingDuration": "13",
        "RecordingUrl": "https://api.twilio.com/rec/final",
    }
    assert twilio.post("/status/recording", params).status_code == 204
    recording = stored(settings, call.sid)["vars"]["voicemail"]
    assert (recording["status"], recording["duration"], recording["url"]) == (
        "completed",
        13,
        "https://api.twilio.com/rec/final",
    )


def test_a_completed_call_closes_its_session_and_later_actions_only_replay(
    twilio: Twilio, settings: Settings
) -> None:
    call = Call(twilio, "acme")
    call.start()
    gather_url = call.last.url("Gather")
    twilio.post("/status/call", {**call.base_params, "CallStatus": "completed"})
    session = stored(settings, call.sid)
    assert session["ended"] is True and session["node"] is None and session["status"] == "completed"
    late = twilio.post(gather_url, {**call.base_params, "Digits": "1"})
    assert late.status_code == 200 and "<Dial" not in late.text


def test_callbacks_for_unknown_calls_are_acknowledged_and_change_nothing(
    twilio: Twilio, settings: Settings
) -> None:
    assert (
        twilio.post(
            "/status/call", {"CallSid": "CA" + "8" * 32, "CallStatus": "completed"}
        ).status_code
        == 204
    )
    assert values(settings, "SELECT count(*) FROM sessions") == [(0,)]
