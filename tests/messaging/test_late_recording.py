"""Voicemail left by a caller who hangs up: Twilio does not order the call's `completed`
status callback and the <Record> action, so either may come first, and the recording status
callback may come before both. The recording is never lost, and `on_hangup` runs once, with it.
Through the real app over HTTP, signed requests, a real database (SQLite and PostgreSQL) and a
fake Twilio."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from ivr_engine.web import Settings, create_app
from tests.conftest import Twilio, query
from tests.messaging.conftest import CALLER, settled, wait_until
from tests.messaging.fake_twilio import FakeTwilio
from tests.web.calls import Call

pytestmark = pytest.mark.backends("sqlite", "postgresql")

REC = "RE" + "7" * 32
REC_URL = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/" + REC


def stored(settings: Settings, call_sid: str) -> dict[str, Any]:
    [row] = query(settings, "SELECT data FROM sessions WHERE call_sid = ?", (call_sid,))
    return json.loads(row["data"])  # type: ignore[no-any-return]


def at_the_beep(twilio: Twilio, sid: str) -> Call:
    call = Call(twilio, "voicemail_follow_up", sid=sid, caller=CALLER)
    assert call.start().verbs() == ["Say", "Record", "Redirect"]
    return call


def hang_up(twilio: Twilio, call: Call) -> None:
    params = {**call.base_params, "CallStatus": "completed", "CallDuration": "31"}
    assert twilio.post("/status/call", params).status_code == 204


def record_action(twilio: Twilio, call: Call) -> None:
    params = {
        **call.base_params,
        "CallStatus": "completed",
        "RecordingUrl": REC_URL,
        "RecordingSid": REC,
        "RecordingDuration": "17",
        "Digits": "hangup",
    }
    assert twilio.post(call.last.url("Record"), params).status_code == 200


def recording_status(twilio: Twilio, call: Call, **extra: str) -> None:
    params: Mapping[str, str] = {
        "CallSid": call.sid,
        "AccountSid": "AC" + "1" * 32,
        "RecordingSid": REC,
        "RecordingUrl": REC_URL,
        "RecordingStatus": "completed",
        "RecordingDuration": "17",
        **extra,
    }
    assert twilio.post("/status/recording", params).status_code == 204


def the_follow_up(settings: Settings, fake: FakeTwilio) -> str:
    wait_until(lambda: settled(settings, 1), "the follow-up text is sent")
    [sent] = fake.sent_to(CALLER)
    return str(sent.first("Body"))


@pytest.mark.parametrize(
    "order",
    [
        ("record", "hangup", "status"),  # the order a flow author would expect
        ("hangup", "record", "status"),  # the call's end first: the reported case
        ("hangup", "status", "record"),  # the recording callback before the action
        ("status", "hangup", "record"),
        ("status", "record", "hangup"),
    ],
)
def test_the_voicemail_reaches_its_variable_and_on_hangup_in_any_order(
    twilio: Twilio, settings: Settings, fake: FakeTwilio, order: tuple[str, ...]
) -> None:
    call = at_the_beep(twilio, "CA" + "5" * 31 + str(len(order)))
    send = {
        "record": lambda: record_action(twilio, call),
        "hangup": lambda: hang_up(twilio, call),
        "status": lambda: recording_status(twilio, call),
    }
    for what in order:
        send[what]()
    assert the_follow_up(settings, fake) == f"We got your message (17 s): {REC_URL}"
    session = stored(settings, call.sid)
    assert session["vars"]["message"]["url"] == REC_URL
    assert session["vars"]["message"]["sid"] == REC
    assert session["vars"]["message"]["status"] == "completed"
    assert session["after_call_done"] is True
    assert not (session["pending_recording"] or {}).get("waiting")
    assert session["recording_updates"] == {}


def test_on_hangup_runs_without_the_recording_once_the_grace_period_passes(
    settings: Settings, fake: FakeTwilio
) -> None:
    with TestClient(create_app(replace(settings, recording_grace=0.3))) as client:
        grace_passes(Twilio(client), settings, fake)


def grace_passes(twilio: Twilio, settings: Settings, fake: FakeTwilio) -> None:
    call = at_the_beep(twilio, "CA" + "6" * 32)
    hang_up(twilio, call)
    assert stored(settings, call.sid)["pending_recording"]["waiting"] is True
    assert the_follow_up(settings, fake) == "Sorry we missed you."
    # A recording that turns up after all still lands in the variable, without a second text.
    record_action(twilio, call)
    assert stored(settings, call.sid)["vars"]["message"]["url"] == REC_URL
    assert len(fake.sent_to(CALLER)) == 1


def test_a_restart_while_a_recording_is_awaited_still_runs_on_hangup(
    settings: Settings, fake: FakeTwilio
) -> None:
    with TestClient(create_app(settings)) as first:
        twilio = Twilio(first)
        call = at_the_beep(twilio, "CA" + "8" * 32)
        hang_up(twilio, call)
    # the server stopped before the recording or the grace period: the next one picks it up
    with TestClient(create_app(replace(settings, recording_grace=0.3))):
        assert the_follow_up(settings, fake) == "Sorry we missed you."


@pytest.mark.backends("postgresql")
@pytest.mark.parametrize("first_stays", [False, True])
def test_on_hangup_runs_once_at_another_server_when_the_one_that_ended_the_call_is_gone(
    settings: Settings, fake: FakeTwilio, first_stays: bool
) -> None:
    """Several servers: the call ends at the first while a voicemail is awaited. Gone before
    its grace ran out, its timer went with it; the other server, up all along (so its start
    did not see the call), runs the follow-up. If the first stays, it runs it, once."""
    settings = replace(settings, recording_grace=0.3)
    with TestClient(create_app(settings)):  # the other server, up before the call
        with TestClient(create_app(settings)) as first:
            twilio = Twilio(first)
            call = at_the_beep(twilio, "CA" + "5" * 32)
            hang_up(twilio, call)
            if first_stays:
                assert the_follow_up(settings, fake) == "Sorry we missed you."
        # (left: stopping cancels its timer, as a process that dies loses it)
        assert the_follow_up(settings, fake) == "Sorry we missed you."
        time.sleep(1.0)  # a second chain, were there one, would have sent by now
    assert len(fake.sent_to(CALLER)) == 1
