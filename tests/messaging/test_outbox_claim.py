"""Workers sharing PostgreSQL claim at most what they ask for, and never the same row."""

from __future__ import annotations

import asyncio

from ivr_engine.messaging.outbox import OutboxStore
from ivr_engine.messaging.settings import MessagingSettings
from ivr_engine.store.database import Write
from ivr_engine.store.target import open_database, parse_target
from tests.postgres import PostgresServer

INSERT = (
    "INSERT INTO outbox (idempotency_key, call_sid, flow_id, node_id, channel, recipient, "
    "payload, status, next_attempt_at) VALUES (?, 'CA1', 'f', 'n', 'sms', ?, '{}', 'pending', 0)"
)


def test_a_claim_takes_at_most_its_limit_and_two_workers_take_different_rows(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.new_database()

    async def scenario() -> tuple[list[int], list[int], list[int]]:
        first = await open_database(parse_target(url))
        second = await open_database(parse_target(url))
        try:
            await first.write(*(Write(INSERT, (f"k{n}", f"+1555000{n:04d}")) for n in range(10)))
            a, b = OutboxStore(first, MessagingSettings()), OutboxStore(second, MessagingSettings())
            (taken_a, _), (taken_b, _) = await asyncio.gather(a.due(3, set()), b.due(3, set()))
            rest, _ = await a.due(100, set())
            return [r.id for r in taken_a], [r.id for r in taken_b], [r.id for r in rest]
        finally:
            await first.close()
            await second.close()

    taken_a, taken_b, rest = asyncio.run(scenario())
    assert len(taken_a) == 3 and len(taken_b) == 3  # the limit, not every due row
    assert not set(taken_a) & set(taken_b)
    assert sorted(taken_a + taken_b + rest) == list(range(1, 11))  # the rest, once each
