"""A large campaign against the fake Twilio: how fast the runner places calls with pacing off,
its CPU per placed call, and the voice webhooks' latency while it runs beside inbound traffic.

Three processes (the real `ivr serve` with its campaign runner, the fake Twilio of
`tests/messaging/fake_twilio.py` with HTTP/1.1 keep-alive, and this load generator). The
created calls are not played back: each contact stays `calling`, so the run measures placing
alone (max concurrent = the campaign's size). Phases: inbound webhooks alone (`idle`), then
the campaign started and inbound webhooks beside it (`busy`), then the rest of the campaign
placed. Scheduling rate: calls created at the fake per second, first to last; CPU per call:
the server's CPU time (/proc) over the placing phase, divided by the calls placed.

Run: python benchmarks/bench_campaign.py [--contacts 10000] [--seconds 4] [--connections 8]
Bounded: every phase stops after --seconds; placing the campaign after --limit seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_outbox import free_port, start_fake, voice_phase  # noqa: E402
from benchmarks.bench_outbox import start_server as serve  # noqa: E402

API_TOKEN = "bench-api-token"


def start_server(work: Path, port: int, fake_port: int) -> subprocess.Popen[bytes]:
    flows = work / "flows"
    flows.mkdir(exist_ok=True)
    for name in ("acme.yaml", "reminder.yaml"):
        shutil.copy(ROOT / "flows" / name, flows / name)
    return serve(
        work,
        port,
        fake_port,
        flows,
        IVR_API_TOKEN=API_TOKEN,
        IVR_CALLS_PER_SECOND="0",
        IVR_MAX_CALLS="1000000",
        IVR_CAMPAIGN_POLL_INTERVAL="0.05",
    )


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fake_count(fake: subprocess.Popen[str]) -> int:
    assert fake.stdin is not None and fake.stdout is not None
    fake.stdin.write("calls\n")
    fake.stdin.flush()
    return int(fake.stdout.readline())


def start_campaign(port: int, contacts: int) -> None:
    rows = ["phone,name,appointment,link"]
    rows += [f"+1555{i:07d},P{i},tomorrow,https://x.example/{i}" for i in range(contacts)]
    body = {
        "name": "bench",
        "flow": "reminder",
        "contacts_csv": "\n".join(rows) + "\n",
        "options": {"rate": 0, "max_concurrent": contacts},
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/campaigns",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--limit", type=float, default=300.0)
    args = parser.parse_args()
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-campaign-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    fake, fake_port = start_fake()
    port = free_port()
    server = start_server(work, port, fake_port)
    try:
        idle = asyncio.run(voice_phase(port, args.seconds, args.connections, "A"))
        cpu0, began = cpu_seconds(server.pid), time.monotonic()
        start_campaign(port, args.contacts)
        loaded = time.monotonic()
        busy = asyncio.run(voice_phase(port, args.seconds, args.connections, "B"))
        during = fake_count(fake)
        deadline = time.monotonic() + args.limit
        while (placed := fake_count(fake)) < args.contacts and time.monotonic() < deadline:
            time.sleep(0.1)
        finished, cpu1 = time.monotonic(), cpu_seconds(server.pid)
        print(
            f"campaign of {args.contacts} contacts, pacing off: CSV loaded in {loaded - began:.2f} s; "
            f"{placed} calls placed in {finished - loaded:.1f} s = "
            f"{placed / (finished - loaded):.0f} calls/s; "
            f"server CPU {1000 * (cpu1 - cpu0) / max(placed, 1):.2f} ms per placed call "
            f"({during} placed during the busy phase)"
        )
        print(f"\nvoice webhooks, {args.connections} connections, {args.seconds:.0f} s per phase")
        print(f"{'':24}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
        for name, figures in [("no campaign", idle), ("campaign placing", busy)]:
            print(f"{name:24}{figures['rps']:>12.0f}{figures['p50']:>10.2f}{figures['p99']:>10.2f}")
        print(
            f"{'placing / none':24}{busy['rps'] / idle['rps']:>12.2f}"
            f"{busy['p50'] / idle['p50']:>10.2f}{busy['p99'] / idle['p99']:>10.2f}"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        assert fake.stdin is not None
        fake.stdin.close()
        fake.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
