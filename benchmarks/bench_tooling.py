"""How fast flow tests run, and what the tooling adds on top of the bare runtime.

Plays the same acme call (press 1, busy, a 12-second recording) two ways, many times:
the bare runtime (`start_call` + `step`, TwiML as text) and a scripted `Call` (the same steps,
plus reading every response back into caller-facing verbs, as simulate and flow tests do).
Then runs the whole shipped flow-test suite. Prints figures and ratios; asserts nothing.

    PYTHONPATH=. python benchmarks/bench_tooling.py [CALLS]
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ivr_engine.loader import FlowLoader
from ivr_engine.model import Flow
from ivr_engine.project import project_registry
from ivr_engine.runtime import Event, EventKind, start_call, step
from ivr_engine.tooling.flowtest import run_tests
from ivr_engine.tooling.script import Call, DialResult, Press, Recording

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


async def bare(flow: Flow, calls: int) -> None:
    for _ in range(calls):
        first = await start_call(flow, {"CallSid": "CA1", "From": "+15551234567"}, now=NOW)
        dial = await step(flow, first.session, Event(EventKind.INPUT, {"Digits": "1"}), now=NOW)
        rec = await step(
            flow, dial.session, Event(EventKind.DIAL, {"DialCallStatus": "busy"}), now=NOW
        )
        await step(flow, rec.session, Event(EventKind.RECORD, {"RecordingDuration": "12"}), now=NOW)


async def scripted(flow: Flow, calls: int) -> None:
    for _ in range(calls):
        call = Call(flow, at=NOW)
        await call.start()
        for action in (Press("1"), DialResult("busy"), Recording(12)):
            await call.act(action)


def timed(label: str, calls: int, run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    print(
        f"{label:<28} {calls:>6} calls  {seconds * 1e6 / calls:8.1f} µs/call  {calls / seconds:9.0f} calls/s"
    )
    return seconds


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    loader = FlowLoader(project_registry(ROOT))
    flow = loader.load_file(ROOT / "flows" / "acme.yaml").flow
    asyncio.run(bare(flow, 50))  # warm up templates and imports
    base = timed("bare runtime (4 steps)", calls, lambda: asyncio.run(bare(flow, calls)))
    tool = timed("scripted Call (4 steps)", calls, lambda: asyncio.run(scripted(flow, calls)))
    print(f"scripted / bare: {tool / base:.2f}x")
    start = time.perf_counter()
    run = run_tests([ROOT / "flows"], FlowLoader(project_registry(ROOT)))
    seconds = time.perf_counter() - start
    cases = len(run.cases)
    print(
        f"ivr test flows/ (load + run): {cases} cases in {seconds * 1000:.0f} ms, {seconds * 1000 / cases:.1f} ms/case"
    )


if __name__ == "__main__":
    main()
