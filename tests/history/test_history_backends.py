"""The call history on both store backends: the execution log written with each step, read
back by `ivr calls` (SQLite file or PostgreSQL URL), and pruned by retention without touching
a live call. The PostgreSQL server is the session's throwaway one (tests/postgres.py)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ivr_engine.store.history import list_calls, prune, timeline
from ivr_engine.store.target import open_database
from ivr_engine.web import Settings
from tests.conftest import ROOT, Twilio, query, subprocess_env

pytestmark = pytest.mark.backends("sqlite", "postgresql")

OLD = "2000-01-01T00:00:00.000Z"


def call(twilio: Twilio, sid: str, keys: str, *, end: bool) -> None:
    params = {"CallSid": sid, "From": "+15551230000", "To": "+15550000000"}
    assert twilio.post("/voice/acme", {**params, "CallStatus": "ringing"}).status_code == 200
    assert twilio.post("/voice/acme/step/1/input", {**params, "Digits": keys}).status_code == 200
    if end:
        done = twilio.post("/status/call", {**params, "CallStatus": "completed"})
        assert done.status_code == 204


def read(settings: Settings, body: Any) -> Any:
    async def run() -> Any:
        database = await open_database(settings.database())
        try:
            return await body(database)
        finally:
            await database.close()

    return asyncio.run(run())


def test_each_step_is_logged_with_its_commit_and_read_back_as_the_calls_path(
    twilio: Twilio, settings: Settings
) -> None:
    call(twilio, "CAhistory1", "1", end=True)
    rows = read(settings, lambda db: list_calls(db, flow="acme"))
    assert [(r.call_sid, r.status, r.last_node) for r in rows] == [
        ("CAhistory1", "completed", "sales")
    ]
    found = read(settings, lambda db: timeline(db, "CAhistory1")).as_dict()
    steps = [(s["kind"], s.get("node"), s.get("event")) for s in found["steps"]]
    assert steps == [("start", None, None), ("input", "main_menu", {"digits": "1"})]
    assert found["steps"][1]["path"] == [
        {"from": "main_menu", "via": "1", "to": "sales", "flow": "acme"}
    ]
    logged = query(
        settings, "SELECT COUNT(*) AS n FROM call_log WHERE call_sid = ?", ("CAhistory1",)
    )
    assert logged == [{"n": 2}]  # one entry per step, filed by the session's own statement


def test_ivr_calls_reads_the_servers_store_whichever_it_is(
    twilio: Twilio, settings: Settings
) -> None:
    call(twilio, "CAhistory2", "2", end=False)  # live: waits at support
    where = (
        ["--database", settings.database_url]
        if settings.database_url
        else ["--db", settings.db_path]
    )
    listed = subprocess.run(
        [sys.executable, "-m", "ivr_engine", "calls", *where, "--format", "json"],
        cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["call_sid"], row["status"]) == ("CAhistory2", "live")
    shown = subprocess.run(
        [sys.executable, "-m", "ivr_engine", "calls", "show", "CAhistory2", *where],
        cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "at main_menu: pressed 2" in shown.stdout
    if settings.database_url:
        assert settings.database_url.split("@")[0].split(":")[-1] not in shown.stdout + shown.stderr


def test_retention_prunes_old_ended_calls_and_their_logs_but_nothing_live(
    twilio: Twilio, settings: Settings
) -> None:
    for sid, end in (("CAold-ended", True), ("CAold-live", False), ("CAnew-ended", True)):
        call(twilio, sid, "1", end=end)
    query(
        settings,
        "UPDATE sessions SET updated_at = ?, created_at = ? WHERE call_sid LIKE 'CAold%'",
        (OLD, OLD),
    )
    counts = read(settings, lambda db: prune(db, datetime.now(UTC) - timedelta(days=30), batch=1))
    assert counts == {"calls": 1, "messages": 0}
    left = query(settings, "SELECT call_sid FROM sessions ORDER BY call_sid")
    assert [r["call_sid"] for r in left] == ["CAnew-ended", "CAold-live"]
    logs = query(settings, "SELECT DISTINCT call_sid FROM call_log ORDER BY call_sid")
    assert [r["call_sid"] for r in logs] == ["CAnew-ended", "CAold-live"]
