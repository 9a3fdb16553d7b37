"""`ivr demo`: the main job in one command: serve `flows/`, phone the example flow, print it.

It starts `ivr serve` on a free port of 127.0.0.1 with a fresh local auth token (so every
request is signed and checked, as with Twilio), waits until the server listens, phones
`flows/acme.yaml` through the Twilio emulator (`ivr call`) with a short script (press 1, the
dial is busy, leave a message), prints what the caller hears, and stops the server. With
`--keep` the server stays up and the command prints how to call it again and how to stop it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import COMMANDS

DEFAULT_FLOW = "acme"
SCRIPT = ("--press", "1", "--dial", "busy", "--say", "Hi, please call me back about my order.")
START_SECONDS = 30.0  # a cold start on a busy machine; the server usually listens within 2 s


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "demo",
        help=COMMANDS["demo"][1],
        description="Serve a flows folder on a free local port with a fresh auth token, phone "
        "a flow through the Twilio emulator, print what the caller hears, then stop the server.",
    )
    parser.add_argument("--flows", default="flows", help="the flows folder (default: flows/)")
    parser.add_argument(
        "--flow", default=DEFAULT_FLOW, help=f"the flow to phone (default: {DEFAULT_FLOW})"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the server running after the call"
    )
    parser.set_defaults(run=run)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(args: argparse.Namespace) -> int:
    flows = Path(args.flows)
    if not (flows / f"{args.flow}.yaml").is_file():
        print(f"error: {flows / (args.flow + '.yaml')}: no such flow file", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="ivr-demo-"))
    port, token = free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    password = os.environ.get("IVR_DASHBOARD_PASSWORD") or secrets.token_urlsafe(9)
    env = {**os.environ, "TWILIO_AUTH_TOKEN": token, "IVR_DASHBOARD_PASSWORD": password}
    env.pop("IVR_PUBLIC_URL", None)  # the demo is called locally, at the address it listens on
    log_path = work / "server.log"
    command = [
        sys.executable,
        "-m",
        "ivr_engine",
        "serve",
        "--flows",
        str(flows),
        "--db",
        str(work / "ivr.sqlite3"),
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    print(f"[starting the server on {base} with flows from {flows}/ (log: {log_path})]")
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # with --keep it outlives this command (and its Ctrl-C)
        )
    try:
        if not _listening(port, server):
            print(
                f"error: the server did not start: see {log_path}:\n{_tail(log_path)}",
                file=sys.stderr,
            )
            return 1
        code = _phone(f"{base}/voice/{args.flow}", token)
    except BaseException:
        _stop(server)
        raise
    database = work / "ivr.sqlite3"
    print(f"[server log: {log_path}; calls and sessions are kept in {database}]")
    _show_call(database)
    if args.keep:
        print(f"[the server keeps running on {base} (pid {server.pid}); call it again with:]")
        print(f"  TWILIO_AUTH_TOKEN={token} ivr call {base}/voice/{args.flow}")
        print(
            f"[dashboard: {base}/dashboard (password: {password}); call log: ivr calls --db {database}]"
        )
        print(f"[stop it with: kill {server.pid}]")
        return code
    print("[ivr demo --keep leaves the server running, with its dashboard at /dashboard]")
    _stop(server)
    print("[server stopped]")
    return code


def _listening(port: int, server: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _phone(url: str, token: str) -> int:
    """`ivr call URL` with the demo's script, in this process, signed with the demo's token."""
    from . import call

    parser = argparse.ArgumentParser(prog="ivr")
    call.add_parser(parser.add_subparsers())
    call_args = parser.parse_args(["call", url, *SCRIPT])
    os.environ["TWILIO_AUTH_TOKEN"] = token
    return int(call.run(call_args))


def _show_call(database: Path) -> None:
    """The call just made, from the call log, as `ivr calls show` prints it."""
    command = [sys.executable, "-m", "ivr_engine", "calls", "--db", str(database)]
    listed = subprocess.run([*command, "--format", "json"], capture_output=True, text=True)
    try:
        call_sid = json.loads(listed.stdout)[0]["call_sid"]
    except (ValueError, LookupError, TypeError):
        print(f"[the call log could not be read: {listed.stderr.strip()}]")
        return
    print(f"[the call's path, from the call log: ivr calls show {call_sid} --db {database}]")
    sys.stdout.flush()
    subprocess.run([*command[:4], "show", call_sid, "--db", str(database)], check=False)


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
