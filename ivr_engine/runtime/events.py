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
