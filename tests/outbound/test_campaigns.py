"""Campaigns end to end: a real `ivr serve`, the real twilio client against the fake Twilio,
and every created call played back into the server by the emulator, human or machine."""

from __future__ import annotations

import csv
import io
import itertools
import json
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from tests.conftest import AUTH_TOKEN
from tests.messaging.conftest import SMS_FROM, wait_until
from tests.messaging.fake_twilio import ACCOUNT_SID, FakeTwilio
from tests.outbound.conftest import API_TOKEN, Served, contacts_csv
from tests.outbound.network import Network

NUMBERS = [f"+1555010{n:04d}" for n in range(20)]
MACHINES = NUMBERS[3:5]
BUSY = NUMBERS[5:7]
STOPPED = NUMBERS[7]  # texted STOP to our SMS number
DO_NOT_CALL = NUMBERS[8]
RESCHEDULES = NUMBERS[9]  # presses 2
PACE_TOLERANCE = 0.15  # seconds a request may arrive early after a slow predecessor


def text_stop(served: Served, number: str) -> None:
    url = f"{served.url}/messaging/inbound"
    params = {
        "MessageSid": "SM" + "5" * 32,
        "AccountSid": ACCOUNT_SID,
        "From": number,
        "To": SMS_FROM,
        "Body": "STOP",
        "NumMedia": "0",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    request = urllib.request.Request(
        url, data=urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def report(served: Served, name: str) -> dict[str, dict[str, str]]:
    done = served.ivr("campaign", "report", name, "--format", "csv")
    assert done.returncode == 0, done.stderr
    return {row["phone"]: row for row in csv.DictReader(io.StringIO(done.stdout))}


def campaign_status(served: Served, name: str) -> str:
    """The campaign's status word, from the API (cheaper to poll than the CLI)."""
    time.sleep(0.2)  # polled by wait_until: a few looks a second are plenty
    request = urllib.request.Request(
        f"{served.url}/api/campaigns/{name}", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["status"])


def status_of(served: Served, name: str) -> str:
    done = served.ivr("campaign", "status", name)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_20_contact_campaign_at_2_calls_a_second_completes_with_the_right_outcomes(
    served: Served, fake: FakeTwilio, network: Network, tmp_path: Path
) -> None:
    for number in MACHINES:
        network.script(number, "machine_end_beep")
    for number in BUSY:
        network.script(number, "busy", "human")
    network.keys[RESCHEDULES] = "2"
    contacts = contacts_csv(tmp_path / "contacts.csv", NUMBERS)
    with served.running():
        text_stop(served, STOPPED)
        added = served.ivr("campaign", "status", "none")  # the CLI's error for a missing one
        assert added.returncode == 1 and 'there is no campaign "none"' in added.stderr
        _dnc(served, DO_NOT_CALL)
        started = served.ivr(
            "campaign", "start", "spring", "--flow", "reminder", "--contacts", str(contacts),
            "--rate", "2", "--max-concurrent", "5", "--retry-delay", "0.5",
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        assert started.stdout == "campaign spring started: 20 contact(s), 0 row(s) skipped\n"
        wait_until(
            lambda: campaign_status(served, "spring") == "completed",
            "the campaign completes",
            timeout=90,
        )
        wait_until(lambda: fake.sent_to(RESCHEDULES), "the reschedule link is texted", 20)
        final = status_of(served, "spring")
        rows = report(served, "spring")
    assert network.errors == []
    assert fake.calls_to(STOPPED) == [] and fake.calls_to(DO_NOT_CALL) == []
    for number in NUMBERS:
        expected = 0 if number in (STOPPED, DO_NOT_CALL) else 2 if number in BUSY else 1
        assert len(fake.calls_to(number)) == expected, number
    assert "[" + "#" * 30 + "] 20/20 done (100%)" in final
    assert "  answered     16\n" in final and "  machine      2\n" in final
    assert "  opted-out    2\n" in final
    outcomes = {
        number: (row["outcome"], row["attempts"], row["answered_by"])
        for number, row in rows.items()
    }
    for number in NUMBERS:
        if number in (STOPPED, DO_NOT_CALL):
            assert outcomes[number] == ("opted-out", "0", ""), number
        elif number in MACHINES:
            assert outcomes[number] == ("machine", "1", "machine_end_beep"), number
            assert rows[number]["var.choice"] == "voicemail"
        elif number in BUSY:
            assert outcomes[number] == ("answered", "2", "human"), number
        else:
            assert outcomes[number] == ("answered", "1", "human"), number
    assert rows[RESCHEDULES]["var.choice"] == "reschedule"
    assert rows[NUMBERS[0]]["var.choice"] == "confirmed"
    assert rows[NUMBERS[0]]["contact.name"] == "Person 0"
    [sms] = fake.sent_to(RESCHEDULES)
    assert sms.first("Body") == (
        "Acme Dental: choose a new time for your appointment here: https://x.example/9"
    )
    heard = next(p for p in network.played if p.to == NUMBERS[0]).heard
    assert any("Hello Person 0, this is Acme Dental" in line for line in heard)
    machine_heard = next(p for p in network.played if p.to == MACHINES[0]).heard
    assert not any("press 1" in line for line in machine_heard)
    # pacing: never faster than 2 calls a second, from the fake's own clock
    times = sorted(at for at, _ in fake.call_attempts)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.5 - PACE_TOLERANCE, gaps
    assert times[-1] - times[0] >= (len(times) - 1) * 0.5 - PACE_TOLERANCE


def _dnc(served: Served, number: str) -> None:
    request = urllib.request.Request(
        f"{served.url}/api/do-not-call",
        data=f'{{"numbers": ["{number}"], "reason": "asked by phone"}}'.encode(),
        headers={"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def test_a_server_killed_mid_campaign_calls_nobody_twice_after_restart(
    served: Served, fake: FakeTwilio, network: Network, tmp_path: Path
) -> None:
    numbers = NUMBERS[:6]
    contacts = contacts_csv(tmp_path / "contacts.csv", numbers)
    fake.hold()  # calls.create reaches Twilio, which creates the call but keeps its answer
    with served.running() as first:
        started = served.ivr(
            "campaign", "start", "crash", "--flow", "reminder", "--contacts", str(contacts),
            "--rate", "0", "--max-concurrent", "2",
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        wait_until(lambda: fake.holding == 2, "two calls are created, their answers held")
        placing = served.rows("SELECT status FROM call_attempts")
        assert [row["status"] for row in placing] == ["placing", "placing"]
        first.kill()  # kill -9: no shutdown at all
        first.wait()
    fake.release()
    time.sleep(0.2)
    with served.running():
        wait_until(
            lambda: campaign_status(served, "crash") == "completed",
            "the campaign completes after the restart",
            timeout=60,
        )
        wait_until(network.idle, "every call has been played")
        rows = report(served, "crash")
    assert network.errors == []
    for number in numbers:
        assert len(fake.calls_to(number)) == 1, number  # nobody twice
        assert rows[number]["outcome"] == "answered" and rows[number]["attempts"] == "1"
    # the two held attempts were settled (by a lookup at Twilio, or by the call itself
    # reaching the restarted server), never placed again: six attempts, each with its call
    attempts = served.rows("SELECT phone, call_sid FROM call_attempts")
    assert sorted(row["phone"] for row in attempts) == sorted(numbers)
    assert all(row["call_sid"] for row in attempts), attempts
    assert len({row["call_sid"] for row in attempts}) == 6
