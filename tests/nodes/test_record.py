"""`record` node: record the caller; the recording lands in a variable."""

from ivr_engine.nodes import RecordNode
from ivr_engine.runtime import EventKind
from tests.support import PREFIX, Call, action, load_valid, twiml

RECORDING = {
    "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
    "RecordingSid": "RE1",
    "RecordingDuration": "7",
    "Digits": "#",
}


def test_a_minimal_record_records_with_twilio_defaults_and_comes_back_on_silence() -> None:
    flow = load_valid("record_minimal")
    assert isinstance(flow.nodes["voicemail"], RecordNode)
    call = Call(flow)
    assert call.start().twiml == twiml(
        f'<Record action="{action(flow, 1, "record")}" finishOnKey="1234567890*#" '
        'maxLength="120" method="POST" playBeep="true" '
        f'recordingStatusCallback="{PREFIX}/status/recording" '
        'recordingStatusCallbackMethod="POST" timeout="5" />'
        f'<Redirect method="POST">{action(flow, 1, "no-recording")}</Redirect>'
    )
    after = call.send(EventKind.NO_RECORDING)
    assert after.session.path == ["voicemail", "thanks"]
    assert after.twiml == twiml("<Hangup />")


def test_a_full_record_stores_the_recording_for_later_nodes() -> None:
    flow = load_valid("record_full")
    assert flow.nodes["voicemail"].variables_written() == [(("into",), "message")]
    call = Call(flow)
    assert call.start().twiml == twiml(
        '<Say language="en-US" voice="alice">Please leave a message after the tone, then press '
        f'pound.</Say><Record action="{action(flow, 1, "record")}" finishOnKey="#" '
        'maxLength="60" method="POST" playBeep="false" '
        f'recordingStatusCallback="{PREFIX}/status/recording" '
        'recordingStatusCallbackMethod="POST" timeout="3" transcribe="true" '
        f'transcribeCallback="{PREFIX}/status/transcription" />'
        f'<Redirect method="POST">{action(flow, 1, "no-recording")}</Redirect>'
    )
    result = call.send(EventKind.RECORD, **RECORDING)
    assert result.session.vars == {
        "message": {
            "url": RECORDING["RecordingUrl"],
            "sid": "RE1",
            "duration": 7,
            "transcription": None,
        }
    }
    assert result.twiml == twiml(
        '<Say language="en-US">Thanks, we got your 7 second message.</Say><Hangup />'
    )
