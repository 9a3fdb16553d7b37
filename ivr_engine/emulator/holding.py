"""Queues and voice agents in the emulator: `<Enqueue>`, its waitUrl loop, `<Leave>`, `<Connect>`.

Kept apart from `twiml` so these verbs stay one small piece; `TwimlPlayer` hands the parsed
verbs (`waits.Queue`, `waits.Relay`, `waits.Leave`) here. Twilio's rules followed (twilio-reference.md):
a caller in a queue hears the waitUrl's documents one after another (Twilio requests it
again whenever a document runs out); `<Leave>` or a call taken by an agent ends the wait and
Twilio requests the `<Enqueue>` action with `QueueResult`; a caller who hangs up in the queue
ends the call, and the action still hears `QueueResult=hangup`. A ConversationRelay session
runs until the agent (the `Caller` plays it) ends it; then the `<Connect>` action is requested
with `SessionStatus` and the agent's `HandoffData`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

if TYPE_CHECKING:
    from .twiml import Play, Request, Turn, TwimlPlayer
    from .waits import Queue, Relay

HOLD_PLAY_SECONDS = 30  # one play of the hold music, in the emulated clock
AVERAGE_WAIT = 120
QUEUE_EVENTS = ("wait", "bridged", "hangup")
AGENT_STATUSES = ("ended", "failed", "completed")


@dataclass(frozen=True)
class QueueSpec:
    """Where a queued caller is: the queue and how long they have waited (seconds)."""

    name: str
    waited: int


@dataclass(frozen=True)
class AgentSpec:
    url: str
    greeting: str | None
    parameters: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AgentOutcome:
    """How the agent session ends: ended (handed back, with `handoff`), failed, completed."""

    status: str = "ended"
    handoff: str | None = None
    seconds: int = 60


@dataclass
class QueueLeg:
    """A caller waiting in a queue: the `<Enqueue>` they came from and when they joined."""

    name: str
    action: str
    method: str
    wait_url: str
    joined: float

    def waited(self, player: TwimlPlayer) -> int:
        return int(player.seconds - self.joined)


def enqueue(player: TwimlPlayer, verb: Queue, url: str, turn: Turn) -> bool:
    """`<Enqueue>`: the caller joins the queue; Twilio requests its waitUrl."""
    leg = QueueLeg(
        verb.name,
        urljoin(url, verb.action or url),
        verb.method,
        urljoin(url, verb.wait_url or ""),
        player.seconds,
    )
    player.queue = leg
    player.hear(f"[waiting in queue {verb.name}]")
    turn.next = _wait_request(player, leg, verb.wait_method)
    return True


def leave(player: TwimlPlayer, turn: Turn) -> None:
    """`<Leave>` in a wait document: the caller leaves; Twilio requests the enqueue action."""
    assert player.queue is not None
    player.hear("[leaves the queue]")
    _leave(player, player.queue, "leave", turn)


def hold_music(player: TwimlPlayer, verb: Play) -> None:
    player.hear(f"[hold music {verb.url}]")
    player.seconds += HOLD_PLAY_SECONDS


def _wait_request(player: TwimlPlayer, leg: QueueLeg, method: str = "POST") -> Request:
    from .twiml import Request

    params = {
        **player.call_params(),
        "QueueSid": "QU" + "0" * 32,
        "QueuePosition": "1",
        "QueueTime": str(leg.waited(player)),
        "AvgQueueTime": str(AVERAGE_WAIT),
        "CurrentQueueSize": "1",
        "MaxQueueSize": "1000",
    }
    return Request(method.upper(), leg.wait_url, params, "queue wait")


async def wait_document_ended(player: TwimlPlayer, turn: Turn) -> None:
    """A wait document ran out: the caller may be taken by an agent, hang up, or wait on."""
    leg = player.queue
    assert leg is not None
    event = await player.caller.queue_event(QueueSpec(leg.name, leg.waited(player)))
    if event == "bridged":
        player.hear(f"[an agent takes the call from queue {leg.name}]")
        from .twiml import DIALLED_CALL_SECONDS

        waited = leg.waited(player)
        player.seconds += DIALLED_CALL_SECONDS
        _leave(player, leg, "bridged", turn, waited)
    elif event == "hangup":
        player.hear("[caller hung up in the queue]")
        _leave(player, leg, "hangup", turn)
        turn.callbacks.append(turn.next)  # type: ignore[arg-type]
        turn.next = None
        turn.ended = "caller hung up in the queue"
    else:
        turn.next = _wait_request(player, leg)


def _leave(
    player: TwimlPlayer, leg: QueueLeg, result: str, turn: Turn, waited: int | None = None
) -> None:
    from .twiml import Request

    params = {
        **player.call_params(),
        "QueueResult": result,
        "QueueSid": "QU" + "0" * 32,
        "QueueTime": str(leg.waited(player) if waited is None else waited),
    }
    player.queue = None
    turn.next = Request(leg.method, leg.action, params, "enqueue")


async def connect(player: TwimlPlayer, verb: Relay, url: str, turn: Turn) -> bool:
    """`<Connect><ConversationRelay>`: the agent session, then the `<Connect>` action."""
    from .twiml import Request, sid

    spec = AgentSpec(verb.url, verb.greeting, verb.parameters)
    player.hear(f"[voice agent at {spec.url}]")
    if spec.greeting:
        player.hear(spec.greeting)
    outcome = await player.caller.agent_session(spec)
    player.seconds += outcome.seconds
    shown = f" {outcome.handoff}" if outcome.handoff else ""
    player.hear(f"[agent session {outcome.status}{shown}]")
    params = {
        **player.call_params(),
        "SessionId": sid("VX"),
        "SessionStatus": outcome.status,
        "SessionDuration": str(outcome.seconds),
        "CallStatus": "completed" if outcome.status == "completed" else "in-progress",
    }
    if outcome.handoff is not None:
        params["HandoffData"] = outcome.handoff
    if outcome.status == "failed":
        params.update(ErrorCode="64102", ErrorMessage="Cannot connect to the WebSocket server")
    if not verb.action:
        return False
    request = Request(verb.method, urljoin(url, verb.action), params, "connect")
    if outcome.status == "completed":  # the caller hung up: Twilio reports it, nobody listens
        turn.callbacks.append(request)
        turn.ended = "caller hung up on the agent"
    else:
        turn.next = request
    return True


def parse_queue_events(text: str) -> list[tuple[str, int]]:
    """`"bridged@120"` or `"hangup@30,bridged"`: what happens in the queue, and after how long."""
    events = []
    for part in text.split(","):
        event, _, after = part.strip().partition("@")
        if event not in QUEUE_EVENTS[1:]:
            raise ValueError(
                f'"{event}" is not a queue event: use bridged or hangup (e.g. bridged@120)'
            )
        if after and not after.isdigit():
            raise ValueError(f'"{after}" is not a number of seconds (e.g. bridged@120)')
        events.append((event, int(after or 0)))
    return events


def parse_agent_outcome(text: str) -> AgentOutcome:
    """`"ended"`, `"failed"`, `"completed"` or `'ended:{"reason": "human"}'`."""
    status, _, handoff = text.partition(":")
    if status not in AGENT_STATUSES:
        raise ValueError(
            f'"{status}" is not how an agent session ends: use {", ".join(AGENT_STATUSES)} '
            '(e.g. ended:{"reason": "human"})'
        )
    return AgentOutcome(status, handoff or None)
