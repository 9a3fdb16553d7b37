"""Requests for one call run one at a time, in arrival order; idle calls keep no lock."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ivr_engine.store.database import Database
from ivr_engine.store.sessions import SessionStore


def test_requests_for_one_call_take_turns_in_arrival_order_and_leave_no_lock_behind(
    tmp_path: Path,
) -> None:
    async def run() -> tuple[list[tuple[str, int]], int]:
        database = await Database.open(tmp_path / "s.sqlite3")
        store = SessionStore(database)
        order: list[tuple[str, int]] = []

        async def request(n: int) -> None:
            async with store.locked("CA1"):
                order.append(("in", n))
                await asyncio.sleep(0.005)
                order.append(("out", n))

        async def other_call() -> None:
            async with store.locked("CA2"):
                order.append(("in", 99))
                order.append(("out", 99))

        await asyncio.gather(*(request(n) for n in range(4)), other_call())
        left = len(store._locks)
        await database.close()
        return order, left

    order, left = asyncio.run(run())
    same_call = [event for event in order if event[1] != 99]
    assert same_call == [(kind, n) for n in range(4) for kind in ("in", "out")]
    assert order.index(("in", 99)) < order.index(("out", 0))  # another call is not held up
    assert left == 0


def test_a_request_cancelled_while_waiting_leaves_no_lock_and_blocks_nobody(
    tmp_path: Path,
) -> None:
    async def run() -> tuple[list[str], int]:
        database = await Database.open(tmp_path / "s.sqlite3")
        store = SessionStore(database)
        order: list[str] = []
        release = asyncio.Event()

        async def holder() -> None:
            async with store.locked("CA1"):
                order.append("holder in")
                await release.wait()
            order.append("holder out")

        async def waiter() -> None:
            async with store.locked("CA1"):
                order.append("waiter in")  # never: cancelled while waiting

        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        second = asyncio.create_task(waiter())
        await asyncio.sleep(0.01)
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
        release.set()
        await first
        async with store.locked("CA1"):
            order.append("later in")
        left = len(store._locks)
        await database.close()
        return order, left

    order, left = asyncio.run(run())
    assert order == ["holder in", "holder out", "later in"]
    assert left == 0
