"""`hours` node: open or closed by a weekly schedule, holidays and a timezone."""

from datetime import UTC, datetime

import pytest

from ivr_engine.nodes import HoursNode
from tests.support import Call, load_valid


def _route(name: str, moment: datetime) -> str:
    return Call(load_valid(name), now=moment).start().session.path[-1]


def test_a_minimal_hours_node_compiles_its_schedule() -> None:
    node = load_valid("hours_minimal").nodes["check_hours"]
    assert isinstance(node, HoursNode)
    assert [(t.label, t.node_id) for t in node.targets()] == [
        ("open", "open"),
        ("closed", "closed"),
    ]
    assert dict(node.field("schedule")) == {"mon-fri": ("09:00-17:00",)}


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 3, 4, 9, 0, tzinfo=UTC), "open"),  # Wednesday, opening time
        (datetime(2026, 3, 4, 16, 59, tzinfo=UTC), "open"),
        (datetime(2026, 3, 4, 17, 0, tzinfo=UTC), "closed"),  # the end is not included
        (datetime(2026, 3, 4, 8, 59, tzinfo=UTC), "closed"),
        (datetime(2026, 3, 7, 12, 0, tzinfo=UTC), "closed"),  # Saturday
    ],
)
def test_a_minimal_hours_node_uses_the_flows_default_utc(moment: datetime, expected: str) -> None:
    assert _route("hours_minimal", moment) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 3, 4, 15, 0, tzinfo=UTC), "open"),  # Wed 10:00 in New York
        (datetime(2026, 3, 4, 17, 30, tzinfo=UTC), "closed"),  # Wed 12:30, the lunch break
        (datetime(2026, 3, 4, 22, 30, tzinfo=UTC), "open"),  # Wed 17:30 there, closed in UTC
        (datetime(2026, 3, 7, 4, 59, tzinfo=UTC), "open"),  # Fri 23:59: open until midnight
        (datetime(2026, 3, 7, 16, 0, tzinfo=UTC), "open"),  # Sat 11:00
        (datetime(2026, 3, 8, 20, 0, tzinfo=UTC), "closed"),  # Sun 16:00
        (datetime(2026, 12, 25, 15, 0, tzinfo=UTC), "closed"),  # Christmas, a Friday
        (datetime(2026, 7, 1, 14, 0, tzinfo=UTC), "open"),  # Wed 10:00 in summer time
    ],
)
def test_a_full_hours_node_follows_its_own_timezone_breaks_and_holidays(
    moment: datetime, expected: str
) -> None:
    assert _route("hours_full", moment) == expected
