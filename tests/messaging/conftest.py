"""Messaging fixtures: the real app (worker included) sending to a fake Twilio over real HTTP."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ivr_engine.messaging import MessagingSettings
from ivr_engine.web import Settings
from tests.conftest import AUTH_TOKEN, BASE, ROOT, Twilio, query, values
from tests.messaging.fake_twilio import ACCOUNT_SID, FakeTwilio

SMS_FROM = "+15550001111"
WHATSAPP_FROM = "+15550002222"
CALLER = "+15551234567"


def fast_messaging(fake: FakeTwilio, **changes: Any) -> MessagingSettings:
    """Real settings with short waits, so retries and backoff run in milliseconds."""
    settings = MessagingSettings(
        account_sid=ACCOUNT_SID,
        sms_from=SMS_FROM,
        whatsapp_from=WHATSAPP_FROM,
        api_url=fake.url,
        per_sender_rate=1000.0,
        max_attempts=4,
        retry_base=0.02,
        retry_max=0.1,
        poll_interval=0.05,
        request_timeout=5.0,
        stop_grace=1.0,
    )
    return replace(settings, **changes)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    server = FakeTwilio(AUTH_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def settings(
    tmp_path: Path, flows_dir: Path, fake: FakeTwilio, database_url: str | None
) -> Settings:
    for flow in (ROOT / "tests" / "flows" / "valid").glob("*.yaml"):
        shutil.copy(flow, flows_dir / flow.name)
    return Settings(
        flows_dir=flows_dir,
        db_path=str(tmp_path / "ivr.sqlite3"),
        database_url=database_url,
        auth_token=AUTH_TOKEN,
        public_url=BASE,
        reload_interval=0.05,
        messaging=fast_messaging(fake),
    )


def wait_until(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Poll until `check()` is truthy (the worker runs in the background); return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.01)


def rows(
    settings: Settings, where: str = "1 = 1", params: tuple[Any, ...] = ()
) -> list[dict[str, Any]]:
    return query(settings, f"SELECT * FROM outbox WHERE {where} ORDER BY id", params)


def history(settings: Settings, row_id: int) -> list[tuple[str, str]]:
    return values(  # type: ignore[return-value]
        settings,
        "SELECT status, detail FROM outbox_events WHERE outbox_id = ? ORDER BY id",
        (row_id,),
    )


def settled(settings: Settings, count: int) -> list[dict[str, Any]] | None:
    """All rows, once there are `count` and none is waiting or in flight."""
    found = rows(settings)
    if len(found) == count and all(r["status"] not in ("pending", "sending") for r in found):
        return found
    return None


def text(twilio: Twilio, body: str, sender: str = CALLER, sid: str | None = None) -> Any:
    """A message from `sender` to our number, as Twilio posts it to the Messaging URL."""
    params = {
        "MessageSid": sid or "SM" + format(abs(hash((sender, body, time.time()))), "032x")[:32],
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": ("whatsapp:" + WHATSAPP_FROM) if sender.startswith("whatsapp:") else SMS_FROM,
        "Body": body,
        "NumMedia": "0",
    }
    return twilio.post("/messaging/inbound", params)
