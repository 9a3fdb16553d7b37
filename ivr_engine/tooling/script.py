"""A call played against the real runtime, one caller action at a time, with no server.

The one piece of machinery behind `ivr simulate`, flow tests and coverage. It stands where
Twilio and the web layer stand in production: it calls the pure step function with the
events Twilio would send (keys, speech, silence, dial and recording results), reads each
TwiML response back into what the caller hears (`twiml`), follows it the way Twilio would
(silence runs the verbs after a `<Gather>`), and keeps the call's path, the transitions it
took, its variables and the messages it queued.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from ..callbacks import MemoryCallbacks
from ..emulator.caller import Keys
from ..emulator.caller import Speech as Spoken
from ..emulator.twiml import (
    Dial,
    Listen,
    Record,
    Reply,
    Verb,
    Waiting,
    dialled,
    gathered,
    listens_for,
    read_twiml,
    recorded,
    spoken_seconds,
)
from ..emulator.twiml import split as split_reply
from ..emulator.waits import Queue, Relay
from ..errors import StepError
from ..links import FolderFlows
from ..loader import FlowLoader
from ..model import Flow
from ..node import Node
from ..nodes.dial import OUTCOMES as DIAL_OUTCOMES
from ..nodes.prompting import KEYS
from ..outbound.settings import OutboundSettings
from ..project import project_registry
from ..runtime import (
    Event,
    EventKind,
    Session,
    StepResult,
    Taken,
    run_after_call,
    start_call,
    step,
)
from ..runtime.effects import OutboundMessage
from ..runtime.services import Services
from . import holding
from .holding import HoldAction, SimulatedVerify

DEFAULT_CALLER = "+15550001234"
DEFAULT_CALLED = "+15550009999"
ACCOUNT_SID = "AC" + "0" * 32
CALLER_HUNG_UP = "caller hung up"
RESPONSE_RAN_OUT = "response ran out"  # Twilio hangs up when a response has nothing left to do
MAX_REDIRECTS = 20  # plain <Redirect>s followed in a row before the call counts as looping


# ---- what the caller does ---------------------------------------------------------


@dataclass(frozen=True)
class Press:
    keys: str


@dataclass(frozen=True)
class Speak:
    text: str


@dataclass(frozen=True)
class Silence:
    pass


@dataclass(frozen=True)
class DialResult:
    status: str  # Twilio's DialCallStatus: completed, answered, busy, no-answer, failed, canceled


@dataclass(frozen=True)
class Recording:
    seconds: int


@dataclass(frozen=True)
class HangUp:
    pass


Action = Press | Speak | Silence | DialResult | Recording | HangUp | HoldAction


class ActionError(ValueError):
    """A caller action that does not fit what the call waits for; the message says what does."""


def expected_answers(waits_on: Waiting | None) -> str:
    """What the caller can do now, in words (used in error messages and simulator prompts)."""
    if isinstance(waits_on, Listen):
        return f"{listens_for(waits_on)}, or silence"
    if isinstance(waits_on, Record):
        return "a recording (seconds of speech), or silence"
    if isinstance(waits_on, Dial):
        return "a dial result: " + ", ".join(DIAL_OUTCOMES)
    if isinstance(waits_on, Queue | Relay):
        return holding.expected_answers(waits_on)
    return "nothing: the call has ended"


# ---- one response ------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """What one caller action (or the call arriving) led to.

    `heard` is everything the caller heard, across followed redirects; `waits_on` is what the
    call now waits for (None once it ended); `node` the node waiting; `error` what failed in
    the runtime (the caller heard an apology).
    """

    action: Action | None
    heard: tuple[Verb, ...]
    waits_on: Waiting | None
    node: str | None
    ended: bool
    errors: tuple[str, ...] = ()
    taken: tuple[Taken, ...] = ()


class SimulatedFault(StepError):
    """Raised by a node listed in `fail_at`, to exercise the flow's on_error path."""


class _Faulty(Node):
    """Stands in for a node the test wants to fail: it raises as soon as the call reaches it."""

    type_name = "faulty"

    def enter(self, ctx: Any) -> Any:
        raise SimulatedFault(f'node "{self.id}" failed on purpose (a simulated fault)')

    def resume(self, ctx: Any, event: Event) -> Any:
        raise SimulatedFault(f'node "{self.id}" failed on purpose (a simulated fault)')


def known_variables(flow: Flow) -> set[str]:
    """Variables a flow declares or fills: the names a test or `--var` may preset."""
    return set(flow.vars) | {
        name for node in flow.nodes.values() for _, name in node.variables_written()
    }


def prepare(
    flow: Flow, variables: Mapping[str, Any] | None = None, fail_at: Sequence[str] = ()
) -> Flow:
    """The flow as a test wants it: some variables preset, some nodes made to fail.

    Variables become the flow's defaults (exactly where the runtime takes a new call's
    variables from); a failing node is replaced by one that raises, so the runtime's own
    error handling (apology, on_error) runs.
    """
    changes: dict[str, Any] = {}
    if variables:
        changes["vars"] = {**flow.vars, **variables}
    if fail_at:
        unknown = [n for n in fail_at if n not in flow.nodes]
        if unknown:
            raise ActionError(f'fail_at: "{unknown[0]}" is not a node of flow "{flow.id}"')
        changes["nodes"] = {
            node_id: _Faulty(node_id, {}) if node_id in fail_at else node
            for node_id, node in flow.nodes.items()
        }
    return replace(flow, **changes) if changes else flow


class Call:
    """One simulated inbound call: `await start()`, then `await act(action)` per caller action."""

    def __init__(
        self,
        flow: Flow,
        *,
        at: datetime,
        caller: str = DEFAULT_CALLER,
        called: str = DEFAULT_CALLED,
        variables: Mapping[str, Any] | None = None,
        fail_at: Sequence[str] = (),
        services: Services | None = None,
        contact: Mapping[str, Any] | None = None,
        answered_by: str | None = None,
    ) -> None:
        """`contact` (or `answered_by`) makes it a call the flow placed: from the flow's
        caller ID to `called`, answered as `answered_by` says (a person when not given)."""
        self.flow = flow
        self.contact = contact
        self.services = services or local_services(flow)
        self.running = prepare(flow, variables, fail_at)
        self.at = at
        self.params = {
            "CallSid": "CA" + "0" * 31 + "1",
            "AccountSid": ACCOUNT_SID,
            "From": caller,
            "To": called,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        if contact is not None or answered_by is not None:
            caller_id = OutboundSettings.of(flow).caller_id or DEFAULT_CALLED
            self.params.update(
                {"From": caller_id, "To": called, "Direction": "outbound-api"},
                AnsweredBy=answered_by or "human",
            )
        self.session: Session | None = None
        self.turns: list[Turn] = []
        self.messages: list[OutboundMessage] = []
        self.taken: list[Taken] = []
        self.errors: list[str] = []
        self.hung_up = False
        self._reply: Reply | None = None
        self._serial = 0
        self._after_call_done = False
        self.holding: dict[str, Any] = {}  # the simulated queue's clock (see `holding`)

    # ---- state ----------------------------------------------------------------------

    @property
    def path(self) -> list[str]:
        return list(self.session.path) if self.session else []

    @property
    def variables(self) -> dict[str, Any]:
        return dict(self.session.vars) if self.session else {}

    @property
    def ended(self) -> bool:
        return self.session is not None and (self.hung_up or self._reply is None)

    @property
    def end_reason(self) -> str:
        """How the call ended: the runtime's reason ("hangup", "no valid input"...), else why not."""
        if self.session and self.session.ended:
            return self.session.end_reason
        if self.hung_up:
            return CALLER_HUNG_UP
        return RESPONSE_RAN_OUT if self.ended else ""

    @property
    def waits_on(self) -> Waiting | None:
        return None if self.ended or self._reply is None else self._reply.waits_on

    # ---- driving --------------------------------------------------------------------

    async def start(self) -> Turn:
        result = await start_call(
            self.running, self.params, now=self.at, services=self.services, contact=self.contact
        )
        return await self._settle(None, result, ())

    async def act(self, action: Action) -> Turn:
        """Do what the caller does next; raise `ActionError` if it does not fit the moment."""
        if self.session is None:
            raise ActionError("the call has not started: start() it first")
        if self.ended or self._reply is None:
            raise ActionError("the call has already ended: nothing more can happen")
        if isinstance(action, HangUp):
            self.hung_up = True
            turn = Turn(action, (), None, None, True)
            self.turns.append(turn)
            await self._after_call()
            return turn
        reply = self._reply
        waits_on = reply.waits_on
        if isinstance(waits_on, Queue | Relay):
            return await holding.act(self, action, waits_on)
        event = self._event_for(action, waits_on)
        if event is None:  # the verb ended without its action: Twilio runs what follows
            return await self._follow(action, reply.then)
        return await self._send(action, event, ())

    def _event_for(self, action: Action, waits_on: Waiting | None) -> Event | None:
        if isinstance(waits_on, Listen):
            return self._listen_event(action, waits_on)
        if isinstance(waits_on, Record):
            return self._record_event(action, waits_on)
        if isinstance(waits_on, Dial):
            return self._dial_event(action, waits_on)
        raise ActionError("the call is not waiting for the caller")

    def _listen_event(self, action: Action, listen: Listen) -> Event | None:
        if isinstance(action, Silence):
            return None
        if isinstance(action, Press):
            if not listen.keys:
                raise ActionError(
                    f"the caller cannot press keys here: the call listens for {listens_for(listen)}"
                )
            if not action.keys or set(action.keys) - KEYS:
                raise ActionError(
                    f'"{action.keys}" are not phone keys: use 0-9, * and # (e.g. press: "1")'
                )
            params = gathered(listen, Keys(action.keys))
            return (
                None
                if params is None
                else self._action_event(listen.action, EventKind.INPUT, params)
            )
        if isinstance(action, Speak):
            if not listen.speech:
                raise ActionError(
                    f"the caller cannot speak an answer here: the call listens for {listens_for(listen)}"
                )
            params = gathered(listen, Spoken(action.text))
            return (
                None
                if params is None
                else self._action_event(listen.action, EventKind.INPUT, params)
            )
        raise ActionError(self._mismatch(action, listen))

    def _record_event(self, action: Action, record: Record) -> Event | None:
        if isinstance(action, Silence):
            return None
        if isinstance(action, Speak):  # speaking into a recording: as long as it takes to say
            action = Recording(max(1, math.ceil(spoken_seconds(action.text))))
        if isinstance(action, Recording):
            if action.seconds < 1:
                return None
            self._serial += 1
            params = recorded(record, action.seconds, ACCOUNT_SID, f"RE{self._serial:032x}")
            return self._action_event(record.action, EventKind.RECORD, params)
        raise ActionError(self._mismatch(action, record))

    def _dial_event(self, action: Action, dial: Dial) -> Event | None:
        if not isinstance(action, DialResult):
            raise ActionError(self._mismatch(action, dial))
        if action.status not in DIAL_OUTCOMES:
            raise ActionError(
                f'"{action.status}" is not a dial result: use one of {", ".join(DIAL_OUTCOMES)}'
            )
        if not dial.action:
            return None  # without an action Twilio goes on with the next verb
        self._serial += 1
        params = dialled(action.status, f"CA{self._serial:032x}")
        return self._action_event(dial.action, EventKind.DIAL, params)

    def _mismatch(self, action: Action, waits_on: Waiting) -> str:
        did = {
            Press: "pressed keys",
            Speak: "spoke",
            Silence: "stayed silent",
            DialResult: "gave a dial result",
            Recording: "gave a recording",
        }.get(type(action), "did something")
        return f"the caller {did}, but the call waits for {expected_answers(waits_on)}"

    def _action_event(self, url: str | None, default: EventKind, params: dict[str, str]) -> Event:
        return Event(_kind_of(url, default), {**self.params, **params})

    async def _follow(self, action: Action | None, verbs: Sequence[Verb]) -> Turn:
        """Run the verbs Twilio runs after a verb ended without its action."""
        reply = split_reply(list(verbs))
        heard = reply.heard
        if reply.redirect is not None:
            event = Event(_kind_of(reply.redirect.url, EventKind.REDIRECT), self.params)
            return await self._send(action, event, heard)
        return self._finish_turn(action, reply, heard, (), ())

    async def _send(self, action: Action | None, event: Event, heard: tuple[Verb, ...]) -> Turn:
        assert self.session is not None
        result = await step(self.running, self.session, event, now=self.at, services=self.services)
        return await self._settle(action, result, heard)

    async def _settle(
        self, action: Action | None, result: StepResult, heard_before: tuple[Verb, ...]
    ) -> Turn:
        """Take in one step's result, following plain redirects as Twilio would."""
        heard = list(heard_before)
        taken: list[Taken] = []
        errors: list[str] = []
        for _ in range(MAX_REDIRECTS):
            self.session = result.session
            self.messages.extend(result.messages)
            taken.extend(result.taken)
            if result.error:
                errors.append(result.error)
            reply = split_reply(read_twiml(result.twiml))
            heard.extend(reply.heard)
            if reply.redirect is None:
                turn = self._finish_turn(action, reply, tuple(heard), tuple(taken), tuple(errors))
                if turn.ended:
                    await self._after_call()
                return turn
            event = Event(_kind_of(reply.redirect.url, EventKind.REDIRECT), self.params)
            result = await step(
                self.running, result.session, event, now=self.at, services=self.services
            )
        raise ActionError(f"the flow redirected {MAX_REDIRECTS} times in a row without waiting")

    async def _after_call(self) -> None:
        """Run the flow's `on_hangup` chain once, as the server does on the completed callback.

        The simulated call reports `call.status` "completed" (Twilio's status for a call the
        caller or the flow hung up) and `call.duration` 0, as no real time passed.
        """
        if self._after_call_done or self.session is None or not self.running.on_hangup:
            return
        self._after_call_done = True
        ended = self.session.evolve(
            call={**self.session.call, "status": "completed", "duration": 0}
        )
        result = await run_after_call(self.running, ended, now=self.at, services=self.services)
        self.session = result.session
        self.messages.extend(result.messages)
        self.taken.extend(result.taken)
        if result.error:
            self.errors.append(result.error)

    def _finish_turn(
        self,
        action: Action | None,
        reply: Reply,
        heard: tuple[Verb, ...],
        taken: tuple[Taken, ...],
        errors: tuple[str, ...],
    ) -> Turn:
        self.taken.extend(taken)
        self.errors.extend(errors)
        self._reply = reply if reply.waits_on is not None else None  # None: the call is over
        waiting = self.session.node if self.session and self._reply else None
        turn = Turn(action, heard, reply.waits_on, waiting, self._reply is None, errors, taken)
        self.turns.append(turn)
        return turn


def _kind_of(url: str | None, default: EventKind) -> EventKind:
    """The event an action URL reports (`.../step/3/no-input`), as the web layer reads it."""
    last = (url or "").rstrip("/").rsplit("/", 1)[-1]
    try:
        return EventKind(last)
    except ValueError:
        return default


@dataclass
class CallLog:
    """Everything a finished simulated call leaves behind, for reports and coverage."""

    flow_id: str
    flow_file: str
    path: list[str] = field(default_factory=list)
    taken: list[Taken] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    messages: list[OutboundMessage] = field(default_factory=list)
    end_reason: str = ""

    @classmethod
    def of(cls, call: Call) -> CallLog:
        return cls(
            call.flow.id,
            call.flow.file,
            call.path,
            list(call.taken),
            call.variables,
            list(call.messages),
            call.end_reason,
        )


@cache
def _folder_flows(folder: str) -> FolderFlows:
    return FolderFlows(FlowLoader(project_registry()), Path(folder))


def local_services(flow: Flow) -> Services:
    """Services for a call run on this machine: subflows come from the flow's own folder.

    Verify is simulated (`holding.SimulatedVerify`: the right code is 123456 for six digits)
    and call-back requests are kept in memory. There is no shared HTTP client here: an `http` node fails the step like any error (the
    caller hears the apology and the flow's on_error path), which flow tests can pin.
    """
    return Services(
        flows=_folder_flows(str(Path(flow.file).resolve().parent)),
        verify=SimulatedVerify(),
        callbacks=MemoryCallbacks(),
    )
