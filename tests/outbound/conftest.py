"""Outbound fixtures: a real `ivr serve` process, the fake Twilio (Calls included), and the
phone network playing every created call back into the server."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AUTH_TOKEN, ROOT
from tests.messaging.conftest import SMS_FROM
from tests.messaging.fake_twilio import ACCOUNT_SID, FakeTwilio
from tests.messaging.test_restart import free_port, serving
from tests.outbound.network import Network
from tests.postgres import pg_query

API_TOKEN = "api-token-for-tests-0123456789"


@dataclass
class Served:
    port: int
    db: str
    flows: Path
    fake: FakeTwilio
    database_url: str | None = None  # PostgreSQL (several processes may share it), else `db`

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "IVR_FLOWS": str(self.flows),
            "IVR_DB": self.db,
            "IVR_PORT": str(self.port),
            "IVR_PUBLIC_URL": self.url,
            "IVR_SERVER_URL": self.url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_SMS_FROM": SMS_FROM,
            "IVR_TWILIO_API_URL": self.fake.url,
            "IVR_API_TOKEN": API_TOKEN,
            "IVR_CALLS_PER_SECOND": "100",
            "IVR_CAMPAIGN_POLL_INTERVAL": "0.1",
            "IVR_CALL_REQUEST_TIMEOUT": "2",
            "IVR_MESSAGES_PER_SECOND": "1000",
            "IVR_LOG_LEVEL": "warning",
            **({"IVR_DATABASE_URL": self.database_url} if self.database_url else {}),
            **extra,
        }

    @contextmanager
    def running(self, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
        log = open(Path(self.db).with_suffix(".log"), "ab")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "ivr_engine", "serve"],
            env=self.env(**extra),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            with serving(process, self.url, timeout=90):
                yield process
        finally:
            log.close()

    def ivr(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`ivr ARGS` as a user runs it beside the server."""
        return subprocess.run(
            [sys.executable, "-m", "ivr_engine", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        if self.database_url:
            return pg_query(self.database_url, sql, params)
        with sqlite3.connect(self.db) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql, params).fetchall()]


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    server = FakeTwilio(AUTH_TOKEN, keep_alive=True).start()
    yield server
    server.stop()


@pytest.fixture
def served(tmp_path: Path, fake: FakeTwilio) -> Served:
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(ROOT / "flows" / "reminder.yaml", flows / "reminder.yaml")
    return Served(free_port(), str(tmp_path / "ivr.sqlite3"), flows, fake)


@pytest.fixture
def network(fake: FakeTwilio) -> Iterator[Network]:
    phones = Network(fake)
    yield phones
    phones.close()


def contacts_csv(path: Path, numbers: list[str], extra_lines: list[str] = ()) -> Path:  # type: ignore[assignment]
    lines = ["phone,name,appointment,link"]
    lines += [
        f"{n},Person {i},tomorrow at {9 + i % 8} AM,https://x.example/{i}"
        for i, n in enumerate(numbers)
    ]
    lines += list(extra_lines)
    path.write_text("\n".join(lines) + "\n")
    return path
