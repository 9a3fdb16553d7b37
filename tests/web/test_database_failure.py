"""A database that fails mid-call: the caller hears the apology in time, the next call works."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from starlette.testclient import TestClient

from ivr_engine.calls import apology_twiml
from ivr_engine.store.database import Database
from ivr_engine.web import Settings, create_app
from tests.conftest import Twilio
from tests.web.calls import Call

DEADLINE = 5.0  # seconds: the test fails instead of hanging if the webhook never answers


def kill_connection(client: TestClient) -> None:
    """Close the writer's SQLite connection under it, as a dying database handle would."""
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    connection = database.connection

    async def close_underneath() -> None:
        await connection._execute(connection._conn.close)  # aiosqlite keeps running, unaware

    client.portal.call(close_underneath)  # type: ignore[union-attr]


def wait_healthy(client: TestClient) -> int:
    deadline = time.monotonic() + DEADLINE
    while (status := client.get("/healthz").status_code) != 200:
        assert time.monotonic() < deadline, "the server did not report healthy again"
        time.sleep(0.02)
    return status


def test_a_killed_database_connection_mid_call_answers_the_apology_and_the_next_call_works(
    client: TestClient, twilio: Twilio
) -> None:
    call = Call(twilio, "acme")
    call.start()
    kill_connection(client)
    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(call.press, "1").result(timeout=DEADLINE)
    assert time.monotonic() - started < 2.0
    assert answer.xml == apology_twiml()
    assert wait_healthy(client) == 200
    nxt = Call(twilio, "acme", sid="CA" + "0" * 31 + "2")
    assert nxt.start().verbs() == ["Say", "Gather", "Redirect"]
    assert nxt.press("1").verbs() == ["Dial"]


def test_healthz_is_503_until_the_database_can_be_reopened_then_calls_recover(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "db"
    settings = replace(settings, db_path=str(folder / "ivr.sqlite3"))
    with TestClient(create_app(settings)) as client:
        twilio = Twilio(client)
        call = Call(twilio, "acme")
        call.start()
        folder.rename(tmp_path / "away")  # open handles still work; a new open fails
        kill_connection(client)
        assert call.press("1").xml == apology_twiml()
        response = client.get("/healthz")
        assert (response.status_code, response.text) == (
            503,
            "unavailable: the database writer is down",
        )
        assert Call(twilio, "acme", sid="CA" + "0" * 31 + "3").start().xml == apology_twiml()
        (tmp_path / "away").rename(folder)
        assert wait_healthy(client) == 200
        call.answers.pop()  # Twilio would retry the gather's action: the step did not happen
        assert call.press("1").verbs() == ["Dial"]
