"""Test helpers: load sample flows for real and walk calls through the pure runtime.

Nothing here fakes the engine: flows load through `FlowLoader` with the project registry,
and calls run through `start_call` / `step` exactly as the web layer runs them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from ivr_engine.links import FolderFlows
from ivr_engine.loader import FlowLoader
from ivr_engine.model import Flow
from ivr_engine.project import project_registry
from ivr_engine.registry import Registry
from ivr_engine.runtime import Event, EventKind, Services, Session, StepResult, start_call, step

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "flows" / "valid"
EXAMPLES = ROOT / "flows"
PREFIX = "https://ivr.example.com"
# Wednesday 4 March 2026, 15:00 UTC: 10:00 in New York, 09:00 in Mexico City and Chicago.
NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
CALLER = {
    "CallSid": "CA" + "1" * 32,
    "AccountSid": "AC" + "2" * 32,
    "From": "+15551230000",
    "To": "+15550000000",
    "Direction": "inbound",
    "CallStatus": "ringing",
}


@lru_cache(maxsize=1)
def registry() -> Registry:
    return project_registry(ROOT)


def loader() -> FlowLoader:
    return FlowLoader(registry())


def load(path: Path) -> Flow:
    """Load a flow file that must have no problems at all, not even warnings."""
    result = loader().load_file(path)
    assert result.warnings == []
    return result.flow


def load_valid(name: str) -> Flow:
    return load(VALID / f"{name}.yaml")


def load_text(text: str, flow_id: str = "test") -> Flow:
    result = loader().load_text(text, f"{flow_id}.yaml", flow_id)
    assert result.warnings == []
    return result.flow


def valid_folder() -> Services:
    """Services whose subflows are the sample flows of tests/flows/valid, as a server has them."""
    return Services(flows=FolderFlows(loader(), VALID))


def twiml(body: str) -> str:
    """A whole TwiML document around `body`, as twilio-python renders it."""
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


def action(flow: Flow, step_number: int, kind: str) -> str:
    return f"{PREFIX}/voice/{flow.id}/step/{step_number}/{kind}"


class Call:
    """One phone call walked through the runtime, an event at a time."""

    def __init__(
        self, flow: Flow, *, now: datetime = NOW, services: Services | None = None, **params: str
    ) -> None:
        self.flow = flow
        self.now = now
        self.services = services
        self.params = {**CALLER, **params}
        self.session: Session | None = None

    def start(self) -> StepResult:
        result = asyncio.run(
            start_call(
                self.flow, self.params, now=self.now, url_prefix=PREFIX, services=self.services
            )
        )
        self.session = result.session
        return result

    def send(self, kind: EventKind, **params: Any) -> StepResult:
        assert self.session is not None, "start the call first"
        event = Event(kind, {k: str(v) for k, v in params.items()})
        result = asyncio.run(
            step(
                self.flow,
                self.session,
                event,
                now=self.now,
                url_prefix=PREFIX,
                services=self.services,
            )
        )
        self.session = result.session
        return result

    def press(self, digits: str) -> StepResult:
        return self.send(EventKind.INPUT, Digits=digits)

    def say(self, speech: str) -> StepResult:
        return self.send(EventKind.INPUT, SpeechResult=speech, Confidence="0.9")

    def silence(self) -> StepResult:
        return self.send(EventKind.NO_INPUT)
