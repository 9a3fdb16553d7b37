"""What flow tests can expect: one small check per `expect_*` step kind.

Used by `flowtest` after each step and at the end of a case. Each check takes the expected
value (as `testfile` checked it), the scripted call and its latest turn, and returns None
when met, or one sentence saying what is true instead; `flowtest` adds where and what the
caller heard.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ..emulator.twiml import Dial, Play, Record, Say
from ..wording import quote
from .script import Call, Turn


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def _said(turn: Turn) -> str:
    return _normal(" ".join(v.text for v in turn.heard if isinstance(v, Say)))


def _expect_say(value: str, call: Call, turn: Turn) -> str | None:
    return None if _normal(value) in _said(turn) else f"the caller did not hear {quote(value)}"


def _expect_not_say(value: str, call: Call, turn: Turn) -> str | None:
    if _normal(value) in _said(turn):
        return f"the caller heard {quote(value)}, which this step says they must not"
    return None


def _expect_play(value: str, call: Call, turn: Turn) -> str | None:
    played = [v.url for v in turn.heard if isinstance(v, Play)]
    if any(value in url for url in played):
        return None
    return f"nothing played {quote(value)}" + (f" (played: {', '.join(played)})" if played else "")


def _expect_dial(value: tuple[str, ...], call: Call, turn: Turn) -> str | None:
    if not isinstance(turn.waits_on, Dial):
        return f"the call does not dial {quote(value[0])}: it is not dialling anyone"
    dialled = turn.waits_on.values
    for wanted in value:
        if wanted not in dialled:
            return f"the call dials {', '.join(dialled)}, not {quote(wanted)}"
    return None


def _expect_record(value: bool, call: Call, turn: Turn) -> str | None:
    return None if isinstance(turn.waits_on, Record) else "the call is not recording the caller"


def _expect_node(value: str, call: Call, turn: Turn) -> str | None:
    if call.ended:
        return f"the call has ended ({call.end_reason}): it is not waiting at {quote(value)}"
    if turn.node != value:
        return f"the call waits at {quote(turn.node)}, not {quote(value)}"
    return None


def _expect_path(value: tuple[str, ...], call: Call, turn: Turn) -> str | None:
    if list(value) == call.path:
        return None
    return f"the call went {' -> '.join(call.path) or '(nowhere)'}, not {' -> '.join(value)}"


def _expect_vars(value: Mapping[str, Any], call: Call, turn: Turn) -> str | None:
    actual = call.variables
    for name, expected in value.items():
        if name not in actual:
            return f"the variable {quote(name)} is not set"
        if not _matches(expected, actual[name]):
            return f"the variable {quote(name)} is {_show(actual[name])}, not {_show(expected)}"
    return None


_MESSAGE_ATTRIBUTES = {
    "to": "to",
    "from": "sender",
    "body": "body",
    "channel": "channel",
    "media_url": "media_url",
    "template": "template",
    "node": "node_id",
}


def _expect_messages(value: tuple[Mapping[str, Any], ...], call: Call, turn: Turn) -> str | None:
    sent = call.messages
    if len(sent) != len(value):
        bodies = "; ".join(f"{m.to}: {m.body or m.template or m.media_url}" for m in sent)
        return f"{_count(len(sent), 'message')} would be sent, not {len(value)}" + (
            f" ({bodies})" if sent else ""
        )
    for i, (expected, message) in enumerate(zip(value, sent, strict=True), 1):
        for key, wanted in expected.items():
            actual = getattr(message, _MESSAGE_ATTRIBUTES[key])
            if key == "body":
                if _normal(str(wanted)) not in _normal(actual or ""):
                    return f"message {i}: its body {_show(actual)} does not contain {_show(wanted)}"
            elif not _matches(wanted, actual):
                return f"message {i}: its {quote(key)} is {_show(actual)}, not {_show(wanted)}"
    return None


def _expect_end(value: str, call: Call, turn: Turn) -> str | None:
    if not call.ended:
        return f'the call has not ended: it waits at "{turn.node}"'
    if call.end_reason != value:
        return f"the call ended with {quote(call.end_reason)}, not {quote(value)}"
    return None


EXPECTATIONS: dict[str, Callable[[Any, Call, Turn], str | None]] = {
    "expect_say": _expect_say,
    "expect_not_say": _expect_not_say,
    "expect_play": _expect_play,
    "expect_dial": _expect_dial,
    "expect_record": _expect_record,
    "expect_node": _expect_node,
    "expect_path": _expect_path,
    "expect_vars": _expect_vars,
    "expect_messages": _expect_messages,
    "expect_end": _expect_end,
}


def _matches(expected: Any, actual: Any) -> bool:
    """Equal; maps match on the keys the test names; a number matches its text ("42" == 42)."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            k in actual and _matches(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list | tuple)
            and len(actual) == len(expected)
            and all(_matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, int | float) or isinstance(actual, int | float):
        if isinstance(expected, str | int | float) and isinstance(actual, str | int | float):
            return _number_text(expected) == _number_text(actual)
        return False
    return bool(expected == actual)


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _show(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
