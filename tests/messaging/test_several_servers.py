"""Several `ivr serve` processes on one PostgreSQL behave as one server would.

Real processes, real signed requests over HTTP, one real PostgreSQL database, the fake Twilio
for messages. Each server signs and builds URLs with its own base, so a request meant for the
other server is re-signed for it, as a load balancer in front of both would make it look.
"""

from __future__ import annotations

import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from contextlib import ExitStack
from urllib.parse import urlencode, urlsplit

import pytest
from twilio.request_validator import RequestValidator

from ivr_engine.web import Settings
from tests.conftest import AUTH_TOKEN, values
from tests.fakeapi import FakeApi
from tests.messaging.conftest import CALLER, rows, settled, wait_until
from tests.messaging.fake_twilio import ACCOUNT_SID, FakeTwilio
from tests.messaging.test_restart import free_port, server
from tests.web.test_concurrency import SLOW

pytestmark = pytest.mark.backends("postgresql")

SID = "CA" + "5" * 32


def post(port: int, path: str, **params: str) -> str:
    """A signed POST to the server on `port`; its TwiML."""
    url = f"http://127.0.0.1:{port}{path}"
    form = {"CallSid": SID, "AccountSid": ACCOUNT_SID, "From": CALLER, "To": "+15550000000"}
    form.update(params)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    request = urllib.request.Request(
        url, data=urlencode(form).encode(), headers={"X-Twilio-Signature": signature}
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        assert response.status in (200, 204)
        return response.read().decode()  # type: ignore[no-any-return]


def action(twiml: str, verb: str) -> str:
    """The path of a verb's action URL (whichever server built it)."""
    element = next(ET.fromstring(twiml).iter(verb))
    return urlsplit(element.attrib["action"]).path


def verbs(twiml: str) -> list[str]:
    return [child.tag for child in ET.fromstring(twiml)]


def said(twiml: str) -> list[str]:
    return [(element.text or "").strip() for element in ET.fromstring(twiml).iter("Say")]


def step_of(settings: Settings, sid: str = SID) -> tuple[int, int]:
    [found] = values(settings, "SELECT step, ended FROM sessions WHERE call_sid = ?", (sid,))
    return found  # type: ignore[return-value]


def test_a_call_whose_requests_alternate_between_two_servers_completes_as_on_one(
    settings: Settings, fake: FakeTwilio
) -> None:
    a, b = free_port(), free_port()
    with server(settings, fake, a), server(settings, fake, b):
        greeting = post(a, "/voice/acme", CallStatus="ringing")
        dial = post(b, action(greeting, "Gather"), Digits="1")
        assert verbs(dial) == ["Dial"]
        voicemail = post(a, action(dial, "Dial"), DialCallStatus="busy")
        assert verbs(voicemail) == ["Say", "Record", "Redirect"]
        done = post(b, action(voicemail, "Record"), RecordingUrl="https://x/r", RecordingSid="RE1")
        assert verbs(done) == ["Say", "Hangup"]
    assert step_of(settings) == (4, 1)


# A step with an effect outside the database (the slow API is called): run twice, it would
# call twice. The caller keys an order number first.
GATHER_THEN_API = SLOW.replace("start: lookup", "start: ask").replace(
    "nodes:\n",
    "nodes:\n  ask:\n    type: gather\n    prompt: Enter your order number.\n"
    "    into: order\n    next: lookup\n",
)


def test_the_same_gather_sent_to_both_servers_at_once_advances_the_call_once(
    settings: Settings, fake: FakeTwilio, fake_api: FakeApi
) -> None:
    flow = GATHER_THEN_API.format(api=fake_api.url)
    (settings.flows_dir / "order_once.yaml").write_text(flow, encoding="utf-8")
    a, b = free_port(), free_port()
    with server(settings, fake, a), server(settings, fake, b):
        greeting = post(a, "/voice/order_once", CallStatus="ringing")
        path = action(greeting, "Gather")
        answers: dict[int, str] = {}
        go = threading.Barrier(2)

        def press(port: int) -> None:
            go.wait()
            answers[port] = post(port, path, Digits="42")

        threads = [threading.Thread(target=press, args=(port,)) for port in (a, b)]
        for thread in threads:
            thread.start()
        assert fake_api.arrived.acquire(timeout=20), "neither step reached the API"
        # the other request waits for the call's lock in the database, not in the API, and
        # longer than a statement may take (1.5 s): the database answers meanwhile
        assert not fake_api.arrived.acquire(timeout=2.5), "the step ran in both servers"
        fake_api.release.set()
        for thread in threads:
            thread.join(timeout=20)
    assert said(answers[a]) == said(answers[b]) == ["Slow answer True."]  # the second, a replay
    assert [seen.path for seen in fake_api.seen] == ["/slow"]
    assert step_of(settings) == (2, 1)  # one step, not two


def test_a_server_killed_mid_call_leaves_the_call_to_the_other(
    settings: Settings, fake: FakeTwilio
) -> None:
    a, b = free_port(), free_port()
    with server(settings, fake, b), server(settings, fake, a) as first:
        greeting = post(a, "/voice/acme", CallStatus="ringing")
        first.kill()  # kill -9: no shutdown at all
        first.wait()
        dial = post(b, action(greeting, "Gather"), Digits="1")
        assert verbs(dial) == ["Dial"]
        voicemail = post(b, action(dial, "Dial"), DialCallStatus="busy")
        assert verbs(voicemail) == ["Say", "Record", "Redirect"]
    assert step_of(settings) == (3, 0)


def test_200_messages_with_two_workers_each_reach_twilio_exactly_once(
    settings: Settings, fake: FakeTwilio
) -> None:
    calls = [f"CA{n:032x}" for n in range(1, 201)]
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        for port in ports:
            stack.enter_context(server(settings, fake, port))
        for n, sid in enumerate(calls):
            post(ports[n % 2], "/voice/ticket", CallSid=sid, To="+15550000000")
        found = wait_until(lambda: settled(settings, 200), "all 200 are sent", timeout=90)
    assert {r["status"] for r in found} == {"sent"}
    assert sorted(fake.bodies()) == sorted(
        f"Your ticket number is T-1001 (call {sid})." for sid in calls
    )  # each exactly once
    claimers = {r["claimed_by"] for r in rows(settings)}
    assert claimers == {None}  # every claim was let go once its row was done


def test_a_worker_killed_mid_send_loses_nothing_and_the_other_takes_its_row_over(
    settings: Settings, fake: FakeTwilio
) -> None:
    a, b = free_port(), free_port()
    fake.hold()  # the first request reaches Twilio, which keeps it: its answer never comes
    with server(settings, fake, b):
        with server(settings, fake, a) as first:
            post(a, "/voice/ticket", CallSid=SID, To="+15550000000")
            wait_until(lambda: fake.holding == 1, "one request is held at the fake")
            [row] = rows(settings)
            assert row["status"] == "sending"
            holder = row["claimed_by"]
            first.kill()
            first.wait()
        fake.release()
        time.sleep(1.0)  # the other worker polls 20 times meanwhile: the claim holds it off
        assert [r["status"] for r in rows(settings)] == ["sending"]
        assert len(fake.messages) == 1
        # While its claim is valid nobody else touches the row; make it lapse now rather than
        # wait out the lease (60 s), as time passing would.
        values(settings, "UPDATE outbox SET lease_until = 0 WHERE id = ?", (row["id"],))
        [done] = wait_until(lambda: settled(settings, 1), "the row is settled", timeout=20)
    assert done["status"] == "sent"
    assert done["message_sid"] == fake.messages[0].sid  # found at Twilio, not sent again
    assert len(fake.messages) == 1
    assert holder is not None


def test_a_server_that_never_loaded_the_calls_flow_version_serves_it_from_the_database(
    settings: Settings, fake: FakeTwilio
) -> None:
    a, b = free_port(), free_port()
    with server(settings, fake, a):
        greeting = post(a, "/voice/acme", CallStatus="ringing")
    path = settings.flows_dir / "acme.yaml"
    path.write_text(
        path.read_text()
        .replace("Thanks for calling Acme.", "Welcome to New Acme.")
        .replace("Goodbye.", "Bye now.")
    )
    with server(settings, fake, b):  # started after the edit: only the new version on disk
        dial = post(b, action(greeting, "Gather"), Digits="2")
        assert verbs(dial) == ["Dial"]
        assert said(post(b, action(dial, "Dial"), DialCallStatus="completed")) == ["Goodbye."]
        new_call = post(b, "/voice/acme", CallSid="CA" + "6" * 32, CallStatus="ringing")
        assert said(new_call)[0] == "Welcome to New Acme."


def test_on_hangup_runs_once_when_both_servers_get_the_completed_callback_at_once(
    settings: Settings, fake: FakeTwilio
) -> None:
    a, b = free_port(), free_port()
    with server(settings, fake, a), server(settings, fake, b):
        post(a, "/voice/ticket", CallSid=SID, To="+15550000000")
        go = threading.Barrier(4)

        def hang_up(port: int) -> None:
            go.wait()
            post(port, "/status/call", CallStatus="completed", CallDuration="42")

        threads = [threading.Thread(target=hang_up, args=(port,)) for port in (a, b, a, b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        found = wait_until(lambda: settled(settings, 2), "the ticket and the thank-you are sent")
        time.sleep(0.5)  # a second chain, were there one, would have queued its text by now
        assert len(rows(settings)) == 2
    assert [row["node_id"] for row in found] == ["text_ticket", "thanks_text"]
    assert sorted(fake.bodies()) == [
        "Thanks for your call (completed, 42 s).",
        f"Your ticket number is T-1001 (call {SID}).",
    ]
