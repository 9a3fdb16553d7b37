"""Retention: ended calls, their logs and finished messages older than IVR_RETENTION_DAYS go,
in batches, by the server's own background task; nothing of a live call is touched."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ivr_engine.store.database import Database
from ivr_engine.store.history import prune
from ivr_engine.web import Settings, create_app
from tests.conftest import Twilio

OLD = "2000-01-01T00:00:00.000Z"


def call(twilio: Twilio, sid: str, *, end: bool) -> None:
    params = {"CallSid": sid, "From": "+15551230000", "To": "+15550000000"}
    assert twilio.post("/voice/acme", {**params, "CallStatus": "ringing"}).status_code == 200
    answer = twilio.post("/voice/acme/step/1/input", {**params, "Digits": "9"})
    assert answer.status_code == 200
    if end:
        done = twilio.post("/status/call", {**params, "CallStatus": "completed"})
        assert done.status_code == 204


def count(db: sqlite3.Connection, sql: str, *params: object) -> int:
    return int(db.execute(sql, params).fetchone()[0])


def add_message(db: sqlite3.Connection, key: str, call_sid: str, status: str) -> int:
    cursor = db.execute(
        "INSERT INTO outbox (idempotency_key, call_sid, flow_id, node_id, channel, recipient, "
        "payload, status, message_sid, updated_at, created_at) "
        "VALUES (?, ?, 'acme', 'n', 'sms', '+15551230000', '{}', ?, ?, ?, ?)",
        (key, call_sid, status, f"SM{key}", OLD, OLD),
    )
    row_id = int(cursor.lastrowid or 0)
    db.execute(
        "INSERT INTO outbox_events (outbox_id, status, at) VALUES (?, ?, ?)", (row_id, status, OLD)
    )
    db.execute(
        "INSERT INTO message_events (message_sid, status, rank, data, at) VALUES (?, 'sent', 1, '{}', ?)",
        (f"SM{key}", OLD),
    )
    return row_id


@pytest.fixture
def aged(settings: Settings) -> Iterator[tuple[TestClient, Settings]]:
    """A server whose pruning task looks every 50 ms, with two old calls (one live) and messages."""
    settings = replace(settings, retention_days=30, retention_interval=0.05)
    with TestClient(create_app(settings)) as client:
        twilio = Twilio(client)
        call(twilio, "CAold-ended", end=True)
        call(twilio, "CAold-live", end=False)
        call(twilio, "CArecent-ended", end=True)
        with sqlite3.connect(settings.db_path) as db:
            db.execute(
                "UPDATE sessions SET updated_at = ?, created_at = ? WHERE call_sid LIKE 'CAold%'",
                (OLD, OLD),
            )
            add_message(db, "sent-old", "CAold-ended", "sent")
            add_message(db, "dead-old", "CAold-ended", "dead")
            add_message(db, "pending-old", "CAold-ended", "pending")
            add_message(db, "live-sent", "CAold-live", "sent")
        yield client, settings


def test_the_server_prunes_old_ended_calls_and_finished_messages_but_nothing_live(
    aged: tuple[TestClient, Settings],
) -> None:
    _, settings = aged
    deadline = time.monotonic() + 10
    with sqlite3.connect(settings.db_path) as db:
        while count(db, "SELECT COUNT(*) FROM sessions WHERE call_sid = 'CAold-ended'"):
            assert time.monotonic() < deadline, "the retention task did not prune"
            time.sleep(0.05)
        time.sleep(0.2)  # the message pass follows the calls' pass
        sessions = {row[0] for row in db.execute("SELECT call_sid FROM sessions")}
        assert sessions == {"CAold-live", "CArecent-ended"}
        logged = {row[0] for row in db.execute("SELECT DISTINCT call_sid FROM call_log")}
        assert logged == {"CAold-live", "CArecent-ended"}
        assert count(db, "SELECT COUNT(*) FROM call_events WHERE call_sid = 'CAold-ended'") == 0
        assert count(db, "SELECT COUNT(*) FROM call_events WHERE call_sid = 'CArecent-ended'") == 1
        kept = {row[0] for row in db.execute("SELECT idempotency_key FROM outbox")}
        assert kept == {"pending-old", "live-sent"}
        assert count(db, "SELECT COUNT(*) FROM outbox_events") == 2
        assert {r[0] for r in db.execute("SELECT message_sid FROM message_events")} == {
            "SMpending-old",
            "SMlive-sent",
        }


def test_pruning_goes_in_small_batches_until_everything_old_is_gone(tmp_path: Path) -> None:
    async def run() -> tuple[dict[str, int], int, int]:
        database = await Database.open(tmp_path / "ivr.sqlite3")
        try:
            for n in range(7):
                await database.connection.execute(
                    "INSERT INTO sessions (call_sid, flow_id, flow_version, step, ended, data, "
                    "updated_at, log) VALUES (?, 'acme', 'v', 1, 1, '{}', ?, ?)",
                    (f"CA{n}", OLD, '{"at": "2000-01-01T00:00:00.000Z"}'),
                )
            await database.connection.commit()
            logged = await database.fetchone("SELECT COUNT(*) AS n FROM call_log")
            counts = await prune(database, datetime.now(UTC) - timedelta(days=30), batch=2)
            left = await database.fetchone("SELECT COUNT(*) AS n FROM call_log")
            return counts, logged["n"], left["n"]
        finally:
            await database.close()

    counts, logged, left = asyncio.run(run())
    assert logged == 7  # the trigger filed each session's log entry
    assert counts == {"calls": 7, "messages": 0}
    assert left == 0
