"""The group-commit writer: batches commit together, values are written exactly, failures stay apart."""

from __future__ import annotations

import asyncio
import itertools
import random
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ivr_engine.store.database import (
    Database,
    DatabaseUnavailable,
    Write,
    _Pending,
    _schedule,
)
from ivr_engine.web import Settings, create_app

TRICKY = [
    "it's",
    "''",
    "'); DROP TABLE sessions; --",
    "a;b;c",
    'double "quotes" and \\ backslash',
    "line\nbreak\r\ttab",
    "émoji 📞 and ünïcode",
    "?",
    "with\x00nul",
    "x" * 100_000,
    "",
]

INSERT = "INSERT INTO call_events (call_sid, kind, data) VALUES (?, ?, ?)"


async def with_db(tmp_path: Path, body):  # type: ignore[no-untyped-def]
    database = await Database.open(tmp_path / "t.sqlite3")
    try:
        return await body(database)
    finally:
        await database.close()


@pytest.mark.parametrize("text", TRICKY)
def test_text_reads_back_identical(tmp_path: Path, text: str) -> None:
    async def body(db: Database) -> list[str]:
        await db.write(Write(INSERT, ("CA1", "k", text)))
        return [row["data"] for row in await db.fetchall("SELECT data FROM call_events")]

    assert asyncio.run(with_db(tmp_path, body)) == [text]


def test_numbered_parameters_write_the_right_values(tmp_path: Path) -> None:
    async def body(db: Database) -> list[tuple[str, str, str]]:
        sql = "INSERT INTO call_events (data, kind, call_sid) VALUES (?3, ?2, ?1)"
        await db.write(Write(sql, ("CA1", "k", "d")))
        return [tuple(r) for r in await db.fetchall("SELECT call_sid, kind, data FROM call_events")]

    assert asyncio.run(with_db(tmp_path, body)) == [("CA1", "k", "d")]


def test_writes_in_one_batch_run_in_the_order_they_were_asked_for(tmp_path: Path) -> None:
    upsert = (
        "INSERT INTO sessions (call_sid, flow_id, flow_version, step, data) VALUES (?, 'f', 'v', ?, '{}') "
        "ON CONFLICT (call_sid) DO UPDATE SET step = excluded.step"
    )
    bump = "UPDATE sessions SET step = step * 10 WHERE call_sid = ?"

    async def body(db: Database) -> list[int]:
        await asyncio.gather(
            db.write(Write(upsert, ("CA1", 1)), Write(bump, ("CA1",))),  # 1, then x10 = 10
            db.write(Write(bump, ("CA2",)), Write(upsert, ("CA2", 2))),  # no row yet, then 2
        )
        rows = await db.fetchall("SELECT step FROM sessions ORDER BY call_sid")
        return [row["step"] for row in rows]

    assert asyncio.run(with_db(tmp_path, body)) == [10, 2]


def test_concurrent_writes_share_a_commit_and_all_land(tmp_path: Path) -> None:
    async def body(db: Database) -> int:
        await asyncio.gather(*(db.write(Write(INSERT, (f"CA{i}", "k", "x"))) for i in range(50)))
        row = await db.fetchone("SELECT count(*) AS n FROM call_events")
        return int(row["n"])

    assert asyncio.run(with_db(tmp_path, body)) == 50


def test_a_batch_of_several_statements_and_its_commit_is_one_hand_off_to_sqlites_thread(
    tmp_path: Path,
) -> None:
    """Counted at aiosqlite's own queue (`Connection._execute`, which every aiosqlite method
    goes through): the real queue runs, the count shows how often the writer used it."""
    upsert = (
        "INSERT INTO sessions (call_sid, flow_id, flow_version, step, data) "
        "VALUES (?, 'f', 'v', 1, '{}') ON CONFLICT (call_sid) DO UPDATE SET step = step + 1"
    )

    async def body(db: Database) -> tuple[int, int, int]:
        queue = db.connection._execute
        used = 0

        async def counted(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal used
            used += 1
            return await queue(fn, *args, **kwargs)

        db.connection._execute = counted  # type: ignore[method-assign]
        await asyncio.gather(
            *(
                db.write(Write(upsert, (f"CA{i}",)), Write(INSERT, (f"CA{i}", "k", "x")))
                for i in range(5)
            )
        )
        writes = used
        events = await db.fetchone("SELECT count(*) AS n FROM call_events")
        sessions = await db.fetchone("SELECT count(*) AS n FROM sessions")
        return writes, int(events["n"]), int(sessions["n"])

    # five steps, two kinds of statement, one commit: one hand-off (it was three)
    assert asyncio.run(with_db(tmp_path, body)) == (1, 5, 5)


def test_one_callers_failing_write_does_not_undo_the_others_in_its_batch(tmp_path: Path) -> None:
    async def body(db: Database) -> tuple[list[object], list[str]]:
        good = [db.write(Write(INSERT, (f"CA{i}", "k", "ok"))) for i in range(3)]
        bad = db.write(
            Write(INSERT, ("CA9", "k", "half")), Write("INSERT INTO nowhere VALUES (?)", (1,))
        )
        results = await asyncio.gather(*good, bad, return_exceptions=True)
        rows = await db.fetchall("SELECT call_sid FROM call_events ORDER BY id")
        return results, [row["call_sid"] for row in rows]

    results, rows = asyncio.run(with_db(tmp_path, body))
    assert results[:3] == [None, None, None]
    assert "no such table: nowhere" in str(results[3])
    assert rows == ["CA0", "CA1", "CA2"]  # the failing caller's first write was rolled back too


def _pending(*sqls: str, independent: bool, caller: int) -> _Pending:
    writes = [Write(sql, (caller, i)) for i, sql in enumerate(sqls)]
    return _Pending(writes, None, independent)  # type: ignore[arg-type]  # never awaited here


def _execution_order(runs: list[tuple[str, list[object]]]) -> list[tuple[str, object]]:
    return [(sql, params) for sql, rows in runs for params in rows]


def test_independent_steps_share_one_run_per_statement() -> None:
    # Steps of different calls each save a session and record an event: however many share
    # a batch, that is two statements to run, not two per call.
    batch = [_pending("S", "E", independent=True, caller=c) for c in range(5)]
    runs = _schedule(batch)
    assert [sql for sql, _ in runs] == ["S", "E"]
    assert [len(rows) for _, rows in runs] == [5, 5]


def test_ordered_writes_are_never_moved_before_earlier_ones() -> None:
    batch = [
        _pending("A", "B", independent=False, caller=0),
        _pending("B", "A", independent=False, caller=1),
    ]
    order = _execution_order(_schedule(batch))
    assert order == [("A", (0, 0)), ("B", (0, 1)), ("B", (1, 0)), ("A", (1, 1))]


@pytest.mark.parametrize("seed", range(200))
def test_schedule_keeps_every_promise_it_makes(seed: int) -> None:
    """Each caller's writes in order; ordered callers after every earlier ordered caller."""
    rng = random.Random(seed)
    batch = [
        _pending(
            *rng.choices("ABCD", k=rng.randint(1, 4)),
            independent=rng.random() < 0.6,
            caller=c,
        )
        for c in range(rng.randint(1, 8))
    ]
    order = _execution_order(_schedule(batch))
    position = {params: i for i, (_, params) in enumerate(order)}
    assert sorted(position) == sorted(w.params for p in batch for w in p.writes)  # all, once
    for pending in batch:
        places = [position[w.params] for w in pending.writes]
        assert places == sorted(places)
        assert [order[i][0] for i in places] == [w.sql for w in pending.writes]
    ordered = [p for p in batch if not p.independent]
    for earlier, later in itertools.pairwise(ordered):
        assert position[earlier.writes[-1].params] < position[later.writes[0].params]


def test_independent_writers_in_a_real_batch_all_land_atomically(tmp_path: Path) -> None:
    upsert = (
        "INSERT INTO sessions (call_sid, flow_id, flow_version, step, data) VALUES (?, 'f', 'v', ?, '{}') "
        "ON CONFLICT (call_sid) DO UPDATE SET step = excluded.step"
    )

    async def body(db: Database) -> tuple[list[object], int, int]:
        writers = [
            db.write(
                Write(upsert, (f"CA{i}", i)), Write(INSERT, (f"CA{i}", "k", "x")), independent=True
            )
            for i in range(20)
        ]
        bad = db.write(
            Write(upsert, ("CA99", 99)),
            Write("INSERT INTO nowhere VALUES (?)", (1,)),
            independent=True,
        )
        results = await asyncio.gather(*writers, bad, return_exceptions=True)
        sessions = await db.fetchone("SELECT count(*) AS n FROM sessions")
        events = await db.fetchone("SELECT count(*) AS n FROM call_events")
        return results, int(sessions["n"]), int(events["n"])

    results, sessions, events = asyncio.run(with_db(tmp_path, body))
    assert results[:20] == [None] * 20
    assert "no such table: nowhere" in str(results[20])
    assert (sessions, events) == (20, 20)  # CA99's session was rolled back with its failure


# ---- the supervised writer --------------------------------------------------------------


def test_a_write_queued_just_before_close_is_committed_and_close_returns(tmp_path: Path) -> None:
    async def body() -> int:
        db = await Database.open(tmp_path / "t.sqlite3")
        first = asyncio.create_task(db.write(Write(INSERT, ("CA1", "k", "x"))))
        await asyncio.sleep(0)  # queued, the writer not yet resumed
        await asyncio.wait_for(db.close(), 2)
        await first
        return (
            sqlite3.connect(tmp_path / "t.sqlite3")
            .execute("SELECT count(*) FROM call_events")
            .fetchone()[0]
        )

    assert asyncio.run(body()) == 1


def test_a_failing_rollback_fails_the_waiting_writes_and_the_writer_comes_back(
    tmp_path: Path,
) -> None:
    async def body() -> tuple[list[str], bool, int]:
        db = await Database.open(tmp_path / "t.sqlite3")
        try:
            connection = db.connection
            await connection._execute(connection._conn.close)  # commit and rollback now raise
            results = await asyncio.gather(
                *(db.write(Write(INSERT, (f"CA{i}", "k", "x"))) for i in range(3)),
                return_exceptions=True,
            )
            was_healthy = db.healthy
            for _ in range(100):
                if db.healthy:
                    break
                await asyncio.sleep(0.02)
            await db.write(Write(INSERT, ("CA9", "k", "x")))
            (count,) = await db.fetchone("SELECT count(*) FROM call_events")
            return [type(r).__name__ for r in results], was_healthy, count
        finally:
            await db.close()

    errors, was_healthy, count = asyncio.run(body())
    assert errors == ["DatabaseUnavailable"] * 3
    assert not was_healthy
    assert count == 1


def test_a_commit_that_takes_too_long_fails_the_write_within_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"

    async def body() -> float:
        db = await Database.open(path, write_timeout=0.3)
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # the writer now waits on SQLite's busy timeout
        try:
            started = time.monotonic()
            with pytest.raises(DatabaseUnavailable, match=r"did not commit within 0\.3 s"):
                await db.write(Write(INSERT, ("CA1", "k", "x")))
            return time.monotonic() - started
        finally:
            blocker.rollback()
            blocker.close()
            await db.close()

    assert asyncio.run(body()) < 1.0


def test_a_failed_read_makes_the_writer_check_and_reopen_its_connection(tmp_path: Path) -> None:
    async def body() -> int:
        db = await Database.open(tmp_path / "t.sqlite3")
        try:
            await db.write(Write(INSERT, ("CA1", "k", "x")))
            connection = db.connection
            await connection._execute(connection._conn.close)
            with pytest.raises(sqlite3.ProgrammingError):
                await db.fetchone("SELECT count(*) FROM call_events")
            for _ in range(100):  # no write needed: the read alone brings the writer round
                if db.connection is not connection and db.healthy:
                    break
                await asyncio.sleep(0.02)
            (count,) = await db.fetchone("SELECT count(*) FROM call_events")
            return int(count)
        finally:
            await db.close()

    assert asyncio.run(body()) == 1


def test_a_key_lookup_is_answered_while_the_writers_thread_is_busy(tmp_path: Path) -> None:
    """A call's session is read in the event loop's thread: it sees the last commit and does
    not queue behind a commit in progress (an fsync), as other reads do."""

    async def body(db: Database) -> tuple[object, float, bool]:
        await db.write(Write(INSERT, ("CA1", "k", "committed")))
        connection = db.connection
        busy = asyncio.ensure_future(connection._execute(lambda: time.sleep(0.8)))
        await asyncio.sleep(0.05)  # the writer's thread is now in the middle of "a commit"
        started = time.monotonic()
        row = await db.fetchone(
            "SELECT data FROM call_events WHERE call_sid = ?", ("CA1",), key_lookup=True
        )
        waited = time.monotonic() - started
        other = asyncio.ensure_future(db.fetchone("SELECT count(*) FROM call_events"))
        await asyncio.sleep(0.1)
        queued = not other.done()  # an ordinary read waits for the thread
        await busy
        await other
        return row["data"] if row else None, waited, queued

    data, waited, queued = asyncio.run(with_db(tmp_path, body))
    assert data == "committed" and waited < 0.3 and queued


def test_a_key_lookup_the_reader_cannot_answer_goes_to_the_writers_thread(tmp_path: Path) -> None:
    async def body(db: Database) -> object:
        await db.write(Write(INSERT, ("CA1", "k", "committed")))
        assert db._reader is not None
        db._reader.close()  # whatever refuses it (a busy or unwell file) is not the caller's
        row = await db.fetchone(
            "SELECT data FROM call_events WHERE call_sid = ?", ("CA1",), key_lookup=True
        )
        return row["data"] if row else None

    assert asyncio.run(with_db(tmp_path, body)) == "committed"


# ---- durability -------------------------------------------------------------------------


async def _synchronous_of(tmp_path: Path, **options: str) -> int:
    db = await Database.open(tmp_path / "t.sqlite3", **options)
    try:
        (level,) = await db.fetchone("PRAGMA synchronous")
        return int(level)
    finally:
        await db.close()


def test_commits_are_fsynced_by_default_so_a_step_survives_a_power_failure(
    tmp_path: Path,
) -> None:
    assert asyncio.run(_synchronous_of(tmp_path)) == 2  # FULL


@pytest.mark.parametrize(("name", "level"), [("normal", 1), ("FULL", 2), ("extra", 3)])
def test_the_synchronous_level_can_be_chosen(tmp_path: Path, name: str, level: int) -> None:
    assert asyncio.run(_synchronous_of(tmp_path, synchronous=name)) == level


def test_a_synchronous_level_outside_the_choices_is_refused_in_words() -> None:
    settings = Settings.from_env({"IVR_SQLITE_SYNCHRONOUS": "off", "TWILIO_AUTH_TOKEN": "t"})
    with pytest.raises(
        SystemExit,
        match=r"^IVR_SQLITE_SYNCHRONOUS is 'off': it must be one of FULL, NORMAL, EXTRA$",
    ):
        settings.check()


def test_the_environment_sets_the_synchronous_level_and_full_is_the_default() -> None:
    assert Settings.from_env({"IVR_SQLITE_SYNCHRONOUS": "NORMAL"}).sqlite_synchronous == "NORMAL"
    assert Settings.from_env({}).sqlite_synchronous == "FULL"


def test_the_server_opens_its_database_at_the_level_its_settings_give(settings: Settings) -> None:
    with TestClient(create_app(replace(settings, sqlite_synchronous="NORMAL"))) as client:
        database = client.app.state.database  # type: ignore[attr-defined]
        (level,) = client.portal.call(database.fetchone, "PRAGMA synchronous")  # type: ignore[union-attr]
    assert level == 1
