"""`ivr serve` as a process: draining on SIGTERM, and --workers (PostgreSQL only)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import AUTH_TOKEN, ROOT, free_port, subprocess_env
from tests.postgres import PostgresServer


def start(home: Path, port: int, *extra: str, **env: str) -> subprocess.Popen[str]:
    if not (home / "flows").exists():
        shutil.copytree(ROOT / "flows", home / "flows")
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "ivr_engine", "serve", "--port", str(port)),
            *("--flows", str(home / "flows"), "--db", str(home / "ivr.sqlite3"), *extra),
        ],
        cwd=home,
        env=subprocess_env(TWILIO_AUTH_TOKEN=AUTH_TOKEN, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def health(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def wait_up(process: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 30
    while health(port)[0] != 200:
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "ivr serve did not start"
        time.sleep(0.05)


def test_sigterm_drains_healthz_503_while_still_serving_then_exits_0(tmp_path: Path) -> None:
    port = free_port()
    process = start(tmp_path, port, IVR_DRAIN_SECONDS="2")
    try:
        wait_up(process, port)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert health(port) == (503, "unavailable: draining, shutting down")
        assert process.poll() is None  # still serving while the balancer takes it out
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_workers_on_sqlite_are_refused_with_the_reason(tmp_path: Path) -> None:
    process = start(tmp_path, free_port(), "--workers", "2")
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert out.splitlines() == [
        f"ivr serve: --workers 2 needs PostgreSQL: the SQLite database "
        f"{tmp_path / 'ivr.sqlite3'} serves one server process (its calls' locks and cache "
        "live in that process); set IVR_DATABASE_URL=postgresql://... or give --database"
    ]


def test_workers_on_postgresql_start_that_many_processes(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    port = free_port()
    process = start(tmp_path, port, "--workers", "2", "--database", postgres_server.new_database())
    try:
        wait_up(process, port)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert len(children) >= 2  # uvicorn's supervisor runs one process per worker
    finally:
        process.terminate()
        process.wait(timeout=30)


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
