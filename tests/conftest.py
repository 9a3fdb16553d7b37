"""Shared test helpers: a real app over HTTP with real signed requests and a real SQLite file."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from ivr_engine.web import Settings, create_app
from tests.fakeapi import FakeApi, serve_fake_api
from tests.postgres import PostgresServer, pg_query

ROOT = Path(__file__).resolve().parents[1]
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
BASE = "http://testserver"


class Twilio:
    """Sends requests the way Twilio does: form-encoded and signed with the account's token."""

    def __init__(self, client: TestClient, token: str = AUTH_TOKEN, base: str = BASE) -> None:
        self.client = client
        self.validator = RequestValidator(token)
        self.base = base

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        return self.validator.compute_signature(url, dict(params))

    def post(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ):  # type: ignore[no-untyped-def]
        url = path if path.startswith("http") else self.base + path
        sig = self.sign(url, params) if signature is None else signature
        return self.client.post(
            url, data=dict(params), headers={"X-Twilio-Signature": sig, **(headers or {})}
        )

    def get(self, path: str, *, signature: str | None = None):  # type: ignore[no-untyped-def]
        url = path if path.startswith("http") else self.base + path
        sig = self.sign(url, {}) if signature is None else signature
        return self.client.get(url, headers={"X-Twilio-Signature": sig})


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    """A copy of the shipped flows that a test may edit."""
    target = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", target, ignore=shutil.ignore_patterns("tests"))
    return target


# ---- the store backends ------------------------------------------------------------------
# A test that takes `settings` (or `client`, `twilio`) runs on SQLite; a module that marks
# itself `pytest.mark.backends("sqlite", "postgresql")` runs each of its tests on both, the
# PostgreSQL one on a fresh database of the session's throwaway server (tests/postgres.py).


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backends(*names): run on these store backends")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        metafunc.parametrize("backend", marker.args if marker else ("sqlite",), indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """None on SQLite (the server uses `db_path`); a fresh PostgreSQL database's URL."""
    if backend == "postgresql":
        return request.getfixturevalue("postgres_server").new_database()  # type: ignore[no-any-return]
    return None


def query(settings: Settings, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows of a portable statement, read from the server's database, whichever it is."""
    if settings.database_url:
        return pg_query(settings.database_url, sql, params)
    with sqlite3.connect(settings.db_path) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(sql, params).fetchall()]


def values(settings: Settings, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """`query` as tuples, in column order."""
    return [tuple(row.values()) for row in query(settings, sql, params)]


@pytest.fixture
def settings(tmp_path: Path, flows_dir: Path, database_url: str | None) -> Settings:
    return Settings(
        flows_dir=flows_dir,
        db_path=str(tmp_path / "ivr.sqlite3"),
        database_url=database_url,
        auth_token=AUTH_TOKEN,
        reload_interval=0.05,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def twilio(client: TestClient) -> Twilio:
    return Twilio(client)


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    """A real HTTP server on 127.0.0.1 playing a company's API (see tests/fakeapi.py)."""
    yield from serve_fake_api()


def session_data(settings: Settings, call_sid: str) -> dict[str, Any]:
    """The call's session as the server stored it."""
    found = query(settings, "SELECT data FROM sessions WHERE call_sid = ?", (call_sid,))
    assert found, f"no session for {call_sid}"
    return json.loads(found[0]["data"])  # type: ignore[no-any-return]


# ---- a real server process, for the emulator and `ivr call` ----------------------------


@dataclass(frozen=True)
class Served:
    """`ivr serve` running in a subprocess on 127.0.0.1, on a copy of the shipped flows."""

    base: str
    db_path: Path
    log: Path

    def url(self, path: str) -> str:
        return self.base + path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for `python -m ivr_engine` subprocesses: this checkout's code first."""
    env = {k: v for k, v in os.environ.items() if k != "TWILIO_AUTH_TOKEN"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@contextmanager
def ivr_serve(home: Path, port: int, *, wait: bool = True) -> Iterator[Served]:
    """Run `python -m ivr_engine serve` on a copy of the shipped flows in `home`."""
    if not (home / "flows").exists():
        shutil.copytree(ROOT / "flows", home / "flows")
    log = home / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "ivr_engine", "serve", "--port", str(port)),
                *("--flows", str(home / "flows"), "--db", str(home / "ivr.sqlite3")),
                *("--log-level", "warning"),
            ],
            cwd=home,
            env=subprocess_env(TWILIO_AUTH_TOKEN=AUTH_TOKEN),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", home / "ivr.sqlite3", log)
    try:
        deadline = time.monotonic() + 20
        while wait:
            try:
                with urllib.request.urlopen(served.url("/healthz"), timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ivr serve did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield served
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with ivr_serve(tmp_path_factory.mktemp("served"), free_port()) as server:
        yield server
