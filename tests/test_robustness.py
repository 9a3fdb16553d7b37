"""Whatever an author types, loading ends in a flow or in worded problems, never a traceback.

Sample flows are mutated at random (lines dropped, repeated, emptied, characters inserted)
with a fixed seed, so a failure here is reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from ivr_engine.errors import FlowError, Problem
from tests.support import EXAMPLES, VALID, loader

SOURCES = [p.read_text(encoding="utf-8") for p in [*EXAMPLES.glob("*.yaml"), *VALID.glob("*.yaml")]]
TOKENS = [
    "",
    " ",
    "  ",
    ":",
    "- ",
    "yes",
    "null",
    "{",
    "[",
    "'",
    '"',
    "{{ x }}",
    "-1",
    "99999",
    "say",
    "sales",
    "type: menu",
    "\t",
    "on",
    "~",
    "[]",
    "{}",
    "#",
    "*",
    "&a",
    "!!str",
]


def _mutate(text: str, rnd: random.Random) -> str:
    lines = text.splitlines() or [""]
    for _ in range(rnd.randint(1, 3)):
        j = rnd.randrange(len(lines))
        roll = rnd.random()
        if roll < 0.3 and len(lines) > 1:
            del lines[j]
        elif roll < 0.45:
            lines.insert(j, lines[rnd.randrange(len(lines))])
        elif roll < 0.6 and ":" in lines[j]:
            lines[j] = lines[j].split(":")[0] + ":"  # a value left empty
        else:
            k = rnd.randrange(len(lines[j]) + 1)
            lines[j] = lines[j][:k] + rnd.choice(TOKENS) + lines[j][k + rnd.randint(0, 3) :]
    return "\n".join(lines) + "\n"


def _looks_worded(problem: Problem) -> bool:
    return (
        problem.line >= 1
        and problem.column >= 1
        and "Traceback" not in problem.message
        and "is not valid under any of the given schemas" not in problem.message
        and "<block" not in problem.message
    )


def _single_line_edits(text: str) -> Iterator[str]:
    """Each line of the flow dropped, then each value left empty, one at a time."""
    lines = text.splitlines()
    for j, line in enumerate(lines):
        yield "\n".join(lines[:j] + lines[j + 1 :]) + "\n"
        if ":" in line:
            yield "\n".join([*lines[:j], line.split(":")[0] + ":", *lines[j + 1 :]]) + "\n"


def _load(text: str) -> bool:
    """Load; True when refused. Fails the test on a traceback or an unworded problem."""
    try:
        result = loader().load_text(text, "mangled.yaml", "mangled")
    except FlowError as exc:
        assert exc.problems, text
        assert all(_looks_worded(p) for p in exc.problems), (text, exc.problems)
        return True
    assert all(_looks_worded(p) for p in result.warnings), text
    return False


def test_every_flow_with_one_line_dropped_or_emptied_loads_or_is_refused_in_words() -> None:
    refused = [_load(text) for source in SOURCES for text in _single_line_edits(source)]
    assert sum(refused) > len(refused) // 3  # the edits do break flows


def test_randomly_mangled_flows_load_or_are_refused_in_words() -> None:
    rnd = random.Random(20260304)
    refused = [_load(_mutate(rnd.choice(SOURCES), rnd)) for _ in range(400)]
    assert sum(refused) > 100
