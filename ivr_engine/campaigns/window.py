"""When a contact may be called: a campaign's window in the contact's timezone, or the hours
of one of the flow's `hours` nodes (its schedule and holidays), in the same words.

A window is a schedule like an hours node's: `{"mon-fri": ["09:00-20:00"], "sat": [...]}`.
`next_open` finds the first moment at or after now the window is open, so a contact outside
it waits (its next attempt set to that moment) instead of being looked at again and again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from ..nodes.hours import DAYS, days_of, parse_range

LOOK_AHEAD_DAYS = 8


class Window:
    def __init__(self, schedule: Mapping[str, Sequence[str]], holidays: Sequence[str] = ()) -> None:
        self.schedule = {key: list(ranges) for key, ranges in schedule.items()}
        self.holidays = frozenset(holidays)
        self._ranges: list[tuple[list[int], clock_time, clock_time]] = []
        for key, ranges in self.schedule.items():
            for text in ranges:
                parsed = parse_range(text)
                if isinstance(parsed, str):
                    raise ValueError(parsed)
                self._ranges.append((days_of(key), *parsed))

    @classmethod
    def parse(cls, items: Sequence[str]) -> Window:
        """From the command line: `"mon-fri 09:00-20:00"`, one day range and time range each."""
        schedule: dict[str, list[str]] = {}
        for item in items:
            days, _, hours = item.strip().partition(" ")
            if not hours:
                raise ValueError(
                    f'"{item}" is not a window: write days and hours, e.g. "mon-fri 09:00-20:00"'
                )
            for day in days.split("-"):
                if day not in DAYS:
                    raise ValueError(f'"{day}" is not a day: use {", ".join(DAYS)}')
            schedule.setdefault(days, []).append(hours.strip())
        return cls(schedule)

    def as_json(self) -> dict[str, Any]:
        return {"schedule": self.schedule, "holidays": sorted(self.holidays)}

    def is_open(self, moment: datetime) -> bool:
        if moment.date().isoformat() in self.holidays:
            return False
        clock = moment.time().replace(tzinfo=None)
        for days, start, end in self._ranges:
            if (
                moment.weekday() in days
                and start <= clock
                and (clock < end or end == clock_time.max)
            ):
                return True
        return False

    def next_open(self, moment: datetime) -> datetime | None:
        """`moment` if the window is open then, else the next opening; None if it never opens."""
        if self.is_open(moment):
            return moment
        candidates: list[datetime] = []
        for offset in range(LOOK_AHEAD_DAYS):
            day: date = moment.date() + timedelta(days=offset)
            for days, start, _ in self._ranges:
                if day.weekday() in days:
                    at = datetime.combine(day, start, tzinfo=moment.tzinfo)
                    if at > moment and self.is_open(at):
                        candidates.append(at)
        return min(candidates) if candidates else None
