"""Both store backends: choosing one, migrations, passwords kept out of messages, outages."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from ivr_engine.calls import apology_twiml
from ivr_engine.store.database import DatabaseUnavailable, Write
from ivr_engine.store.dialect import to_postgres
from ivr_engine.store.migrations import LATEST, SchemaTooNew
from ivr_engine.store.target import BadDatabaseUrl, open_database, parse_target, redact
from ivr_engine.web import Settings, create_app
from tests.conftest import Twilio, subprocess_env
from tests.postgres import PASSWORD, PostgresServer
from tests.web.calls import Call

pytestmark = pytest.mark.backends("sqlite", "postgresql")


def test_a_url_picks_the_backend_and_a_bare_path_is_a_sqlite_file() -> None:
    assert parse_target("postgresql://u:p@h:5432/d").kind == "postgresql"
    assert parse_target("postgres://u@h/d").kind == "postgresql"
    assert (
        parse_target("sqlite:///data/ivr.sqlite3").kind,
        parse_target("sqlite:///data/ivr.sqlite3").location,
    ) == ("sqlite", "data/ivr.sqlite3")
    assert parse_target("sqlite:////var/ivr.sqlite3").location == "/var/ivr.sqlite3"
    assert parse_target("ivr.sqlite3").location == "ivr.sqlite3"
    with pytest.raises(BadDatabaseUrl, match=r"^the database URL scheme 'mysql' is not supported"):
        parse_target("mysql://u:p@h/d")


def test_a_password_is_shown_as_stars_wherever_the_target_is_printed() -> None:
    target = parse_target("postgresql://ivr:hunter2@db.example.com:5432/ivr")
    assert target.display == "postgresql://ivr:***@db.example.com:5432/ivr"
    assert "hunter2" not in repr(target) and "hunter2" not in str(target)
    assert redact("postgresql://ivr@db/ivr") == "postgresql://ivr@db/ivr"
    assert "hunter2" not in repr(Settings(database_url="postgresql://ivr:hunter2@db/ivr"))
    with pytest.raises(BadDatabaseUrl) as refused:
        parse_target("postgresql://ivr:hunter2@db:notaport/ivr")
    assert "hunter2" not in str(refused.value)


def test_a_wrong_password_is_refused_without_showing_either_password(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.url(password="wrong-pass-123")
    with pytest.raises(DatabaseUnavailable) as refused:
        asyncio.run(open_database(parse_target(url)))
    message = str(refused.value)
    assert message.startswith(
        f"cannot connect to PostgreSQL at postgresql://postgres:***@127.0.0.1:{postgres_server.port}/postgres: "
    )
    assert "wrong-pass-123" not in message and PASSWORD not in message


def test_a_password_in_the_query_or_percent_encoded_is_kept_out_of_what_is_shown() -> None:
    target = parse_target(
        "postgresql:///ivr?host=/var/run/postgresql&user=ivr&password=s3%26cret&sslpassword=k3y1"
    )
    assert target.display == (
        "postgresql:///ivr?host=/var/run/postgresql&user=ivr&password=***&sslpassword=***"
    )
    assert target.scrub("auth failed: s3&cret, s3%26cret, key k3y1") == (
        "auth failed: ***, ***, key ***"
    )
    encoded = parse_target("postgresql://ivr:p%40ss-77@db/ivr")
    assert encoded.display == "postgresql://ivr:***@db/ivr"
    assert encoded.scrub("password p@ss-77 or p%40ss-77") == "password *** or ***"
    assert parse_target("postgresql://db/ivr?sslmode=require").secrets == []


def test_a_server_on_this_machine_is_reached_through_its_unix_socket(
    postgres_server: PostgresServer,
) -> None:
    """The password in the query (as libpq and asyncpg read it), shown nowhere when wrong."""
    database = postgres_server.new_database().rsplit("/", 1)[1]
    socket_url = (
        f"postgresql://postgres@/{database}?host={postgres_server.root}"
        f"&port={postgres_server.port}&password="
    )

    async def round_trip() -> str:
        store = await open_database(parse_target(socket_url + PASSWORD))
        try:
            insert = "INSERT INTO call_events (call_sid, kind, data) VALUES (?, ?, ?)"
            await store.write(Write(insert, ("CA-socket", "status", "{}")))
            row = await store.fetchone(
                "SELECT kind FROM call_events WHERE call_sid = ?", ("CA-socket",)
            )
            return str(row["kind"])
        finally:
            await store.close()

    assert asyncio.run(round_trip()) == "status"
    with pytest.raises(DatabaseUnavailable) as refused:
        asyncio.run(open_database(parse_target(socket_url + "wrong-pass-456")))
    message = str(refused.value)
    assert message.startswith(f"cannot connect to PostgreSQL at postgresql://postgres@/{database}?")
    assert "password=***" in message
    assert "wrong-pass-456" not in message and PASSWORD not in message


def test_the_database_password_is_masked_in_the_servers_log_lines(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        secrets = client.app.state.secrets
    if settings.database_url:
        assert PASSWORD in secrets  # a log line holding it is masked (see tests/history)
        assert secrets.mask(f"connect to {settings.database_url}") == (
            f"connect to {settings.database_url.replace(PASSWORD, '•••')}"
        )
    else:
        assert PASSWORD not in secrets


def test_the_pool_size_comes_from_the_environment_and_a_bad_one_is_refused() -> None:
    assert Settings.from_env({}).database_pool_size == 20
    assert Settings.from_env({"IVR_DATABASE_POOL_SIZE": "64"}).database_pool_size == 64
    for bad in ("0", "-3", "lots", "2.5", "²"):
        with pytest.raises(SystemExit, match=r"^IVR_DATABASE_POOL_SIZE='.*' is not a whole number"):
            Settings.from_env({"IVR_DATABASE_POOL_SIZE": bad})


def test_portable_statements_are_translated_for_postgresql() -> None:
    assert to_postgres("SELECT a FROM t WHERE b = ? AND c = '?' AND d = ?") == (
        "SELECT a FROM t WHERE b = $1 AND c = '?' AND d = $2"
    )
    assert to_postgres("UPDATE t SET a = ?2 WHERE id = ?1") == "UPDATE t SET a = $2 WHERE id = $1"
    assert to_postgres(
        "SET at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), x = max(t.x, excluded.x)"
    ) == ("SET at = ivr_now_text(), x = greatest(t.x, excluded.x)")


def _target(settings: Settings):  # type: ignore[no-untyped-def]
    return settings.database()


def test_migrations_are_recorded_and_opening_again_applies_nothing(settings: Settings) -> None:
    async def body() -> list[tuple[int, str]]:
        for _ in range(2):
            database = await open_database(_target(settings))
            rows = await database.fetchall("SELECT version, name FROM schema_migrations")
            await database.close()
        return [(row["version"], row["name"]) for row in rows]

    assert asyncio.run(body()) == [
        (1, "calls, flow versions, outbox and consent"),
        (2, "call history: the execution log"),
        (3, "queue call-back requests"),
        (4, "outbound calls and campaigns"),
    ]


@pytest.mark.backends("postgresql")  # SQLite: one process per file (tests/test_single_process.py)
def test_processes_starting_together_apply_each_migration_once(settings: Settings) -> None:
    async def body() -> int:
        opened = await asyncio.gather(*(open_database(_target(settings)) for _ in range(3)))
        (count,) = await opened[0].fetchone("SELECT count(*) FROM schema_migrations")
        for database in opened:
            await database.close()
        return int(count)

    assert asyncio.run(body()) == 4  # each of the four migrations once


def test_a_database_newer_than_the_code_is_refused_and_left_alone(settings: Settings) -> None:
    async def make_newer() -> None:
        database = await open_database(_target(settings))
        await database.write(
            Write(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (LATEST + 1, "from the future", "2030-01-01T00:00:00.000Z"),
            )
        )
        await database.close()

    asyncio.run(make_newer())
    display = _target(settings).display
    with pytest.raises(SchemaTooNew) as refused:
        asyncio.run(open_database(_target(settings)))
    assert str(refused.value) == (
        f"the database {display} is at schema version {LATEST + 1}, newer than this ivr-engine "
        f"knows (up to {LATEST}): upgrade ivr-engine, or use another database"
    )
    status = subprocess.run(
        [sys.executable, "-m", "ivr_engine", "db", "status", "--db", settings.db_path]
        + (["--database", settings.database_url] if settings.database_url else []),
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 1
    assert status.stdout.startswith(f"{display}: schema version {LATEST + 1} (this code: {LATEST})")
    assert status.stderr == f"ivr db: {refused.value}\n"
    assert PASSWORD not in status.stdout + status.stderr


def test_ivr_db_upgrade_creates_the_schema_and_status_then_says_up_to_date(
    settings: Settings,
) -> None:
    def ivr_db(action: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ivr_engine", "db", action, "--db", settings.db_path]
            + (["--database", settings.database_url] if settings.database_url else []),
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )

    display = _target(settings).display
    upgraded = ivr_db("upgrade")
    assert (upgraded.returncode, upgraded.stdout) == (
        0,
        f"{display}: applied 1 calls, flow versions, outbox and consent\n"
        f"{display}: applied 2 call history: the execution log\n"
        f"{display}: applied 3 queue call-back requests\n"
        f"{display}: applied 4 outbound calls and campaigns\n"
        f"{display}: schema version 4, up to date\n",
    )
    assert ivr_db("status").stdout == f"{display}: schema version 4 (this code: 4)\n"


# ---- PostgreSQL down, then back -----------------------------------------------------------


@pytest.mark.backends("postgresql")  # SQLite's failing writer: tests/web/test_database_failure.py
@pytest.mark.parametrize("outage", ["down", "hung"])
def test_while_postgresql_is_out_calls_hear_the_apology_within_2_s_and_recover_after(
    settings: Settings, caplog: pytest.LogCaptureFixture, outage: str
) -> None:
    """Down: the server is stopped and refuses. Hung: connections stay open and nothing comes
    back (SIGSTOP: a hung server, a cut network). Either is given up on within 2 s, for new
    calls and calls in progress, and the server recovers by itself."""
    own = PostgresServer().start()  # a server of its own, to stop and start again
    try:
        settings = replace(settings, database_url=own.new_database())
        with TestClient(create_app(settings)) as client:
            twilio = Twilio(client)
            call, pressing = Call(twilio, "acme"), Call(twilio, "acme", sid="CA" + "0" * 31 + "4")
            call.start()
            pressing.start()
            frozen = own.freeze() if outage == "hung" else own.pause()
            try:
                for sid in ("CA" + "0" * 31 + "5", "CA" + "0" * 31 + "6"):
                    started = time.monotonic()
                    answer = Call(twilio, "acme", sid=sid).start()
                    assert time.monotonic() - started < 2.0
                    assert answer.xml == apology_twiml()
                    [line] = [r for r in caplog.records if f"call {sid}:" in r.getMessage()]
                    assert "incoming call failed: PostgreSQL at postgresql://" in line.getMessage()
                    assert line.exc_info is None  # one line each, no traceback
                started = time.monotonic()
                assert pressing.press("1").xml == apology_twiml()  # a call in progress
                assert time.monotonic() - started < 2.0
                deadline = time.monotonic() + 5
                while (healthz := client.get("/healthz")).status_code != 503:
                    assert time.monotonic() < deadline, "/healthz never said 503"
                    time.sleep(0.1)
                assert healthz.text == "unavailable: the database is unreachable"
            finally:
                if frozen:
                    own.thaw(frozen)
                else:
                    own.resume()
            deadline = time.monotonic() + 15
            while client.get("/healthz").status_code != 200:
                assert time.monotonic() < deadline, "/healthz never recovered"
                time.sleep(0.1)
            assert call.press("1").verbs() == ["Dial"]  # the call carries on where it was
            assert Call(twilio, "acme", sid="CA" + "0" * 31 + "9").start().said()[0] == (
                "Thanks for calling Acme."
            )
    finally:
        own.stop()


@pytest.mark.backends("postgresql")
def test_a_call_lock_key_is_the_same_literal_whatever_the_string_settings(
    postgres_server: PostgresServer,
) -> None:
    """The lock query spells its key as a literal (one round trip): quotes, backslashes and
    other odd characters hash to what the key hashes to as a parameter, with
    standard_conforming_strings on or off, and nothing else runs."""
    import asyncpg

    from ivr_engine.store.postgres import _lock_query

    keys = ["CA" + "0" * 32, "a'b", "back\\slash", "'; DROP TABLE sessions; --", "é\\'x"]
    url = postgres_server.new_database()

    async def body() -> list[tuple[int, int]]:
        connection = await asyncpg.connect(url)
        try:
            found = []
            for conforming in ("on", "off"):
                await connection.execute(f"SET standard_conforming_strings = {conforming}")
                for key in keys:
                    query = _lock_query(key)
                    literal = query.split("hashtextextended(", 1)[1].rsplit(", 0))", 1)[0]
                    spelled = await connection.fetchval(f"SELECT hashtextextended({literal}, 0)")
                    given = await connection.fetchval("SELECT hashtextextended($1, 0)", key)
                    found.append((spelled, given))
                    await connection.execute(query)  # BEGIN and the lock: it runs as it is
                    await connection.execute("ROLLBACK")
            return found
        finally:
            await connection.close()

    for spelled, given in asyncio.run(body()):
        assert spelled == given


@pytest.mark.backends("postgresql")
def test_writes_under_a_call_lock_are_read_inside_it_and_committed_with_it(
    settings: Settings,
) -> None:
    """They are visible to a read under the lock and committed when it is let go; a failing
    one takes the whole step with it (nothing of it is committed), and the connection goes
    back to the pool fit for the next call."""

    async def body() -> tuple[object, ...]:
        database = await open_database(_target(settings))
        try:
            await database.write(
                Write("CREATE TABLE held (k text PRIMARY KEY, v text NOT NULL, b bytea)")
            )
            async with database.call_lock("CA1"):
                await database.write(
                    Write("INSERT INTO held (k, v) VALUES (?, ?)", ("one", "it's"))
                )
                inside = await database.fetchone("SELECT v FROM held WHERE k = ?", ("one",))
                await database.write(
                    Write("INSERT INTO held (k, v, b) VALUES (?, ?, ?)", ("bin", "x", b"\x00\x01"))
                )
                await database.write(Write("INSERT INTO held (k, v) VALUES (?, ?)", ("two", "2")))
            committed = await database.fetchall("SELECT k FROM held ORDER BY k")
            with pytest.raises(Exception, match="null value"):
                async with database.call_lock("CA2"):
                    await database.write(
                        Write("INSERT INTO held (k, v) VALUES (?, ?)", ("three", "3"))
                    )
                    await database.write(
                        Write("INSERT INTO held (k, v) VALUES (?, ?)", ("four", None))
                    )
            after = await database.fetchall("SELECT k FROM held ORDER BY k")
            async with database.call_lock("CA3"):  # the connection went back to the pool clean
                await database.write(Write("INSERT INTO held (k, v) VALUES (?, ?)", ("five", "5")))
            last = await database.fetchone("SELECT v FROM held WHERE k = ?", ("five",))
            return inside["v"], [r["k"] for r in committed], [r["k"] for r in after], last["v"]
        finally:
            await database.close()

    inside, committed, after, last = asyncio.run(body())
    assert inside == "it's"
    assert committed == ["bin", "one", "two"]
    assert after == ["bin", "one", "two"]  # neither "three" nor "four"
    assert last == "5"


@pytest.mark.backends("postgresql")
def test_a_task_started_under_a_call_lock_takes_its_own_lock_later(settings: Settings) -> None:
    """A timer or task started inside the lock copies its context (the way a voicemail's
    grace timer is started in the status callback's step); running after the lock was let
    go, it takes the call's lock itself instead of using the connection the lock had."""

    async def body() -> tuple[object, ...]:
        database = await open_database(_target(settings))
        try:
            await database.write(Write("CREATE TABLE later (k text PRIMARY KEY)"))
            loop = asyncio.get_running_loop()
            done: asyncio.Future[object] = loop.create_future()

            async def follow_up() -> None:
                try:
                    async with database.call_lock("CA1"):
                        await database.write(Write("INSERT INTO later (k) VALUES (?)", ("x",)))
                        row = await database.fetchone("SELECT k FROM later WHERE k = ?", ("x",))
                    done.set_result(row["k"])
                except Exception as exc:
                    done.set_exception(exc)

            async with database.call_lock("CA1"):
                loop.call_later(0.05, lambda: loop.create_task(follow_up()))
            found = await asyncio.wait_for(done, 5)
            rows = await database.fetchall("SELECT k FROM later")
            return found, [r["k"] for r in rows]
        finally:
            await database.close()

    assert asyncio.run(body()) == ("x", ["x"])
