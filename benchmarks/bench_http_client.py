"""The shared HTTP client's CPU per request: aiohttp (what the engine lends) beside httpx2.

Starts `benchmarks/api_server.py` on a free local port, then sends kept-alive GETs of a JSON
answer through each client, 8 at a time, alternating rounds, and prints the client's CPU per
request (the process's own CPU time: the API server runs in another process).

    python benchmarks/bench_http_client.py [--requests 3000] [--rounds 2]

httpx2 is no longer a dependency of the engine; it comes with the test extra (`.[test]`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr_engine.http_client import shared_http_client  # noqa: E402

CONCURRENCY = 8


async def with_aiohttp(url: str, requests: int) -> float:
    async with shared_http_client() as session:

        async def one() -> None:
            async with session.get(url, allow_redirects=False) as response:
                json.loads(await response.read())

        return await _measure(one, requests)


async def with_httpx2(url: str, requests: int) -> float:
    limits = httpx2.Limits(max_connections=100, max_keepalive_connections=20)
    async with httpx2.AsyncClient(timeout=10, follow_redirects=False, limits=limits) as client:

        async def one() -> None:
            (await client.get(url)).json()

        return await _measure(one, requests)


async def _measure(one: Callable[[], Awaitable[None]], requests: int) -> float:
    for _ in range(200):  # warm the pool
        await one()
    began = time.process_time()
    for _ in range(requests // CONCURRENCY):
        await asyncio.gather(*(one() for _ in range(CONCURRENCY)))
    return (time.process_time() - began) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "api_server.py"), "--port", str(port)]
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"{base}/orders/12345"
        for round_number in range(1, args.rounds + 1):
            for name, run in (("aiohttp", with_aiohttp), ("httpx2", with_httpx2)):
                micros = asyncio.run(run(url, args.requests))
                print(f"round {round_number}  {name:8} {micros:7.0f} us CPU per request")
    finally:
        api.terminate()
        api.wait()


if __name__ == "__main__":
    main()
