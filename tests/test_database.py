"""The group-commit writer: one transaction script per batch, values written exactly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr_engine.store.database import Database, Write, bind, sql_literal

TRICKY = [
    "it's",
    "''",
    "'); DROP TABLE sessions; --",
    "a;b;c",
    "-- not a comment",
    'double "quotes" and \\ backslash',
    "line\nbreak\r\ttab",
    "émoji 📞 and ünïcode",
    "?",
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
def test_text_written_through_a_script_reads_back_identical(tmp_path: Path, text: str) -> None:
    async def body(db: Database) -> list[str]:
        await db.write(Write(INSERT, ("CA1", "k", text)))
        return [row["data"] for row in await db.fetchall("SELECT data FROM call_events")]

    assert asyncio.run(with_db(tmp_path, body)) == [text]


def test_a_literal_matches_sqlites_own_quote(tmp_path: Path) -> None:
    async def body(db: Database) -> list[tuple[str, str]]:
        values = [None, 0, -7, 12345678901234, 1.5, True, *TRICKY[:9]]
        found = []
        for value in values:
            row = await db.fetchone("SELECT quote(?) AS q", (value,))
            found.append((sql_literal(value), row["q"]))
        return found

    for ours, sqlites in asyncio.run(with_db(tmp_path, body)):
        assert ours == sqlites


def test_question_marks_inside_quotes_are_not_parameters() -> None:
    assert bind("SELECT '?', \"?\", ? -- ?\n, ?", (1, "a")) == "SELECT '?', \"?\", 1 -- ?\n, 'a'"


def test_text_with_nul_still_gets_written_through_parameters(tmp_path: Path) -> None:
    async def body(db: Database) -> list[str]:
        await db.write(Write(INSERT, ("CA1", "k", "before\x00after")))
        return [row["data"] for row in await db.fetchall("SELECT data FROM call_events")]

    assert asyncio.run(with_db(tmp_path, body)) == ["before\x00after"]


def test_one_callers_failing_write_does_not_undo_the_others_in_its_batch(tmp_path: Path) -> None:
    async def body(db: Database) -> tuple[list[object], list[str]]:
        good = [db.write(Write(INSERT, (f"CA{i}", "k", "ok"))) for i in range(3)]
        bad = db.write(
            Write(INSERT, ("CA9", "k", "half")), Write("INSERT INTO nowhere VALUES (?)", (1,))
        )
        results = await asyncio.gather(*good, bad, return_exceptions=True)
        rows = [
            row["call_sid"]
            for row in await db.fetchall("SELECT call_sid FROM call_events ORDER BY id")
        ]
        return results, rows

    results, rows = asyncio.run(with_db(tmp_path, body))
    assert results[:3] == [None, None, None]
    assert "no such table: nowhere" in str(results[3])
    assert rows == ["CA0", "CA1", "CA2"]  # the failing caller's first write was rolled back too


def test_numbered_parameters_are_bound_as_sqlite_numbers_them() -> None:
    assert bind("UPDATE t SET a = ?2, b = ?1, c = ? WHERE d = ?1", ("x", 3, None)) == (
        "UPDATE t SET a = 3, b = 'x', c = NULL WHERE d = 'x'"
    )


def test_numbered_parameters_write_the_right_values(tmp_path: Path) -> None:
    async def body(db: Database) -> list[tuple[str, str, str]]:
        await db.write(
            Write(
                "INSERT INTO call_events (data, kind, call_sid) VALUES (?3, ?2, ?1)",
                ("CA1", "k", "d"),
            )
        )
        return [tuple(r) for r in await db.fetchall("SELECT call_sid, kind, data FROM call_events")]

    assert asyncio.run(with_db(tmp_path, body)) == [("CA1", "k", "d")]


@pytest.mark.parametrize(
    ("sql", "params"),
    [("SELECT ?", ()), ("SELECT ?, ?", (1,)), ("SELECT ?1", (1, 2)), ("SELECT :name", (1,))],
)
def test_parameters_that_do_not_fit_take_the_parameterised_path(
    sql: str, params: tuple[object, ...]
) -> None:
    from ivr_engine.store.database import _NotLiteral

    with pytest.raises(_NotLiteral):
        bind(sql, params)
