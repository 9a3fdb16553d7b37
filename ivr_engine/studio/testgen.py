"""An imported flow -> a flow test file with one case per path found from the start.

The paths are found by playing the flow, not by reading it: scripted calls (the same
`tooling.script.Call` that `ivr test` uses) try every answer each waiting node can take (each
menu key, the values the branches after a gather test for, silence, each dial outcome), and
each distinct path becomes one case pinning the nodes it visits and how the call ends. So
the file runs green in `ivr test` at once, and shows a reviewer every way through the flow.
An http node is made to fail in every case (`fail_at`): a test has no API to call.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from ..emulator.twiml import Dial, Listen, Record, Say
from ..model import Flow
from ..tooling.script import (
    Action,
    Call,
    DialResult,
    HangUp,
    Press,
    Recording,
    Silence,
    Speak,
    Turn,
)
from ..tooling.testfile import DEFAULT_AT, parse_at
from .writer import dump

MAX_CASES = 40
MAX_ACTIONS = 10
MAX_RUNS = 400
_LITERAL = re.compile(r"(?:==|!=)\s*'([^']*)'|'([^']*)'\s+(?:not\s+)?in\s|\bin\s+\[([^\]]*)\]")
_NUMBER = re.compile(r"\|\s*float\)\s*([<>])\s*(-?\d+(?:\.\d+)?)")


def answers_for(flow: Flow, node_id: str) -> list[str]:
    """Values the branches of the flow test a gather's answer against (plus one plain answer)."""
    node = flow.nodes[node_id]
    var = node.spec.get("into")
    found: list[str] = []
    for other in flow.nodes.values():
        if other.type_name != "branch":
            continue
        for case in other.spec.get("cases", []):
            when = str(case.get("when", ""))
            if not var or not re.search(rf"\b{re.escape(var)}\b", when):
                continue
            for eq, contained, listed in _LITERAL.findall(when):
                if listed:
                    first = listed.split(",")[0].strip().strip("'")
                    found.append(first)
                else:
                    found.append(eq or contained)
            for op, number in _NUMBER.findall(when):
                value = float(number) + (1 if op == ">" else -1)
                found.append(str(int(value)) if value.is_integer() else str(value))
    found.append("1")
    return list(dict.fromkeys(v for v in found if v))


def _actions(flow: Flow, call: Call) -> list[Action]:
    waits = call.waits_on
    node_id = call.path[-1] if call.path else None
    node = flow.nodes.get(node_id) if node_id else None
    if isinstance(waits, Listen):
        found: list[Action] = []
        if node is not None and node.type_name == "menu":
            for key, option in node.spec["options"].items():
                words = option.get("say") if isinstance(option, dict) else None
                found.append(Press(str(key)) if waits.keys or not words else Speak(words[0]))
        elif node is not None:
            for value in answers_for(flow, node.id):
                keyed = bool(re.fullmatch(r"[0-9*#]+", value))
                if keyed and waits.keys:
                    found.append(Press(value))
                elif waits.speech:
                    found.append(Speak(value))
        return [*found, Silence()]
    if isinstance(waits, Record):
        return [Recording(5), Silence()]
    if isinstance(waits, Dial):
        outcomes = list((node.spec.get("on") or {}) if node else {})
        return [DialResult(s) for s in dict.fromkeys(["completed", *outcomes])]
    return []


async def _play(flow: Flow, actions: Iterable[Action], fail_at: list[str]) -> Call:
    moment = parse_at(DEFAULT_AT)
    assert moment is not None
    call = Call(flow, at=moment.replace(tzinfo=ZoneInfo(flow.timezone)), fail_at=fail_at)
    await call.start()
    for action in actions:
        await call.act(action)
    return call


async def explore(flow: Flow) -> list[tuple[list[Action], Call]]:
    """Distinct paths from the start, shortest first."""
    fail_at = sorted(n for n, node in flow.nodes.items() if node.type_name == "http")
    found: list[tuple[list[Action], Call]] = []
    expanded: set[tuple[frozenset[str], str]] = set()
    finished: set[tuple[frozenset[str], str]] = set()
    queue: list[list[Action]] = [[]]
    runs = 0
    while queue and len(found) < MAX_CASES and runs < MAX_RUNS:
        prefix = queue.pop(0)
        runs += 1
        call = await _play(flow, prefix, fail_at)
        path = tuple(call.path)
        state = (frozenset(path), path[-1] if path else "")  # where it is, and what it saw
        choices = [] if call.ended else _actions(flow, call)
        if not choices or len(prefix) >= MAX_ACTIONS or state in expanded:
            if not call.ended:
                await call.act(HangUp())
            if state not in finished:
                finished.add(state)
                found.append((prefix, call))
            continue
        expanded.add(state)
        queue += [[*prefix, action] for action in choices]
    return found


def _step(action: Action) -> Any:
    if isinstance(action, Press):
        return {"press": action.keys}
    if isinstance(action, Speak):
        return {"say": action.text}
    if isinstance(action, DialResult):
        return {"dial_result": action.status}
    if isinstance(action, Recording):
        return {"record": action.seconds}
    return "silence"


def _heard(turn: Turn) -> str | None:
    """The first words the caller hears in a turn, enough to recognise the prompt."""
    for verb in turn.heard:
        text = getattr(verb, "text", None)
        if isinstance(verb, Say) and text and "{" not in text:
            words = text.split()
            return " ".join(words[:8])
    return None


def _steps(actions: list[Action], call: Call) -> list[Any]:
    steps: list[Any] = []
    turns = [t for t in call.turns if not isinstance(t.action, HangUp)]
    for i, turn in enumerate(turns[: len(actions) + 1]):
        if i:
            steps.append(_step(actions[i - 1]))
        heard = _heard(turn)
        if heard:
            steps.append({"expect_say": heard})
    return steps or [{"expect_end": call.end_reason}]


def _name(actions: list[Action], call: Call) -> str:
    words = []
    for action in actions:
        if isinstance(action, Press):
            words.append(f"presses {action.keys}")
        elif isinstance(action, Speak):
            words.append(f'says "{action.text}"')
        elif isinstance(action, DialResult):
            words.append(f"the dial ends {action.status}")
        elif isinstance(action, Recording):
            words.append("leaves a message")
        else:
            words.append("stays silent")
    said = ", ".join(words) or "the caller does nothing"
    return f"{said}: ends at {call.path[-1] if call.path else 'the start'}"


def write_tests(flow: Flow, name: str, source: str) -> tuple[str, int]:
    """The test file's text and its number of cases."""
    paths = asyncio.run(explore(flow))
    fail_at = sorted(n for n, node in flow.nodes.items() if node.type_name == "http")
    cases = []
    for actions, call in paths:
        case: dict[str, Any] = {"name": _name(actions, call)}
        if fail_at:
            case["fail_at"] = fail_at
        case["steps"] = _steps(actions, call)
        if not any(":" in node for node in call.path):  # a test file cannot name subflow nodes
            case["expect_path"] = call.path
        case["expect_end"] = call.end_reason
        cases.append(case)
    header = [
        f"# Tests of flows/{name}.yaml, written by `ivr import studio --test` from {source}:",
        "# one case per path the importer found from the start. They pin what the imported flow",
        "# does now: read them as a review, and add the checks you care about (expect_say).",
    ]
    if fail_at:
        header.append("# http nodes are made to fail (fail_at): tests call no real API.")
    body = dump({"flow": name, "cases": cases})
    return "\n".join(header) + "\n" + body, len(cases)
