"""`ivr messages` and `ivr messages retry`, run as real subprocesses on the server's store: its
SQLite file (`--db`) or the PostgreSQL database several servers share (`--database`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from starlette.testclient import TestClient

from ivr_engine.web import Settings, create_app
from tests.conftest import ROOT, Twilio
from tests.messaging.conftest import CALLER, rows, settled, text, wait_until
from tests.messaging.fake_twilio import FakeTwilio, Reply
from tests.web.calls import Call

pytestmark = pytest.mark.backends("sqlite", "postgresql")


def ivr(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("IVR_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "ivr_engine", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def where(settings: Settings) -> list[str]:
    """How the command is pointed at the server's store."""
    if settings.database_url:
        return ["--database", settings.database_url]
    return ["--db", settings.db_path]


def run_calls(settings: Settings, fake: FakeTwilio) -> None:
    """One message dead-lettered (Twilio kept failing), one sent, one never sendable."""
    with TestClient(create_app(settings)) as client:
        twilio = Twilio(client)
        fake.answer_next(*[Reply(500, 0, "Internal Server Error")] * 4)
        Call(twilio, "ticket", sid="CA" + "1" * 32).start()
        wait_until(lambda: settled(settings, 1), "the first message is dead-lettered")
        Call(twilio, "ticket", sid="CA" + "2" * 32).start()
        Call(twilio, "bad_number", sid="CA" + "3" * 32).start()
        wait_until(lambda: settled(settings, 3), "all three are decided")
        text(twilio, "STOP", sender="whatsapp:" + CALLER)


def test_messages_lists_rows_newest_first_with_reasons_and_history(
    settings: Settings, fake: FakeTwilio
) -> None:
    run_calls(settings, fake)
    result = ivr("messages", *where(settings))
    assert result.returncode == 0, result.stderr
    headings = [line for line in result.stdout.splitlines() if line.startswith("#")]
    assert [h.split(":")[0] for h in headings] == ["#3 not_sent", "#2 sent", "#1 dead"]
    assert f"#1 dead: sms to {CALLER} (flow ticket, node text_ticket, call CA{'1' * 32}, " in (
        result.stdout
    )
    assert (
        "    reason: gave up after 4 attempt(s): Twilio refused it: Internal Server Error (HTTP 500)"
        in result.stdout.splitlines()
    )
    history_states = [
        line.split()[1] for line in result.stdout.splitlines() if line[:6] == "    20"
    ]
    assert history_states.count("sending") == 5  # four for #1, one for #2


def test_messages_filters_by_status_and_by_recipient_with_its_consent(
    settings: Settings, fake: FakeTwilio
) -> None:
    run_calls(settings, fake)
    dead = ivr("messages", *where(settings), "--status", "dead")
    assert [line[:7] for line in dead.stdout.splitlines() if line.startswith("#")] == ["#1 dead"]
    mine = ivr("messages", *where(settings), "--to", CALLER)
    lines = mine.stdout.splitlines()
    assert lines[0].startswith(f"{CALLER}: opt-out of whatsapp at 20")
    assert lines[0].endswith("(replied STOP)")
    assert [line.split(":")[0] for line in lines if line.startswith("#")] == ["#2 sent", "#1 dead"]
    none = ivr("messages", *where(settings), "--to", "+15550009999")
    assert none.stdout == "no messages match\n"


def test_retry_requeues_a_dead_message_and_the_server_then_sends_it(
    settings: Settings, fake: FakeTwilio
) -> None:
    run_calls(settings, fake)
    result = ivr("messages", "retry", "1", *where(settings))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "message #1 re-queued (it was dead: gave up after 4 attempt(s): Twilio refused it: "
        "Internal Server Error (HTTP 500))"
    )
    with TestClient(create_app(settings)):
        wait_until(lambda: rows(settings)[0]["status"] == "sent", "the retried message is sent")
    assert len(fake.sent_to(CALLER)) == 2


def test_retry_refuses_a_sent_message_and_an_unknown_one(
    settings: Settings, fake: FakeTwilio
) -> None:
    run_calls(settings, fake)
    sent = ivr("messages", *where(settings), "retry", "2")
    assert sent.returncode == 1
    assert sent.stderr == (
        "error: message #2 is sent: Twilio already has it; retrying would send it twice "
        "(only dead, failed or not_sent messages can be retried)\n"
    )
    missing = ivr("messages", *where(settings), "retry", "99")
    assert (missing.returncode, missing.stderr) == (
        1,
        "error: there is no message #99: `ivr messages` lists them\n",
    )


def test_messages_without_a_database_says_where_it_looked(tmp_path: object) -> None:
    result = ivr("messages", "--db", "/nonexistent/ivr.sqlite3")
    assert (result.returncode, result.stderr) == (
        1,
        "error: no database at /nonexistent/ivr.sqlite3: pass --db or set IVR_DB to the "
        "server's database\n",
    )
