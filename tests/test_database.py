"""The group-commit writer: batches commit together, values are written exactly, failures stay apart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr_engine.store.database import Database, Write

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
