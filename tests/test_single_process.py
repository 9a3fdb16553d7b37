"""One server process per SQLite file: a second `ivr serve` on the same file is refused."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from ivr_engine.store.database import Database
from tests.conftest import AUTH_TOKEN, free_port, ivr_serve, subprocess_env


def serve(home: Path, port: int) -> subprocess.CompletedProcess[str]:
    """`ivr serve` on home's flows and database, to its end (it should not get far)."""
    return subprocess.run(
        [
            *(sys.executable, "-m", "ivr_engine", "serve", "--port", str(port)),
            *("--flows", str(home / "flows"), "--db", str(home / "ivr.sqlite3")),
        ],
        cwd=home,
        env=subprocess_env(TWILIO_AUTH_TOKEN=AUTH_TOKEN),
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_second_server_on_the_same_sqlite_file_stops_at_start_with_one_line(
    tmp_path: Path,
) -> None:
    with ivr_serve(tmp_path, free_port()) as first:
        second = serve(tmp_path, free_port())
        with urllib.request.urlopen(first.url("/healthz"), timeout=5) as answer:
            assert answer.status == 200  # the first one never noticed
    assert second.returncode == 1
    [line] = second.stderr.splitlines()
    assert re.fullmatch(
        re.escape(f"ivr serve: the SQLite database {tmp_path / 'ivr.sqlite3'} is already in use")
        + r" by another ivr server process \(pid \d+\): one SQLite file serves one server "
        r"process; to run several server processes use PostgreSQL",
        line,
    ), line


def test_the_file_is_free_again_once_the_first_server_has_stopped(tmp_path: Path) -> None:
    with ivr_serve(tmp_path, free_port()):
        pass
    with (
        ivr_serve(tmp_path, free_port()) as again,
        urllib.request.urlopen(again.url("/healthz"), timeout=5) as answer,
    ):
        assert answer.status == 200


def test_a_second_database_opened_by_another_process_is_refused(tmp_path: Path) -> None:
    """The lock is taken by `Database.open` itself, not only by `ivr serve`."""
    script = (
        "import asyncio, sys\n"
        "from ivr_engine.store.database import Database\n"
        "from ivr_engine.store.filelock import DatabaseInUse\n"
        "async def main():\n"
        "    try:\n"
        "        await Database.open(sys.argv[1])\n"
        "    except DatabaseInUse as exc:\n"
        "        print(exc)\n"
        "asyncio.run(main())\n"
    )

    async def hold_and_try() -> str:
        database = await Database.open(tmp_path / "ivr.sqlite3")
        try:
            other = await asyncio.create_subprocess_exec(
                *(sys.executable, "-c", script, str(tmp_path / "ivr.sqlite3")),
                env=subprocess_env(),
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await other.communicate()
            return out.decode()
        finally:
            await database.close()

    assert asyncio.run(hold_and_try()).startswith(
        f"the SQLite database {tmp_path / 'ivr.sqlite3'} is already in use by another ivr "
        f"server process (pid {os.getpid()})"
    )
