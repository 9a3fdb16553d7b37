"""`ivr serve` logs no line per request unless asked (`--access-log` / IVR_ACCESS_LOG=1)."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import AUTH_TOKEN, ROOT, free_port, subprocess_env


def serve_and_ask(tmp_path: Path, *extra: str) -> str:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "ivr_engine", "serve", "--port", str(port)),
                *("--flows", str(ROOT / "flows"), "--db", str(tmp_path / "ivr.sqlite3")),
                *extra,
            ],
            cwd=tmp_path,
            env=subprocess_env(TWILIO_AUTH_TOKEN=AUTH_TOKEN),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60  # a loaded machine starts slowly
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=10)
    return log.read_text()


def test_by_default_requests_are_not_logged_one_line_each(tmp_path: Path) -> None:
    text = serve_and_ask(tmp_path)
    assert "Uvicorn running" in text or "Application startup complete" in text
    assert "GET /healthz" not in text


@pytest.mark.parametrize("flag", ["--access-log"])
def test_the_access_log_is_there_when_asked_for(tmp_path: Path, flag: str) -> None:
    assert '"GET /healthz HTTP/1.1" 200' in serve_and_ask(tmp_path, flag)
