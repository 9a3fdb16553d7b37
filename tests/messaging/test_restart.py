"""A real `ivr serve` process killed with messages pending, then started again on its database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from ivr_engine.web import Settings
from tests.conftest import AUTH_TOKEN, ROOT, free_port
from tests.messaging.conftest import CALLER, SMS_FROM, history, rows, settled, wait_until
from tests.messaging.fake_twilio import ACCOUNT_SID, FakeTwilio

CALLS = [f"CA{n:032x}" for n in range(1, 6)]


@contextmanager
def server(settings: Settings, fake: FakeTwilio, port: int) -> Iterator[subprocess.Popen[bytes]]:
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "IVR_FLOWS": str(settings.flows_dir),
        "IVR_DB": settings.db_path,
        "IVR_PORT": str(port),
        "IVR_PUBLIC_URL": base,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_SMS_FROM": SMS_FROM,
        "IVR_TWILIO_API_URL": fake.url,
        "IVR_MESSAGE_CONCURRENCY": "1",
        "IVR_MESSAGES_PER_SECOND": "1000",
        "IVR_MESSAGE_RETRY_BASE": "0.05",
        "IVR_LOG_LEVEL": "warning",
        **({"IVR_DATABASE_URL": settings.database_url} if settings.database_url else {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "ivr_engine", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with serving(process, base, timeout=30):
        yield process


@contextmanager
def serving(process: subprocess.Popen[bytes], base: str, *, timeout: float) -> Iterator[None]:
    """Once the started server at `base` answers /healthz; then stop it as Ctrl-C does
    (killed if it has not stopped within 15 s)."""
    try:
        wait_until(lambda: _up(base), "the server answers /healthz", timeout=timeout)
        yield
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _up(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
            return response.status == 200  # type: ignore[no-any-return]
    except OSError:
        return False


def start_call(port: int, call_sid: str) -> str:
    url = f"http://127.0.0.1:{port}/voice/ticket"
    params = {"CallSid": call_sid, "AccountSid": ACCOUNT_SID, "From": CALLER, "To": SMS_FROM}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    request = urllib.request.Request(
        url, data=urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()  # type: ignore[no-any-return]


def test_a_server_killed_with_messages_pending_sends_each_exactly_once_after_restart(
    settings: Settings, fake: FakeTwilio, tmp_path: Path
) -> None:
    port = free_port()
    fake.hold()  # the first request reaches Twilio, which keeps it: its answer never comes
    with server(settings, fake, port) as first:
        for sid in CALLS:
            assert "<Hangup />" in start_call(port, sid)
        wait_until(lambda: fake.holding == 1, "one request is held at the fake")
        assert sorted(r["status"] for r in rows(settings)) == ["pending"] * 4 + ["sending"]
        first.kill()  # no shutdown, no grace: as a crash
        first.wait()
    fake.release()
    with server(settings, fake, port):
        found = wait_until(lambda: settled(settings, 5), "every message is settled", timeout=20)
    assert [r["status"] for r in found] == ["sent"] * 5
    assert sorted(fake.bodies()) == sorted(
        f"Your ticket number is T-1001 (call {sid})." for sid in CALLS
    )  # each exactly once: the held one was found at Twilio, not sent again
    assert len({r["message_sid"] for r in found}) == 5
    held = next(r for r in found if r["message_sid"] == fake.messages[0].sid)
    assert [status for status, _ in history(settings, held["id"])] == [
        "pending",
        "sending",
        "pending",
        "sent",
    ]
    assert history(settings, held["id"])[2][1] == (
        "the server stopped while this message was being sent: it is looked up at Twilio before "
        "any new attempt"
    )
