"""`ivr serve` as a process: draining on SIGTERM, and --workers (PostgreSQL only)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
from prometheus_client.parser import text_string_to_metric_families
from twilio.request_validator import RequestValidator

from ivr_engine.web import Settings
from tests.conftest import AUTH_TOKEN, ROOT, free_port, subprocess_env, values
from tests.fakeapi import FakeApi
from tests.postgres import PostgresServer
from tests.web.test_concurrency import SLOW


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


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_a_step_in_flight_answer_and_commit_before_exiting_0(
    tmp_path: Path, fake_api: FakeApi, postgres_server: PostgresServer, workers: int
) -> None:
    """The step waits on a slow API when SIGTERM comes: its caller still gets the answer, the
    step is on disk, the process (or `--workers 2`'s supervisor) exits 0."""
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    (tmp_path / "flows" / "slow.yaml").write_text(SLOW.format(api=fake_api.url))
    url = postgres_server.new_database() if workers > 1 else None
    settings = Settings(db_path=str(tmp_path / "ivr.sqlite3"), database_url=url)
    port = free_port()
    extra = ("--workers", str(workers), "--database", url) if url else ()
    process = start(tmp_path, port, *extra)
    sid = "CA" + "d" * 32
    try:
        wait_up(process, port)
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(_post, port, "/voice/slow", sid)
            assert fake_api.arrived.acquire(timeout=20), "the step did not reach the API"
            process.send_signal(signal.SIGTERM)
            time.sleep(1.0)  # the server is stopping meanwhile
            assert process.poll() is None and not answer.done()
            fake_api.release.set()
            status, twiml = answer.result(timeout=20)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (status, "Slow answer True." in twiml) == (200, True)
    assert values(settings, "SELECT step, ended FROM sessions WHERE call_sid = ?", (sid,)) == [
        (1, 1)
    ]


def test_a_drain_that_is_not_a_number_is_refused_with_one_line(tmp_path: Path) -> None:
    process = start(tmp_path, free_port(), IVR_DRAIN_SECONDS="five")
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 1
    assert out.splitlines() == [
        "IVR_DRAIN_SECONDS='five' is not a number (e.g. IVR_DRAIN_SECONDS=0)"
    ]


def test_workers_on_sqlite_are_refused_with_the_reason(tmp_path: Path) -> None:
    process = start(tmp_path, free_port(), "--workers", "2")
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert out.splitlines() == [
        f"ivr serve: --workers 2 needs PostgreSQL: the SQLite database "
        f"{tmp_path / 'ivr.sqlite3'} serves one server process (its calls' locks and cache "
        "live in that process); set IVR_DATABASE_URL=postgresql://... or give --database"
    ]


@contextmanager
def two_workers(
    home: Path, server: PostgresServer, **env: str
) -> Iterator[tuple[int, list[str], subprocess.Popen[str]]]:
    """`ivr serve --workers 2` on a fresh PostgreSQL database: its port, the supervisor's
    children (the workers) and the supervisor."""
    port = free_port()
    process = start(home, port, "--workers", "2", "--database", server.new_database(), **env)
    try:
        wait_up(process, port)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        yield port, children, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_workers_on_postgresql_start_that_many_processes(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    with two_workers(tmp_path, postgres_server) as (_, children, _):
        assert len(children) >= 2  # uvicorn's supervisor runs one process per worker


def test_sigterm_drains_every_worker_then_the_supervisor_exits_0(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    with two_workers(tmp_path, postgres_server, IVR_DRAIN_SECONDS="3") as (port, _, supervisor):
        supervisor.send_signal(signal.SIGTERM)
        time.sleep(0.8)  # the supervisor looks at its signals twice a second
        # each worker answers 503 (new connections: the balancer's checks reach both)
        assert {health(port) for _ in range(8)} == {(503, "unavailable: draining, shutting down")}
        assert _call_started(port, "CA" + "c" * 32) == 200  # and still serves calls
        assert supervisor.wait(timeout=25) == 0  # after the drain, the workers' shutdown


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def _post(port: int, path: str, call_sid: str) -> tuple[int, str]:
    """A signed incoming-call webhook on a new connection: its status and body."""
    url = f"http://127.0.0.1:{port}{path}"
    params = {"CallSid": call_sid, "From": "+15551230000", "To": "+15550000000"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    request = urllib.request.Request(
        url, urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
    )
    with urllib.request.urlopen(request, timeout=20) as answer:
        return answer.status, answer.read().decode()


def _call_started(port: int, call_sid: str) -> int:
    return _post(port, "/voice/acme", call_sid)[0]


def _started_total(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "ivr_calls_started_total" and sample.labels == {"flow": "acme"}:
                return sample.value
    return 0.0


def test_workers_add_their_metrics_up_so_any_scrape_counts_every_call(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    with two_workers(tmp_path, postgres_server) as (port, children, _):
        environ = Path(f"/proc/{children[0]}/environ").read_bytes().split(b"\0")
        [folder] = [
            Path(v.split(b"=", 1)[1].decode())
            for v in environ
            if v.startswith(b"PROMETHEUS_MULTIPROC_DIR=")
        ]
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda n: _call_started(port, f"CAmetrics{n:04d}"), range(40)))
        assert statuses == [200] * 40
        # each worker that answered keeps its own counter file in the shared folder...
        assert len({f.name for f in folder.glob("counter_*.db")}) >= 2
        # ...and a scrape, whichever worker answers it, adds them all up
        assert [_started_total(port) for _ in range(6)] == [40.0] * 6
    assert not folder.exists()  # the folder lived as long as the workers did
