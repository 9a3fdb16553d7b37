"""`hours`: route by opening hours in the flow's (or the node's) timezone, and holidays."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time

from ..node import FieldIssue, Goto, Node, Outcome, Target
from ..runtime.context import StepContext
from ..schema import builtin_node_schema
from ..semantics import valid_timezone

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def days_of(key: str) -> list[int]:
    """`mon-fri` -> [0..4]; ranges may wrap (`fri-mon`)."""
    first, _, last = key.partition("-")
    start, end = DAYS.index(first), DAYS.index(last or first)
    span = (end - start) % 7
    return [(start + i) % 7 for i in range(span + 1)]


def parse_range(text: str) -> tuple[time, time] | str:
    """`09:00-17:30` -> (09:00, 17:30); a string explains what is wrong instead."""
    try:
        start_text, end_text = text.split("-")
        start = _clock(start_text)
        end = time.max if end_text == "24:00" else _clock(end_text)
    except ValueError:
        return f'"{text}" is not a time range: write it as HH:MM-HH:MM, e.g. 09:00-17:30'
    if end <= start:
        return f'"{text}" ends before it starts: split a range across midnight into two days'
    return start, end


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


class HoursNode(Node):
    type_name = "hours"
    schema = builtin_node_schema("hours")
    target_fields = ("open", "closed")
    voice_only = False

    def targets(self) -> list[Target]:
        return [
            Target(("open",), self.spec["open"], "open"),
            Target(("closed",), self.spec["closed"], "closed"),
        ]

    def check(self) -> Iterator[FieldIssue]:
        seen: dict[int, str] = {}
        for key, ranges in self.spec["schedule"].items():
            for day in days_of(key):
                if day in seen:
                    yield FieldIssue(
                        ("schedule", key),
                        f'covers {DAYS[day]}, which "{seen[day]}" already covers: list each day once',
                    )
                seen.setdefault(day, key)
            for i, text in enumerate(ranges):
                parsed = parse_range(text)
                if isinstance(parsed, str):
                    yield FieldIssue(("schedule", key, i), parsed)
        for i, text in enumerate(self.field("holidays", ())):
            try:
                date.fromisoformat(text)
            except ValueError:
                yield FieldIssue(
                    ("holidays", i),
                    f'"{text}" is not a real date: write YYYY-MM-DD, e.g. 2026-12-25',
                )
        zone = self.field("timezone")
        if zone is not None and not valid_timezone(zone):
            yield FieldIssue(
                ("timezone",),
                f'"{zone}" is not a known timezone: use an IANA name such as "Europe/London"',
            )

    def is_open(self, moment: datetime) -> bool:
        if moment.date().isoformat() in self.field("holidays", ()):
            return False
        clock = moment.time().replace(tzinfo=None)
        for key, ranges in self.spec["schedule"].items():
            if moment.weekday() in days_of(key):
                for text in ranges:
                    parsed = parse_range(text)
                    if (not isinstance(parsed, str) and parsed[0] <= clock < parsed[1]) or (
                        not isinstance(parsed, str) and parsed[1] == time.max and clock >= parsed[0]
                    ):
                        return True
        return False

    def enter(self, ctx: StepContext) -> Outcome:
        moment = ctx.local_now(self.field("timezone"))
        way = "open" if self.is_open(moment) else "closed"
        return Goto(self.spec[way], via=way)
