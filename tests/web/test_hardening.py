"""Issue 10's webhook-layer failures, each reproduced through a real server over real sockets.

Every test here failed before its fix: a 500, a dropped kept-alive connection, a lost
callback (503), a consent change applied twice, or a request waited on forever.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from ivr_engine.web import Settings, create_app
from tests.conftest import values
from tests.web.live import FORM, Connection, healthy, live_server, signed_post

pytestmark = pytest.mark.backends("sqlite", "postgresql")

CALL_SID = "CA" + "7" * 32
ROUTES = [
    "/voice/acme",
    "/voice/acme/step/1/input",
    "/status/call",
    "/status/recording",
    "/status/transcription",
    "/status/message",
    "/messaging/inbound",
]
CALLER = {
    "CallSid": CALL_SID,
    "AccountSid": "AC" + "1" * 32,
    "From": "+15551234567",
    "To": "+15550000000",
    "CallStatus": "ringing",
    "Direction": "inbound",
}


@pytest.fixture
def port(settings: Settings) -> Iterator[int]:
    with live_server(create_app(settings)) as server_port:
        yield server_port


@pytest.fixture
def connection(port: int) -> Iterator[Connection]:
    with Connection(port) as kept_alive:
        yield kept_alive


def query(settings: Settings, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:  # type: ignore[type-arg]
    return values(settings, sql, params)


def start_call(connection: Connection, **extra: str) -> str:
    reply = signed_post(connection, "/voice/acme", {**CALLER, **extra})
    assert reply.status == 200, reply.text
    return reply.text


# ---- item 1: a non-ASCII X-Twilio-Signature ---------------------------------------------


def test_a_non_ascii_signature_is_refused_with_403_and_the_connection_goes_on(
    connection: Connection, settings: Settings
) -> None:
    body = f"CallSid={CALL_SID}&From=%2B15551234567&Body=STOP".encode()
    for path in ROUTES:
        reply = connection.request(
            "POST", path, [FORM, ("X-Twilio-Signature", "é✓".encode())], body
        )
        assert (reply.status, reply.text) == (403, "invalid Twilio signature"), path
        assert not reply.closes
        assert healthy(connection)
    assert query(settings, "SELECT count(*) FROM sessions") == [(0,)]


# ---- item 2: a step segment that is a digit but not an ASCII one -------------------------


def test_a_step_that_is_not_ascii_digits_is_not_a_step_path(connection: Connection) -> None:
    start_call(connection)
    for segment in ["%C2%B2", "%D9%A3", "1%C2%B2", "%201", "9" * 400]:
        path = f"/voice/acme/step/{segment}/input"
        reply = signed_post(connection, path, {**CALLER, "Digits": "1"})
        assert reply.status == 404, segment
        assert healthy(connection)


# ---- item 3: a malformed Host header, and the one catch-all ------------------------------


def test_a_malformed_host_header_gets_400_and_the_connection_is_closed(
    port: int, settings: Settings
) -> None:
    body = f"CallSid={CALL_SID}&From=%2B15551234567".encode()
    for host in ["x:abc", "[::1", "a:99999999999999999999"]:
        for path in ROUTES:
            with Connection(port) as connection:
                reply = connection.request(
                    "POST", path, [FORM, ("X-Twilio-Signature", "c2lnbmVk")], body, host=host
                )
                assert (reply.status, reply.text) == (400, "bad request"), (host, path)
                assert reply.closes
                assert connection.at_eof()
    assert query(settings, "SELECT count(*) FROM sessions") == [(0,)]


# ---- item 4: numbers Twilio's fields may hold --------------------------------------------


def test_a_call_status_with_an_odd_duration_still_ends_the_call(
    connection: Connection, settings: Settings
) -> None:
    start_call(connection)
    params = {**CALLER, "CallStatus": "completed", "CallDuration": "²"}
    assert signed_post(connection, "/status/call", params).status == 204
    [(ended, data)] = query(settings, "SELECT ended, data FROM sessions")
    assert ended == 1
    assert json.loads(data)["call"]["status"] == "completed"
    kinds = query(settings, "SELECT kind FROM call_events")
    assert kinds == [("call-status",)]


def action_path(twiml: str, verb: str) -> str:
    """The path of a verb's action URL in a TwiML answer."""
    url = re.search(f'<{verb} [^>]*action="([^"]+)"', twiml)
    assert url is not None, twiml
    return url.group(1)  # relative: the server has no IVR_PUBLIC_URL


def test_a_recording_status_with_an_odd_duration_is_kept(
    connection: Connection, settings: Settings
) -> None:
    menu = start_call(connection)
    voicemail = signed_post(connection, action_path(menu, "Gather"), {**CALLER, "Digits": "0"})
    recorded = {**CALLER, "RecordingSid": "RE" + "2" * 32, "RecordingUrl": "https://x/r"}
    assert signed_post(connection, action_path(voicemail.text, "Record"), recorded).status == 200
    params = {
        "CallSid": CALL_SID,
        "RecordingSid": "RE" + "2" * 32,
        "RecordingStatus": "completed",
        "RecordingDuration": "²",
    }
    assert signed_post(connection, "/status/recording", params).status == 204
    assert query(settings, "SELECT kind FROM call_events") == [("recording-status",)]
    [(data,)] = query(settings, "SELECT data FROM sessions")
    assert json.loads(data)["vars"]["voicemail"]["status"] == "completed"


@pytest.mark.parametrize("row", ["9223372036854775808", "%C2%B2", "1" * 30])
def test_a_message_status_naming_an_impossible_outbox_row_is_kept(
    connection: Connection, settings: Settings, row: str
) -> None:
    params = {"MessageSid": "SM" + "3" * 32, "MessageStatus": "delivered", "To": "+15551234567"}
    assert signed_post(connection, f"/status/message?outbox={row}", params).status == 204
    assert query(settings, "SELECT status FROM message_events") == [("delivered",)]


def test_an_incoming_call_with_an_odd_duration_is_answered_by_the_flow(
    connection: Connection,
) -> None:
    assert "Thanks for calling Acme." in start_call(connection, CallDuration="²")


# ---- item 8: consent once per MessageSid, Twilio's keyword lists -------------------------

STOP_A, START_B, STOP_C = ("SM" + c * 32 for c in "abc")


def inbound(connection: Connection, body: str, sid: str, sender: str = "+15551234567") -> str:
    params = {"MessageSid": sid, "From": sender, "To": "+15550001111", "Body": body}
    reply = signed_post(connection, "/messaging/inbound", params)
    assert reply.status == 200, reply.text
    return reply.text


def suppressed(settings: Settings, channel: str = "sms") -> bool:
    found = query(settings, "SELECT active FROM suppressions WHERE channel = ?", (channel,))
    return found == [(1,)]


def test_a_repeated_start_does_not_undo_a_later_stop(
    connection: Connection, settings: Settings
) -> None:
    inbound(connection, "STOP", STOP_A)
    inbound(connection, "START", START_B)
    inbound(connection, "STOP", STOP_C)
    inbound(connection, "START", START_B)  # Twilio repeats (b)
    assert suppressed(settings)
    assert len(query(settings, "SELECT id FROM consent_events")) == 3


def test_on_whatsapp_a_repeated_start_is_neither_applied_nor_confirmed_again(
    connection: Connection, settings: Settings
) -> None:
    sender = "whatsapp:+15551234567"
    inbound(connection, "STOP", STOP_A, sender)
    first = inbound(connection, "START", START_B, sender)
    assert "You will get messages from us here again." in first
    inbound(connection, "STOP", STOP_C, sender)
    again = inbound(connection, "START", START_B, sender)
    assert again == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert suppressed(settings, "whatsapp")


@pytest.mark.parametrize("word", ["STOPALL", "revoke", "OptOut"])
def test_each_of_twilios_opt_out_words_suppresses(
    connection: Connection, settings: Settings, word: str
) -> None:
    inbound(connection, word, STOP_A)
    assert suppressed(settings)


@pytest.mark.parametrize("word", ["YES", "yes"])
def test_each_of_twilios_opt_in_words_lifts_a_stop(
    connection: Connection, settings: Settings, word: str
) -> None:
    inbound(connection, "STOP", STOP_A)
    inbound(connection, word, START_B)
    assert not suppressed(settings)


def test_subscribe_is_not_an_opt_in_word_for_twilio_so_not_for_us(
    connection: Connection, settings: Settings
) -> None:
    inbound(connection, "STOP", STOP_A)
    inbound(connection, "SUBSCRIBE", START_B)
    assert suppressed(settings)


def test_help_on_whatsapp_is_answered_and_changes_no_consent(
    connection: Connection, settings: Settings
) -> None:
    reply = inbound(connection, "info", STOP_A, "whatsapp:+15551234567")
    assert "Reply STOP to unsubscribe" in reply
    assert query(settings, "SELECT count(*) FROM consent_events") == [(0,)]


# ---- item 9: bodies that never finish; repeated status callbacks -------------------------


@pytest.fixture
def impatient_port(settings: Settings) -> Iterator[int]:
    with live_server(create_app(replace(settings, body_timeout=0.5))) as server_port:
        yield server_port


def test_a_body_shorter_than_its_content_length_gets_408_and_the_connection_is_closed(
    impatient_port: int, settings: Settings
) -> None:
    with Connection(impatient_port) as connection:
        connection.send_raw(
            b"POST /voice/acme HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\nCallSid=CA1"
        )
        started = time.monotonic()
        reply = connection.read_reply()
        assert (reply.status, reply.closes) == (408, True)
        assert time.monotonic() - started < 5
        assert connection.at_eof()
    assert query(settings, "SELECT count(*) FROM sessions") == [(0,)]


def test_a_body_that_arrives_slowly_but_in_time_is_read(impatient_port: int) -> None:
    with Connection(impatient_port) as connection:
        connection.send_raw(
            b"POST /voice/acme HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\nCallSid"
        )
        time.sleep(0.3)  # of the 0.5 s allowed
        connection.send_raw(b"=CA1")
        reply = connection.read_reply()
        assert (reply.status, reply.closes) == (403, False)  # read whole, then refused: unsigned
        assert healthy(connection)


def test_a_cut_chunked_body_gets_408_and_the_connection_is_closed(impatient_port: int) -> None:
    with Connection(impatient_port) as connection:
        connection.send_raw(
            b"POST /status/call HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\n5\r\nCallS\r\n"
        )
        reply = connection.read_reply()
        assert (reply.status, reply.closes) == (408, True)
        assert connection.at_eof()


def test_a_repeated_status_callback_is_recorded_once(
    connection: Connection, settings: Settings
) -> None:
    start_call(connection)
    ringing = {**CALLER, "CallStatus": "in-progress", "SequenceNumber": "1"}
    completed = {**CALLER, "CallStatus": "completed", "CallDuration": "9", "SequenceNumber": "2"}
    for params in (ringing, ringing, completed, {**completed, "Timestamp": "later"}, completed):
        assert signed_post(connection, "/status/call", params).status == 204
    statuses = [
        json.loads(data)["CallStatus"]
        for (data,) in query(settings, "SELECT data FROM call_events ORDER BY id")
    ]
    assert statuses == ["in-progress", "completed"]


def test_a_repeated_callback_without_a_sequence_number_is_recorded_once(
    connection: Connection, settings: Settings
) -> None:
    start_call(connection)
    params = {"CallSid": CALL_SID, "RecordingSid": "RE" + "2" * 32, "RecordingStatus": "completed"}
    for _ in range(3):
        assert signed_post(connection, "/status/recording", params).status == 204
    assert query(settings, "SELECT count(*) FROM call_events") == [(1,)]
