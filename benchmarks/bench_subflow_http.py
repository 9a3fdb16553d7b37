"""What subflows and the http node cost per call, side by side with a plain flow.

Run: `python benchmarks/bench_subflow_http.py`. Prints microseconds per call for the pure
step function (no web layer, no database) and ratios to the plain flow; the http row includes
a real request to a local server on 127.0.0.1 through the shared client.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ivr_engine.http_client import shared_http_client
from ivr_engine.loader import FlowLoader
from ivr_engine.model import Flow
from ivr_engine.registry import build_registry
from ivr_engine.runtime import Services, start_call
from tests.fakeapi import serve_fake_api

PLAIN = "start: a\nvars: {x: '1'}\nnodes:\n  a: {type: set, vars: {y: '{{ x }}'}, next: b}\n  b: {type: hangup, text: 'Bye {{ y }}'}\n"
MAIN = "start: a\nvars: {x: '1'}\nnodes:\n  a: {type: subflow, flow: sub, vars: {x: '{{ x }}'}, return: {y: '{{ y }}'}, next: b}\n  b: {type: hangup, text: 'Bye {{ y }}'}\n"
SUB = "start: a\nvars: {x: '', y: ''}\nnodes:\n  a: {type: set, vars: {y: '{{ x }}'}, next: r}\n  r: {type: return}\n"
HTTP = "start: a\nvars: {api: 'API'}\nnodes:\n  a: {type: http, url: '{{ api }}/orders', into: y, next: b}\n  b: {type: hangup, text: 'Bye {{ y.body.order.id }}'}\n"
PARAMS = {"CallSid": "CA" + "1" * 32, "From": "+15551234567", "To": "+15550000000"}


class Flows:
    def __init__(self, flows: dict[str, Flow]) -> None:
        self.flows = flows

    def current(self, flow_id: str) -> Flow | None:
        return self.flows.get(flow_id)

    async def version(self, flow_id: str, version: str) -> Flow | None:
        return self.flows.get(flow_id)


async def per_call(flow: Flow, services: Services, calls: int) -> float:
    for _ in range(20):  # warm up
        await start_call(flow, PARAMS, services=services)
    started = time.perf_counter()
    for _ in range(calls):
        result = await start_call(flow, PARAMS, services=services)
    assert result.error is None, result.error
    return (time.perf_counter() - started) / calls * 1e6


async def main() -> None:
    loader = FlowLoader(build_registry())
    plain = loader.load_text(PLAIN, "plain.yaml", "plain").flow
    main_flow = loader.load_text(MAIN, "main.yaml", "main").flow
    sub = loader.load_text(SUB, "sub.yaml", "sub").flow
    rows = [
        ("plain: set -> hangup", await per_call(plain, Services(), 5000)),
        (
            "subflow: in, set, return, hangup",
            await per_call(main_flow, Services(flows=Flows({"sub": sub})), 5000),
        ),
    ]
    for api in serve_fake_api():
        http_flow = loader.load_text(HTTP.replace("API", api.url), "http.yaml", "http").flow
        async with shared_http_client() as client:
            rows.append(
                ("http: local GET -> hangup", await per_call(http_flow, Services(http=client), 500))
            )
    base = rows[0][1]
    print(f"{'flow':36} {'us/call':>10} {'ratio':>7}")
    for name, micros in rows:
        print(f"{name:36} {micros:10.1f} {micros / base:7.2f}")


if __name__ == "__main__":
    asyncio.run(main())
