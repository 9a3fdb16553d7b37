"""Simulated queues, voice agents and Verify for the author tooling (simulator, flow tests).

What Twilio does while a caller waits in a queue or talks to an agent, played against the real
runtime: `Hold` asks the engine's waitUrl for the hold documents a caller would hear over that
many seconds (an announcement and the music count `WAIT_SECONDS` each), a key press answers a
call-back offer, `QueueEnd` ends the wait the way Twilio reports it, and `AgentEnd` is the
`<Connect>` action of a ConversationRelay session that ended. `SimulatedVerify` plays Twilio
Verify: the code it "sends" is `SIMULATED_CODE` cut to the length the flow asks for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..emulator.twiml import Listen, Play, Say, read_twiml
from ..emulator.waits import Leave, Queue, Relay
from ..nodes.verify import NOT_FOUND, VerifyError
from ..runtime import Event, EventKind, aside

if TYPE_CHECKING:
    from .script import Action, Call, Turn

WAIT_SECONDS = 30  # one hold document (announcement, then music) in simulated time
AVERAGE_WAIT = 120  # what the simulated queue reports as AvgQueueTime
SIMULATED_CODE = "1234567890"  # the code is its first `digits` digits: 123456 for six
EXPIRED_CODE_PREFIX = "0"  # a code starting with 0 is one that has expired
QUEUE_RESULTS = {
    "bridged": "bridged",
    "left": "leave",
    "full": "queue-full",
    "failed": "error",
    "hangup": "hangup",
}
AGENT_STATUSES = ("ended", "failed", "completed")


@dataclass(frozen=True)
class Hold:
    """The caller waits `seconds` more in the queue, hearing what the engine plays."""

    seconds: int


@dataclass(frozen=True)
class QueueEnd:
    """The wait ends: bridged (an agent took the call), left, full, failed or hangup."""

    result: str


@dataclass(frozen=True)
class AgentEnd:
    """The voice agent's session ended: `ended` (handed back, with `handoff`), failed, completed."""

    status: str = "ended"
    handoff: Any = None


HoldAction = Hold | QueueEnd | AgentEnd


def expected_answers(waits_on: Queue | Relay) -> str:
    if isinstance(waits_on, Queue):
        offer = "a key for the call-back offer, " if waits_on.offer else ""
        return f"{offer}waiting on hold (seconds), or how the wait ends: " + ", ".join(
            QUEUE_RESULTS
        )
    return "how the agent session ends: " + ", ".join(AGENT_STATUSES)


async def act(call: Call, action: Action, waits_on: Queue | Relay) -> Turn:
    """One caller action while in a queue or with an agent; `ActionError` if it does not fit."""
    from .script import ActionError, Press, Silence

    if isinstance(waits_on, Relay):
        if not isinstance(action, AgentEnd):
            raise ActionError(
                f"the call is with a voice agent and waits for {expected_answers(waits_on)}"
            )
        return await _agent_end(call, action, waits_on)
    if isinstance(action, Silence):
        action = Hold(WAIT_SECONDS)
    if isinstance(action, Hold):
        return await _hold(call, action, waits_on)
    if isinstance(action, QueueEnd):
        if action.result not in QUEUE_RESULTS:
            raise ActionError(
                f'"{action.result}" is not how a wait ends: use {", ".join(QUEUE_RESULTS)}'
            )
        return await _left(call, action, QUEUE_RESULTS[action.result], ())
    if isinstance(action, Press):
        if not waits_on.offer:
            raise ActionError(
                "the caller in the queue has not been offered anything to press yet: "
                "let them wait first (hold: SECONDS)"
            )
        answer = await _aside(call, EventKind.HOLD, {"Digits": action.keys})
        if any(isinstance(v, Leave) for v in answer):
            return await _left(call, action, "leave", ())
        return _still_waiting(call, action, (), replace(waits_on, offer=None))
    raise ActionError(f"the caller is in a queue, which waits for {expected_answers(waits_on)}")


async def _aside(call: Call, kind: EventKind, params: dict[str, str]) -> list[Any]:
    assert call.session is not None
    event = Event(kind, {**call.params, **params})
    result = await aside(call.running, call.session, event, now=call.at, services=call.services)
    call.session = result.session
    if result.error:
        call.errors.append(result.error)
    return read_twiml(result.twiml)


async def _hold(call: Call, action: Hold, queue: Queue) -> Turn:
    """Twilio requests the waitUrl when the caller joins and each time a document runs out."""
    heard: list[Any] = []
    offer: str | None = None
    until = int(call.holding.get("waited", 0)) + max(action.seconds, 1)
    at = int(call.holding.get("next", 0))
    while at <= until:
        verbs = await _aside(call, EventKind.WAIT, _queue_params(at))
        heard += [v for v in verbs if isinstance(v, Say | Play)]
        call.holding.update(waited=at, next=at + WAIT_SECONDS)
        if any(isinstance(v, Leave) for v in verbs):
            return await _left(call, action, "leave", tuple(heard))
        offers = [v for v in verbs if isinstance(v, Listen)]
        offer = offers[-1].action if offers else None
        at += WAIT_SECONDS
    call.holding["waited"] = until
    return _still_waiting(call, action, tuple(heard), replace(queue, offer=offer))


def _queue_params(waited: int) -> dict[str, str]:
    return {
        "QueueSid": "QU" + "0" * 32,
        "QueuePosition": "1",
        "QueueTime": str(waited),
        "AvgQueueTime": str(AVERAGE_WAIT),
        "CurrentQueueSize": "1",
        "MaxQueueSize": "1000",
    }


async def _left(call: Call, action: Action, result: str, heard: tuple[Any, ...]) -> Turn:
    params = {"QueueResult": result, "QueueTime": str(int(call.holding.get("waited", 0)))}
    call.holding.clear()
    return await call._send(action, Event(EventKind.ENQUEUE, {**call.params, **params}), heard)


def _still_waiting(call: Call, action: Action, heard: tuple[Any, ...], queue: Queue) -> Turn:
    from ..emulator.twiml import Reply

    return call._finish_turn(action, Reply(heard, queue), heard, (), ())


async def _agent_end(call: Call, action: AgentEnd, relay: Relay) -> Turn:
    from .script import ActionError

    if action.status not in AGENT_STATUSES:
        raise ActionError(
            f'"{action.status}" is not how an agent session ends: use {", ".join(AGENT_STATUSES)}'
        )
    params = {
        "SessionId": "VX" + "0" * 32,
        "SessionStatus": action.status,
        "SessionDuration": "60",
        "CallStatus": "completed" if action.status == "completed" else "in-progress",
    }
    if action.handoff is not None:
        handoff = action.handoff
        params["HandoffData"] = handoff if isinstance(handoff, str) else json.dumps(handoff)
    if action.status == "failed":
        params.update(ErrorCode="64102", ErrorMessage="Cannot connect to the WebSocket server")
    return await call._send(action, Event(EventKind.CONNECT, {**call.params, **params}), ())


class SimulatedVerify:
    """Twilio Verify for simulated calls: every code sent is `SIMULATED_CODE` cut to length."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []  # (to, channel)

    async def start(self, to: str, channel: str, locale: str | None = None) -> str:
        if not to.startswith("+"):
            raise VerifyError("60200", f"Invalid parameter `To`: {to}")
        self.sent.append((to, channel))
        return "pending"

    async def check(self, to: str, code: str) -> str:
        if code.startswith(EXPIRED_CODE_PREFIX):
            raise VerifyError(NOT_FOUND, "The requested resource was not found")
        return "approved" if SIMULATED_CODE.startswith(code) and len(code) >= 4 else "pending"


def parse_answer(text: str, waits_on: Queue | Relay) -> Action:
    """What a simulator user typed while the call is in a queue or with an agent."""
    from .script import ActionError, Press, Silence

    words = text.split(maxsplit=1)
    if isinstance(waits_on, Relay):
        if not words or words[0] not in AGENT_STATUSES:
            raise ActionError(
                'type how the agent session ends: "ended" (optionally followed by its handoff '
                'data, e.g. ended {"reason": "human"}), "failed" or "completed"'
            )
        handoff: Any = None
        if len(words) > 1:
            try:
                handoff = json.loads(words[1])
            except ValueError:
                handoff = words[1]
        return AgentEnd(words[0], handoff)
    if not words:
        return Silence()
    if words[0] == "hold" and len(words) == 2 and words[1].isdigit():
        return Hold(int(words[1]))
    if words[0] in QUEUE_RESULTS and words[0] != "hangup":
        return QueueEnd(words[0])
    if words[0] == "queue" and len(words) == 2 and words[1] in QUEUE_RESULTS:
        return QueueEnd(words[1])  # "queue hangup": the caller hangs up while waiting
    if waits_on.offer and text.strip().isdigit():
        return Press(text.strip())
    raise ActionError(
        'type "hold SECONDS" to wait on hold, an empty line for 30 seconds more, how the wait '
        f"ends ({', '.join(r for r in QUEUE_RESULTS if r != 'hangup')}, or queue hangup), a "
        "key when offered a call back, or hangup"
    )


def prompt(waits_on: Queue | Relay) -> str:
    if isinstance(waits_on, Relay):
        return f"with the voice agent at {waits_on.url}: ended [handoff JSON], failed or completed"
    offer = ", press the call-back key" if waits_on.offer else ""
    return f"on hold in queue {waits_on.name}: hold SECONDS, bridged, left, full, failed{offer}"
