"""What can happen to a call between two responses, parsed from Twilio's parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class EventKind(StrEnum):
    START = "start"  # the incoming-call webhook
    INPUT = "input"  # <Gather> action: Digits or SpeechResult
    NO_INPUT = "no-input"  # the <Redirect> after a <Gather> that got nothing
    RECORD = "record"  # <Record> action
    NO_RECORDING = "no-recording"  # the <Redirect> after a <Record> that got nothing
    DIAL = "dial"  # <Dial> action: DialCallStatus
    REDIRECT = "redirect"  # a plain <Redirect> back to the engine
    ENQUEUE = "enqueue"  # <Enqueue> action: the call left the queue (QueueResult)
    CONNECT = "connect"  # <Connect> action: a ConversationRelay session ended (SessionStatus)
    WAIT = "wait"  # <Enqueue> waitUrl: what a queued caller hears next (QueuePosition...)
    HOLD = "hold"  # the <Gather> of a wait document: a queued caller pressed a key
    BRIDGE = "bridge"  # <Dial><Queue url>: the caller taken from a queue, before bridging


# Requests that come while a node waits and are answered without moving the call on (the
# hold music of a queue): the runtime hands them to `Node.aside`, the step stays the same.
ASIDE_KINDS = frozenset({EventKind.WAIT, EventKind.HOLD, EventKind.BRIDGE})
# ... and the one among them that belongs to another call than its CallSid: the `<Queue url>`
# request is made for the caller being dequeued, on behalf of the dequeuing (agent's) call.
ON_BEHALF = {EventKind.BRIDGE: "DequeingCallSid"}


@dataclass(frozen=True)
class Event:
    kind: EventKind
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def digits(self) -> str:
        return self.params.get("Digits", "").strip()

    @property
    def speech(self) -> str:
        return self.params.get("SpeechResult", "").strip()

    @property
    def has_input(self) -> bool:
        return bool(self.digits or self.speech)
