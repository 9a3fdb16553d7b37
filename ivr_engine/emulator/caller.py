"""The emulated person on the phone: what they press or say, record, and how a dial ends.

The TwiML interpreter asks a `Caller` whenever Twilio would wait for the person: at a
`<Gather>`, a `<Record>` and a `<Dial>`; in a queue, whether an agent takes the call yet; with
a voice agent, how the session ends (the agent is played too). `ScriptedCaller` answers from lists given up front
(the `ivr call --press/--say/--dial` options, tests, the benchmark); the terminal caller of
`ivr call` asks a human instead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ..nodes.dial import OUTCOMES as DIAL_OUTCOMES
from ..nodes.prompting import KEYS
from .holding import AgentOutcome, AgentSpec, QueueSpec

DEFAULT_MESSAGE = "Hello, this is a test message left through ivr call."


@dataclass(frozen=True)
class Keys:
    """Keys pressed at one prompt; an empty string is silence (the caller pressed nothing)."""

    digits: str


@dataclass(frozen=True)
class Speech:
    """Words said at one prompt (at a `<Record>`, the message left)."""

    text: str


Input = Keys | Speech
SILENCE = Keys("")


@dataclass(frozen=True)
class GatherSpec:
    """What a `<Gather>` listens for, with Twilio's defaults filled in."""

    input: str = "dtmf"
    num_digits: int | None = None
    finish_on_key: str = "#"
    timeout: int = 5

    @property
    def listening_for(self) -> str:
        kinds = self.input.split()
        if "dtmf" in kinds and "speech" in kinds:
            return "keys or speech"
        return "speech" if "speech" in kinds else "keys"


@dataclass(frozen=True)
class DialSpec:
    """Who a `<Dial>` rings: its numbers, SIP addresses, clients or queue, in order."""

    targets: tuple[str, ...]
    timeout: int = 30


class CallerHungUp(Exception):
    """The person hung up (end of the terminal's input): the call ends where it is."""


class Caller(Protocol):
    """The person on the line. `interactive` callers echo their own answers on the terminal."""

    interactive: bool

    async def answer(self, gather: GatherSpec) -> Input: ...

    async def message(self) -> str | None:
        """The message left at a `<Record>`, or None for silence (nothing recorded)."""
        ...

    async def dial_outcome(self, dial: DialSpec) -> str: ...

    async def queue_event(self, queue: QueueSpec) -> str:
        """After each hold document: "wait" on, "bridged" (an agent takes the call), "hangup"."""
        ...

    async def agent_session(self, agent: AgentSpec) -> AgentOutcome:
        """How a voice agent session ends (the agent is the user's; here it is played)."""
        ...


class ScriptedCaller:
    """Answers from a script, then stays silent; a dial with no outcome left is answered.

    Inputs are used in order, one per prompt. At a `<Record>` the next input is used only if
    it is speech (the message) or silence (nothing recorded); otherwise the caller leaves
    `DEFAULT_MESSAGE`, so `--press 0` alone still leaves a voicemail.
    """

    interactive = False

    def __init__(
        self,
        inputs: Iterable[Input] = (),
        dial_outcomes: Iterable[str] = (),
        *,
        default_dial: str = "completed",
        default_message: str = DEFAULT_MESSAGE,
        queue_events: Iterable[tuple[str, int]] = (),
        agent_outcomes: Iterable[AgentOutcome] = (),
    ) -> None:
        self.inputs: deque[Input] = deque(inputs)
        self.dial_outcomes: deque[str] = deque(dial_outcomes)
        self.queue_events: deque[tuple[str, int]] = deque(queue_events)  # (event, after seconds)
        self.agent_outcomes: deque[AgentOutcome] = deque(agent_outcomes)
        self.default_dial = default_dial
        self.default_message = default_message

    async def answer(self, gather: GatherSpec) -> Input:
        return self.inputs.popleft() if self.inputs else SILENCE

    async def message(self) -> str | None:
        upcoming = self.inputs[0] if self.inputs else None
        if isinstance(upcoming, Speech):
            self.inputs.popleft()
            return upcoming.text
        if upcoming == SILENCE:
            self.inputs.popleft()
            return None
        return self.default_message

    async def dial_outcome(self, dial: DialSpec) -> str:
        return self.dial_outcomes.popleft() if self.dial_outcomes else self.default_dial

    async def queue_event(self, queue: QueueSpec) -> str:
        """The next scripted event once its time has come; with none left, an agent answers."""
        if not self.queue_events:
            return "bridged"
        event, after = self.queue_events[0]
        if queue.waited < after:
            return "wait"
        self.queue_events.popleft()
        return event

    async def agent_session(self, agent: AgentSpec) -> AgentOutcome:
        return self.agent_outcomes.popleft() if self.agent_outcomes else AgentOutcome()


def parse_keys(text: str) -> list[Keys]:
    """`"1,2#,"` -> one `Keys` per comma-separated answer (empty = silence).

    Raises ValueError naming the first character that is not a phone key.
    """
    for char in text:
        if char not in KEYS and char != ",":
            raise ValueError(
                f'"{char}" is not a phone key: use 0-9, * and #, with commas between answers'
            )
    return [Keys(part) for part in text.split(",")]


def parse_dial_outcomes(text: str) -> list[str]:
    outcomes = [part.strip() for part in text.split(",")]
    for outcome in outcomes:
        if outcome not in DIAL_OUTCOMES:
            raise ValueError(
                f'"{outcome}" is not a dial outcome: use one of {", ".join(DIAL_OUTCOMES)}'
            )
    return outcomes
