"""The value each kind of flow-test step takes: checked, and normalised for running.

Used by `testfile` while it reads a test file. Each check returns the value to run with
(`press: 1` becomes the keys "1"), or a `Bad` saying, in words for the author, what the step
needs; `testfile` adds the file, line and case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..nodes.dial import OUTCOMES as DIAL_OUTCOMES
from ..nodes.prompting import KEYS
from ..wording import choices, quote, suggest
from .holding import AGENT_STATUSES, QUEUE_RESULTS

MESSAGE_FIELDS = ("to", "from", "body", "channel", "media_url", "template", "node")


@dataclass(frozen=True)
class Bad:
    message: str


def _text(value: Any, example: str) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return Bad(f"needs a text, e.g. {example}")
    text = str(value)
    return text if text.strip() else Bad(f"needs a text, e.g. {example}")


def _keys(value: Any) -> Any:
    text = _text(value, 'press: "1"')
    if isinstance(text, Bad):
        return text
    if set(text) - KEYS:
        return Bad(f'needs phone keys (0-9, * and #), not {quote(text)}; e.g. press: "1"')
    return text


def _flag(value: Any) -> Any:
    return True if value in (None, True) else Bad("takes no value: write it alone, e.g. - silence")


def _seconds(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 14400:
        return value
    return Bad("needs the length of the message in seconds, e.g. record: 10 (use silence for none)")


def _dial_result(value: Any) -> Any:
    if value in DIAL_OUTCOMES:
        return value
    return Bad(
        f"must be a dial result{suggest(str(value), DIAL_OUTCOMES)}: use {choices(DIAL_OUTCOMES)}"
    )


def _destinations(value: Any) -> Any:
    items = value if isinstance(value, list) else [value]
    texts = [_text(v, 'expect_dial: "+15550100"') for v in items]
    bad = next((t for t in texts if isinstance(t, Bad)), None)
    return bad or (tuple(texts) if items else Bad('needs a number, e.g. expect_dial: "+15550100"'))


def _true(value: Any) -> Any:
    return True if value is True else Bad("takes true, e.g. expect_record: true")


def _node_list(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return Bad("needs a list of node ids, e.g. expect_path: [welcome, main_menu, sales]")


def _mapping(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    return Bad('needs a map of variable: value, e.g. expect_vars: {account: "1234"}')


def _messages(value: Any) -> Any:
    if not isinstance(value, list):
        return Bad('needs a list of messages, e.g. expect_messages: [{to: "+15551234567"}]')
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            return Bad(f"needs message {i + 1} as a map such as {{body: Thanks}}")
        for key in item:
            if key not in MESSAGE_FIELDS:
                return Bad(
                    f"lists {quote(key)} in message {i + 1}, which is not a message field"
                    f"{suggest(key, MESSAGE_FIELDS)}; use {choices(MESSAGE_FIELDS)}"
                )
    return tuple(dict(item) for item in value)


def _hold(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 14400:
        return value
    return Bad("needs the seconds the caller waits in the queue, e.g. hold: 200")


def _queue_result(value: Any) -> Any:
    if value in QUEUE_RESULTS:
        return value
    return Bad(
        f"must be how a wait in a queue ends{suggest(str(value), QUEUE_RESULTS)}: "
        f"use {choices(QUEUE_RESULTS)}"
    )


def _agent(value: Any) -> Any:
    """`agent: ended`, or `agent: {status: ended, handoff: {reason: human}}`."""
    if isinstance(value, str):
        value = {"status": value}
    example = "e.g. agent: {status: ended, handoff: {reason: human}}"
    if not isinstance(value, dict) or set(value) - {"status", "handoff"}:
        return Bad(f"needs the status of the agent session and its handoff data, {example}")
    status = value.get("status", "ended")
    if status not in AGENT_STATUSES:
        return Bad(
            f"has status {quote(str(status))}{suggest(str(status), AGENT_STATUSES)}: "
            f"use {choices(AGENT_STATUSES)}"
        )
    return (status, value.get("handoff"))


CHECKS: dict[str, Callable[[Any], Any]] = {
    "press": _keys,
    "say": lambda v: _text(v, 'say: "sales please"'),
    "silence": _flag,
    "hangup": _flag,
    "dial_result": _dial_result,
    "record": _seconds,
    "hold": _hold,
    "queue_result": _queue_result,
    "agent": _agent,
    "expect_say": lambda v: _text(v, 'expect_say: "Welcome"'),
    "expect_not_say": lambda v: _text(v, 'expect_not_say: "Sorry"'),
    "expect_play": lambda v: _text(v, 'expect_play: "hold-music.mp3"'),
    "expect_dial": _destinations,
    "expect_record": _true,
    "expect_node": lambda v: _text(v, "expect_node: main_menu"),
    "expect_path": _node_list,
    "expect_vars": _mapping,
    "expect_messages": _messages,
    "expect_end": lambda v: _text(v, "expect_end: hangup"),
}
