"""The campaign store on both backends: contacts claimed once, leases that expire, migration 4.

On PostgreSQL two store handles with their own connection pools stand for two `ivr serve`
processes: claiming at once, they never take the same contact (`FOR UPDATE SKIP LOCKED`).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from ivr_engine.campaigns.contacts import ContactRow
from ivr_engine.campaigns.store import OutboundStore
from ivr_engine.store.migrations import LATEST
from ivr_engine.store.target import open_database, parse_target

pytestmark = pytest.mark.backends("sqlite", "postgresql")

PHONES = [f"+1555010{n:04d}" for n in range(40)]


class Clock:
    """Time as the store reads it: moving on a little at every reading, as a real clock does."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


@pytest.fixture
def url(backend: str, database_url: str | None, tmp_path: Path) -> str:
    return database_url or str(tmp_path / "ivr.sqlite3")


@asynccontextmanager
async def opened(url: str, clock: Clock) -> AsyncIterator[OutboundStore]:
    database = await open_database(parse_target(url))
    try:
        yield OutboundStore(database, clock=clock)
    finally:
        await database.close()


async def _create(store: OutboundStore, name: str = "spring") -> None:
    rows = [ContactRow(line, phone, {"name": f"n{line}"}) for line, phone in enumerate(PHONES, 2)]
    await store.create_campaign(name, "reminder", {"rate": 0}, rows)


def test_contacts_are_claimed_once_until_their_lease_runs_out(url: str) -> None:
    clock = Clock()

    async def scenario() -> dict[str, Any]:
        async with opened(url, clock) as store:
            await _create(store)
            first = await store.claim("spring", "runner-a", 10, lease=30)
            busy = await store.calling("spring"), await store.calling()
            second = await store.claim("spring", "runner-b", 100, lease=30)
            clock.now += 31  # runner-a died: its lease ran out
            idle = await store.calling()
            taken_over = await store.claim("spring", "runner-c", 100, lease=30)
            schema = await store.database.fetchone(
                "SELECT MAX(version) AS v FROM schema_migrations"
            )
            return {
                "first": [c.phone for c in first],
                "second": [c.phone for c in second],
                "taken_over": [c.phone for c in taken_over],
                "schema": schema["v"],
                "busy": busy,
                "idle": idle,
            }

    found = asyncio.run(scenario())
    assert found["first"] == PHONES[:10]  # in CSV order
    assert found["second"] == PHONES[10:]
    assert found["taken_over"] == PHONES  # every lease has expired by then
    assert found["schema"] == LATEST
    # claimed contacts count against max_concurrent at once, in every process, until released
    assert found["busy"] == (10, 10) and found["idle"] == 0


@pytest.mark.backends("postgresql")
def test_two_processes_claiming_at_once_never_take_the_same_contact(url: str) -> None:
    clock = Clock()

    async def scenario() -> list[list[str]]:
        async with opened(url, clock) as setup:
            await _create(setup)
        async with opened(url, clock) as a, opened(url, clock) as b:

            async def take(store: OutboundStore, runner: str) -> list[str]:
                phones: list[str] = []
                for _ in range(30):
                    phones += [c.phone for c in await store.claim("spring", runner, 2, lease=60)]
                    await asyncio.sleep(0.002)  # the other gets its turns, even on a busy machine
                return phones

            return list(await asyncio.gather(take(a, "runner-a"), take(b, "runner-b")))

    taken_a, taken_b = asyncio.run(scenario())
    assert not set(taken_a) & set(taken_b)
    assert sorted(taken_a + taken_b) == sorted(PHONES)
    assert taken_a and taken_b  # both did claim some: the race was real


@pytest.mark.backends("postgresql")
def test_two_processes_reserving_call_slots_keep_one_pace_between_them(url: str) -> None:
    """Each process's runner reserves its calls' slots in the database: together, one call
    per 0.5 s for the campaign and one per 0.25 s for the account, never each its own."""
    clock = Clock()

    async def scenario() -> list[float]:
        async with opened(url, clock) as a, opened(url, clock) as b:

            async def reserve(store: OutboundStore) -> list[float]:
                return [
                    await store.reserve_slot({"campaign:spring": 0.5, "account": 0.25}, clock())
                    for _ in range(10)
                ]

            found = await asyncio.gather(reserve(a), reserve(b))
            return sorted(found[0] + found[1])

    slots = asyncio.run(scenario())
    gaps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert len(slots) == 20 and min(gaps) >= 0.5 - 1e-9, gaps
