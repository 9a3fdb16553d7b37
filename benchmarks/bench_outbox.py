"""How fast the outbox worker sends, and what a busy worker costs the voice webhooks beside it.

Three processes on this machine (2 cores, so they compete, as they would on a small host):
the real server (`python -m ivr_engine serve`, worker included), a fake Twilio Messages API
(`tests/messaging/fake_twilio.py`, HTTP/1.1 keep-alive), and this load generator.

1. Throughput: N pending rows are committed to the server's database; the worker sends them
   with pacing effectively off (the worst case for the voice side). The rate comes from the
   rows' own history: first `sending` to last `sent`.
2. Voice latency side by side: signed incoming-call + key-press webhooks on a fixed number of
   connections, for a fixed time, with the worker idle, then busy (a backlog large enough to
   last the whole phase), then idle again. Printed as figures and busy/idle ratios.

Run: python benchmarks/bench_outbox.py [--messages 2000] [--seconds 4] [--connections 8]
Bounded: each phase stops after --seconds; the throughput phase after 120 s at most.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from ivr_engine.messaging.outbox import OutboxStore  # noqa: E402
from ivr_engine.messaging.settings import MessagingSettings  # noqa: E402
from ivr_engine.runtime.effects import OutboundMessage  # noqa: E402

TOKEN = "bench-auth-token-0123456789abcdef"
ACCOUNT = "AC" + "1" * 32
SENDER = "+15550001111"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_fake() -> tuple[subprocess.Popen[str], int]:
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.messaging.fake_twilio", TOKEN],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert fake.stdout is not None
    return fake, int(fake.stdout.readline())


def start_server(
    work: Path, port: int, fake_port: int, flows: Path = ROOT / "flows", **extra: str
) -> subprocess.Popen[bytes]:
    """`ivr serve` on `work`'s database against the fake Twilio, once it answers /healthz."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "IVR_FLOWS": str(flows),
        "IVR_DB": str(work / "bench.sqlite3"),
        "IVR_PORT": str(port),
        "IVR_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_SMS_FROM": SENDER,
        "IVR_TWILIO_API_URL": f"http://127.0.0.1:{fake_port}",
        "IVR_MESSAGES_PER_SECOND": "1000000",
        "IVR_LOG_LEVEL": "warning",
        **extra,
    }
    server = subprocess.Popen([sys.executable, "-m", "ivr_engine", "serve"], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def queue_messages(db_path: Path, count: int, tag: str) -> None:
    """Commit `count` pending rows exactly as a call step would write them."""
    outbox = OutboxStore(cast(Any, None), MessagingSettings(sms_from=SENDER))
    with sqlite3.connect(db_path, timeout=30) as db:
        for i in range(count):
            sid = f"CA{tag}{i:030d}"[:34]
            message = OutboundMessage(
                flow_id="bench",
                node_id="text",
                call_sid=sid,
                channel="sms",
                to=f"+1555{i % 10_000_000:07d}",
                sender=None,
                body=f"Your ticket number is {tag}-{i}.",
                step=1,
            )
            for write in outbox.writes(sid, [message]):
                db.execute(write.sql, write.params)


def counts(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path, timeout=30) as db:
        return dict(db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())


def send_rate(db_path: Path) -> tuple[int, float]:
    """Messages sent and seconds from the first `sending` to the last `sent`, from history."""
    with sqlite3.connect(db_path, timeout=30) as db:
        sent, first, last = db.execute(
            "SELECT sum(status = 'sent'), min(CASE WHEN status = 'sending' THEN julianday(at) END),"
            " max(CASE WHEN status = 'sent' THEN julianday(at) END) FROM outbox_events"
        ).fetchone()
    return int(sent or 0), (last - first) * 86400.0


def measure_throughput(db_path: Path, messages: int) -> float:
    queue_messages(db_path, messages, "T")
    deadline = time.monotonic() + 120
    while counts(db_path).get("sent", 0) < messages and time.monotonic() < deadline:
        time.sleep(0.05)
    sent, seconds = send_rate(db_path)
    rate = sent / seconds if seconds > 0 else 0.0
    print(
        f"outbox worker: {sent} messages sent in {seconds:.2f} s = {rate:.0f} messages/s "
        "(concurrency 4, pacing off, fake Twilio on 127.0.0.1)"
    )
    return rate


async def voice_phase(port: int, seconds: float, connections: int, tag: str) -> dict[str, float]:
    """Signed call starts and key presses on `connections` connections for `seconds`."""
    base = f"http://127.0.0.1:{port}"
    validator = RequestValidator(TOKEN)
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def one(session: aiohttp.ClientSession, path: str, params: dict[str, str]) -> None:
        body = urlencode(params)
        headers = {
            "X-Twilio-Signature": validator.compute_signature(base + path, params),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        began = time.perf_counter()
        async with session.post(base + path, data=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise SystemExit(f"{path}: HTTP {response.status}")
        latencies.append(time.perf_counter() - began)

    async def caller(session: aiohttp.ClientSession, worker: int) -> None:
        n = 0
        while time.monotonic() < stop:
            n += 1
            params = {
                "CallSid": f"CA{tag}{worker:04d}{n:026d}"[:34],
                "AccountSid": ACCOUNT,
                "From": "+15551234567",
                "To": SENDER,
                "CallStatus": "ringing",
            }
            await one(session, "/voice/acme", params)
            await one(session, "/voice/acme/step/1/input", {**params, "Digits": "2"})

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.monotonic()
        await asyncio.gather(*(caller(session, w) for w in range(connections)))
        elapsed = time.monotonic() - began
    ordered = sorted(latencies)
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[int(len(ordered) * 0.99) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-outbox-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "bench.sqlite3"
    fake, fake_port = start_fake()
    port = free_port()
    server = start_server(work, port, fake_port)
    try:
        rate = measure_throughput(db_path, args.messages)
        idle = asyncio.run(voice_phase(port, args.seconds, args.connections, "A"))
        backlog = int(max(rate, 100) * args.seconds * 2)
        queue_messages(db_path, backlog, "B")
        busy = asyncio.run(voice_phase(port, args.seconds, args.connections, "B"))
        left = counts(db_path).get("pending", 0) + counts(db_path).get("sending", 0)
        deadline = time.monotonic() + 120
        while counts(db_path).get("sent", 0) < args.messages + backlog:
            if time.monotonic() > deadline:
                raise SystemExit("the backlog did not drain in 120 s")
            time.sleep(0.1)  # the worker is idle again only once the backlog is sent
        idle_again = asyncio.run(voice_phase(port, args.seconds, args.connections, "C"))
        print(
            f"\nvoice webhooks, {args.connections} connections, {args.seconds:.0f} s per phase "
            f"(busy: {backlog} messages queued, {left} still queued at the end of the phase)"
        )
        print(f"{'':24}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
        for name, figures in [
            ("worker idle", idle),
            ("worker busy", busy),
            ("worker idle again", idle_again),
        ]:
            print(f"{name:24}{figures['rps']:>12.0f}{figures['p50']:>10.2f}{figures['p99']:>10.2f}")
        base = {key: (idle[key] + idle_again[key]) / 2 for key in idle}
        print(
            f"{'busy / idle':24}{busy['rps'] / base['rps']:>12.2f}"
            f"{busy['p50'] / base['p50']:>10.2f}{busy['p99'] / base['p99']:>10.2f}"
        )
        if left == 0:
            print("note: the backlog ran out during the busy phase; raise --messages")
    finally:
        server.terminate()
        server.wait(timeout=30)
        assert fake.stdin is not None
        fake.stdin.close()
        fake.wait(timeout=10)


if __name__ == "__main__":
    main()
