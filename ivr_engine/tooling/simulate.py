"""`ivr simulate`'s conversation: the user plays the caller of a flow, in the terminal.

Built on `script.Call` (the real runtime, in-process, no server, no Twilio). This module only
turns what the user types (or a `--script`) into caller actions, and the call into lines of
text: what the caller hears, where the call waits for them and for what, and at the end the
path taken, the variables and the messages that would have been sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ..emulator.twiml import Dial, Listen, Record, Waiting, describe, listens_for
from ..emulator.waits import Queue, Relay
from ..nodes.dial import OUTCOMES as DIAL_OUTCOMES
from ..nodes.prompting import KEYS
from . import holding
from .script import (
    Action,
    ActionError,
    Call,
    DialResult,
    HangUp,
    Press,
    Recording,
    Silence,
    Speak,
    Turn,
)

HELP = (
    'Type keys then Enter, "say: words" to speak, an empty line for silence, "hangup" to hang up.'
)
SAY_PREFIX = "say:"

Read = Callable[[str], str | None]  # shows a prompt, returns the answer (None: no more input)
Write = Callable[[str], None]


def parse_answer(text: str, waits_on: Waiting) -> Action:
    """What the user typed, as the caller's action at this moment; `ActionError` if it does not fit."""
    text = text.strip()
    if text.lower() == "hangup":
        return HangUp()
    spoken = text[len(SAY_PREFIX) :].strip() if text.lower().startswith(SAY_PREFIX) else None
    if isinstance(waits_on, Listen):
        if not text:
            return Silence()
        if spoken:
            return Speak(spoken)
        if not set(text) - KEYS:
            return Press(text)
        raise ActionError(
            f'"{text}" is not keys: type keys (0-9, * and #), "say: words", an empty line for '
            "silence, or hangup"
        )
    if isinstance(waits_on, Record):
        if not text:
            return Silence()
        if spoken:
            return Speak(spoken)
        if text.isdigit():
            return Recording(int(text))
        raise ActionError(
            f'"{text}" is not a recording: type how many seconds the caller speaks (e.g. 10), '
            '"say: words", an empty line for silence, or hangup'
        )
    if isinstance(waits_on, Queue | Relay):
        return holding.parse_answer(text, waits_on)
    if text in DIAL_OUTCOMES:
        return DialResult(text)
    raise ActionError(f'"{text}" is not a dial result: type one of {", ".join(DIAL_OUTCOMES)}')


def prompt_for(waits_on: Waiting, node: str | None) -> str:
    if isinstance(waits_on, Listen):
        what = f"waiting for {listens_for(waits_on)}, or silence"
    elif isinstance(waits_on, Record):
        what = "recording: seconds the caller speaks, or silence"
    elif isinstance(waits_on, Dial):
        what = f"dialling {', '.join(waits_on.values)}: what happens? {', '.join(DIAL_OUTCOMES)}"
    elif isinstance(waits_on, Queue | Relay):
        what = holding.prompt(waits_on)
    else:  # pragma: no cover - every waiting verb is listed above
        what = "waiting"
    return f"[{node}] {what}"


def done_by_caller(action: Action) -> str:
    """The caller's action as a transcript line, marked apart from what the flow says."""
    if isinstance(action, Press):
        return f"caller presses {action.keys}"
    if isinstance(action, Speak):
        return f'caller says "{action.text}"'
    if isinstance(action, Silence):
        return "caller is silent"
    if isinstance(action, Recording):
        return f"caller speaks for {action.seconds} s"
    if isinstance(action, DialResult):
        return f"the dialled call: {action.status}"
    return "caller hangs up"


def heard_lines(turn: Turn) -> list[str]:
    lines = [f"  ! the flow failed: {error}" for error in turn.errors]
    return lines + [f"  {describe(verb)}" for verb in turn.heard]


async def converse(call: Call, read: Read, write: Write, *, interactive: bool = False) -> bool:
    """Play the call until it ends or the input runs out.

    An answer that does not fit is asked again when `interactive`; from a script it stops the
    simulation and the result is False.
    """
    turn = await call.start()
    for line in heard_lines(turn):
        write(line)
    while not call.ended:
        waits_on = call.waits_on
        assert waits_on is not None
        answer = read(prompt_for(waits_on, turn.node))
        if answer is None:
            write("(no more input: the caller hangs up)")
            await call.act(HangUp())
            break
        try:
            action = parse_answer(answer, waits_on)
            write(f"  {done_by_caller(action)}")
            turn = await call.act(action)
        except ActionError as exc:
            write(f"  ? {exc}")
            if not interactive:
                return False
            continue
        for line in heard_lines(turn):
            write(line)
    return True


def summary(call: Call) -> list[str]:
    """The end of a simulation: how the call ended, its path, variables and messages."""
    ending = (
        f"The call ended: {call.end_reason}"
        if call.ended
        else f'The call did not end: it waits at "{call.session.node if call.session else None}"'
    )
    lines = [ending, "Path: " + " -> ".join(call.path)]
    variables = call.variables
    lines.append("Variables:" + ("" if variables else " none"))
    lines += [f"  {name} = {_value(value)}" for name, value in variables.items()]
    lines.append("Messages that would have been sent:" + ("" if call.messages else " none"))
    for message in call.messages:
        sender = f" from {message.sender}" if message.sender else ""
        content = message.body or (
            f"template {message.template}" if message.template else message.media_url
        )
        lines.append(f"  {message.channel} to {message.to}{sender}: {_value(content)}")
    return lines


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def parse_value(text: str) -> Any:
    """A `--var` value as YAML would read it unquoted: whole numbers, decimals, true/false, text."""
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?(0|[1-9][0-9]*)", text):
        return int(text)
    if re.fullmatch(r"-?[0-9]+\.[0-9]+", text):
        return float(text)
    return text
