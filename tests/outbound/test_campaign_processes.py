"""Two `ivr serve` processes on one PostgreSQL database run one campaign between them.

Each contact is claimed by one process and called once; the campaign's pace (calls a second)
and its `max_concurrent` hold for both together, not for each (slots and claims are taken
under PostgreSQL advisory locks, see `campaigns.runner`). The emulator plays every created
call back into the process that placed it (the `Url` it gave Twilio).
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from tests.messaging.conftest import wait_until
from tests.messaging.fake_twilio import FakeTwilio
from tests.messaging.test_restart import free_port
from tests.outbound.conftest import Served, contacts_csv
from tests.outbound.network import Network
from tests.outbound.test_campaigns import PACE_TOLERANCE, campaign_status, report
from tests.postgres import PostgresServer

NUMBERS = [f"+1555020{n:04d}" for n in range(12)]


def test_two_processes_on_postgresql_share_a_campaign_and_its_pace(
    served: Served,
    fake: FakeTwilio,
    network: Network,
    tmp_path: Path,
    postgres_server: PostgresServer,
) -> None:
    first = replace(served, database_url=postgres_server.new_database())
    second = replace(first, port=free_port(), db=str(tmp_path / "second.sqlite3"))
    contacts = contacts_csv(tmp_path / "contacts.csv", NUMBERS)
    with first.running(), second.running():
        started = first.ivr(
            "campaign", "start", "shared", "--flow", "reminder", "--contacts", str(contacts),
            "--rate", "4", "--max-concurrent", "3",
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        wait_until(
            lambda: campaign_status(first, "shared") == "completed",
            "the campaign completes",
            timeout=90,
        )
        wait_until(network.idle, "every call has been played")
        rows = report(second, "shared")  # either process answers for the campaign
    assert network.errors == []
    for number in NUMBERS:
        assert len(fake.calls_to(number)) == 1, number  # claimed by one process, called once
        assert rows[number]["outcome"] == "answered", rows[number]
    placed_by = {urlsplit(call.first("Url") or "").port for call in fake.calls}
    assert placed_by == {first.port, second.port}  # both processes placed calls
    times = sorted(at for at, _ in fake.call_attempts)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.25 - PACE_TOLERANCE, gaps  # 4 a second between them, not each
    assert times[-1] - times[0] >= (len(times) - 1) * 0.25 - PACE_TOLERANCE
