"""A throwaway PostgreSQL server for the test session: Debian's binaries, a temporary cluster.

We run as root and `initdb` refuses root, so the cluster's folder belongs to the `postgres`
user and `initdb` / `pg_ctl` run as that user (`runuser`). The server listens on 127.0.0.1 on
a free port, with password authentication (so the tests see URLs with a password, as in
production) and fsync off (the tests do not measure durability). Each test gets a database of
its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import asyncpg

from ivr_engine.store.dialect import to_postgres

PASSWORD = "pg-test-pass-5f3a9c"
USER = "postgres"
_names = itertools.count(1)


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise RuntimeError(
            f"PostgreSQL's {name} is not installed: run `apt-get install -y postgresql` "
            "(bash .ci/run does this)"
        )
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(*command: str) -> None:
    prefix = ["runuser", "-u", USER, "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *command], check=True, capture_output=True, text=True, timeout=120)


class PostgresServer:
    _options = ""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ivr-pg-"))
        self.port = _free_port()
        self.data = self.root / "data"

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            shutil.chown(self.root, USER, USER)
        password_file = self.root / "password"
        password_file.write_text(PASSWORD)
        if os.geteuid() == 0:
            shutil.chown(password_file, USER, USER)
        _as_postgres(
            *(_binary("initdb"), "-D", str(self.data), "-U", USER, "--pwfile", str(password_file)),
            *("-A", "scram-sha-256", "-E", "UTF8", "--no-sync"),
        )
        options = self._options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        _as_postgres(
            *(_binary("pg_ctl"), "-D", str(self.data), "-o", options),
            *("-l", str(self.root / "server.log"), "-w", "start"),
        )
        return self

    def pause(self) -> None:
        """Stop the server (fast shutdown: clients see their connections drop)."""
        _as_postgres(_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        _as_postgres(
            *(_binary("pg_ctl"), "-D", str(self.data), "-o", self._options),
            *("-l", str(self.root / "server.log"), "-w", "start"),
        )

    def _processes(self) -> list[int]:
        """The postmaster and its children (backends, writer, checkpointer...)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        return [postmaster, *map(int, children)]

    def freeze(self) -> list[int]:
        """Stop every process of the server (SIGSTOP): connections stay open and nothing
        answers, as with a hung server or a cut network. `thaw` them again."""
        frozen = self._processes()
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        return frozen

    def thaw(self, frozen: list[int]) -> None:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        try:
            _as_postgres(_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"test_{os.getpid()}_{next(_names)}"

        async def create() -> None:
            connection = await asyncpg.connect(self.url())
            try:
                await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
            finally:
                await connection.close()

        asyncio.run(create())
        return self.url(name)


def pg_query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows of a portable statement, read straight from PostgreSQL (as a test's check)."""

    async def run() -> list[dict[str, Any]]:
        connection = await asyncpg.connect(url)
        try:
            return [dict(row) for row in await connection.fetch(to_postgres(sql), *params)]
        finally:
            await connection.close()

    return asyncio.run(run())
