"""`ivr demo` serves flows/ for real, phones the example flow through the emulator, and stops."""

from __future__ import annotations

import os
import re
import signal
import socket
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PORT = re.compile(r"on http://127\.0\.0\.1:(\d+) ")


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_the_demo_serves_phones_the_example_flow_prints_what_is_heard_and_stops(ivr) -> None:
    done = ivr("demo")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("[starting the server on http://127.0.0.1:")
    assert lines[1:12] == [
        lines[1],  # [calling http://127.0.0.1:PORT/voice/acme from +15551234567]
        "Thanks for calling Acme.",
        "Press 1 for sales, 2 for support, or 0 to leave a message.",
        "[waiting for keys] pressed 1",
        "[dialling +15550100] busy",
        "Nobody can take your call right now. Please leave a message after the beep.",
        "[beep]",
        '[recording] 4 s: "Hi, please call me back about my order."',
        "Thanks, we'll call you back soon. Goodbye.",
        "[hang up]",
        "[call ended: hang up, 22 s, 7 requests]",
    ]
    assert re.fullmatch(
        r"\[calling http://127\.0\.0\.1:\d+/voice/acme from \+15551234567\]", lines[1]
    )
    assert lines[-1] == "[server stopped]"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme[readme.index("## Quick start") : readme.index("## Flows")]
    first_command = re.findall(r"```sh\n(.*?)```", quick_start, flags=re.DOTALL)[0]
    assert first_command.strip().endswith("&& ivr demo")
    shown = re.findall(r"```text\n(.*?)```", quick_start, flags=re.DOTALL)[0].splitlines()
    assert shown[2:12] == lines[2:12]  # what the caller hears, as the README shows it
    port = int(PORT.search(lines[0]).group(1))  # type: ignore[union-attr]
    assert not listening(port)


def test_keep_leaves_the_server_running_and_says_how_to_call_and_stop_it(ivr) -> None:
    done = ivr("demo", "--keep")
    assert done.returncode == 0, done.stdout + done.stderr
    pid = int(re.search(r"\[stop it with: kill (\d+)\]", done.stdout).group(1))  # type: ignore[union-attr]
    port = int(PORT.search(done.stdout).group(1))  # type: ignore[union-attr]
    try:
        assert listening(port)
        assert f"ivr call http://127.0.0.1:{port}/voice/acme" in done.stdout
    finally:
        os.kill(pid, signal.SIGTERM)  # the server this test started
        for _ in range(100):
            if not listening(port):
                break
            time.sleep(0.1)
    assert not listening(port)


def test_a_flow_that_is_not_there_is_refused_before_anything_starts(ivr) -> None:
    done = ivr("demo", "--flow", "nope")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "error: flows/nope.yaml: no such flow file\n"
