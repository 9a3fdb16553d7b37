"""Running calls: the runtime and the store put together, with no HTTP in sight.

For each webhook: take the call's lock, load its session, find the flow version it pinned,
run one step, commit the new session with the messages it queued, and return the TwiML.
A repeated or stale request (Twilio retrying, an old action URL) is answered with the TwiML
the caller is already in and changes nothing. Anything unexpected still answers valid TwiML:
an apology, then the flow's `on_error` path or a hang-up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from . import metrics
from .flows import FlowRepository
from .history.context import about_call
from .history.log import Secrets, entry
from .model import Flow
from .nodes.record import recording_value
from .runtime import (
    ASIDE_KINDS,
    ON_BEHALF,
    Event,
    EventKind,
    Session,
    StepResult,
    aside,
    recover,
    replay,
    run_after_call,
    start_call,
    step,
)
from .runtime.effects import OutboundMessage
from .runtime.services import Services
from .runtime.step import apology
from .store.history import timestamp
from .store.sessions import SessionStore
from .twilio_fields import whole_number

log = logging.getLogger("ivr_engine.calls")

ENDED_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
# How long `on_hangup` waits for the recording of a call that ended during a <Record>. Twilio
# requests the <Record> action right after the hang-up (usually within 1-2 s) and sends the
# recording status callback once the file is stored (a few seconds for a long message);
# 20 s covers both with room, and delays a follow-up text by at most that when neither comes
# (nothing was recorded).
RECORDING_GRACE = 20.0
# On a database shared by several processes, each looks this often for calls whose recording
# grace ran out while the process that ended them was gone (its timer went with it)...
SWEEP_INTERVAL = 10.0
SWEEP_LOOKBACK = 600.0  # ...among the calls whose row changed in this many seconds


def _leave_twiml() -> str:
    response = VoiceResponse()
    response.leave()
    return str(response)


LEAVE_TWIML = _leave_twiml()  # a queued caller leaves the queue: Twilio goes on with the action
EMPTY_TWIML = str(VoiceResponse())


def apology_twiml(language: str = "en-US") -> str:
    response = VoiceResponse()
    response.say(apology(language), language=language)
    response.hangup()
    return str(response)


class CallService:
    def __init__(
        self,
        flows: FlowRepository,
        sessions: SessionStore,
        *,
        url_prefix: str = "",
        clock: Callable[[], datetime] | None = None,
        services: Services | None = None,
        secrets: Secrets | None = None,
    ) -> None:
        self.flows = flows
        self.secrets = secrets or Secrets()  # masked in the execution log
        # what node code may use (HTTP client, environment) and where subflows are found
        self.services = services or Services(flows=flows)
        self.sessions = sessions
        self.url_prefix = url_prefix
        self.clock = clock or (lambda: datetime.now(UTC))
        # The flow's on_hangup chain; replaceable so a deployment can route follow-ups elsewhere.
        self.after_call: Callable[[Flow, Session], Any] | None = self.follow_up
        self.recording_grace = RECORDING_GRACE
        # follow-ups waiting for a recording: their timers, then their tasks
        self._handles: set[asyncio.TimerHandle] = set()
        self._timers: set[asyncio.Task[None]] = set()

    async def incoming(
        self, flow_id: str, params: Mapping[str, str], *, contact: Mapping[str, Any] | None = None
    ) -> str:
        """A call starts: the incoming-call webhook, or an outbound call answered (`contact`)."""
        call_sid = params["CallSid"]
        about_call(call_sid, flow_id)
        async with self.sessions.locked(call_sid):
            existing = await self.sessions.load(call_sid)
            if existing is not None:  # Twilio retried the incoming-call webhook
                return replay(existing).twiml
            flow = self.flows.current(flow_id)
            if flow is None:
                log.error(
                    "call %s: no flow %r is being served; answering with an apology",
                    call_sid,
                    flow_id,
                )
                return apology_twiml()
            began, options = time.perf_counter(), self._options()
            result = await start_call(flow, params, contact=contact, **options)
            metrics.CALLS_STARTED.labels(flow.id).inc()
            return await self._commit(result, flow, None, None, options["now"], began)

    async def action(
        self, flow_id: str, step_number: int, kind: EventKind, params: Mapping[str, str]
    ) -> str:
        call_sid = params.get(ON_BEHALF[kind], "") if kind in ON_BEHALF else params["CallSid"]
        about_call(call_sid, flow_id)
        began = time.perf_counter()
        async with self.sessions.locked(call_sid):
            session = await self.sessions.load(call_sid)
            if session is None and kind in ASIDE_KINDS:
                return LEAVE_TWIML if kind is not EventKind.BRIDGE else EMPTY_TWIML
            if session is None:
                flow = self.flows.current(flow_id)
                if flow is None:
                    log.error(
                        "call %s: no session and no flow %r; answering with an apology",
                        call_sid,
                        flow_id,
                    )
                    return apology_twiml()
                reason = f"no session for call {call_sid} (action on flow {flow_id!r})"
                options = self._options()
                result = await recover(flow, params, reason, **options)
                event = Event(kind, params)
                return await self._commit(result, flow, None, event, options["now"], began)
            if session.pending_recording and kind in (EventKind.RECORD, EventKind.NO_RECORDING):
                return await self.late_recording(session, kind, params)
            if kind in ASIDE_KINDS:
                return await self._aside(session, step_number, Event(kind, params))
            if step_number != session.step:
                log.info(
                    "call %s: request for step %s while at step %s: replaying",
                    call_sid,
                    step_number,
                    session.step,
                )
                return replay(session).twiml
            flow = await self.flows.version(session.flow_id, session.flow_version)
            if flow is None:
                log.error(
                    "call %s: flow %s version %s is gone",
                    call_sid,
                    session.flow_id,
                    session.flow_version,
                )
                return apology_twiml(session.language)
            event, options = Event(kind, params), self._options()
            result = await step(flow, session, event, **options)
            if result.session.recording_updates and kind is EventKind.RECORD:
                merged = result.session.evolve(
                    vars=_apply_early(dict(result.session.vars), result.session)
                )
                result = replace(
                    result, session=merged.evolve(recording_updates=_unmatched(merged))
                )
            return await self._commit(result, flow, session, event, options["now"], began)

    async def _aside(self, session: Session, step_number: int, event: Event) -> str:
        """A request while the call waits (a queue's hold music): the call stays where it is.

        A stale one (the call has moved on) or one for a flow version that is gone answers
        `<Leave/>`, so Twilio goes on with the node's action, which is answered properly.
        """
        flow = await self.flows.version(session.flow_id, session.flow_version)
        if flow is None or step_number != session.step:
            return EMPTY_TWIML if event.kind is EventKind.BRIDGE else LEAVE_TWIML
        result = await aside(flow, session, event, **self._options())
        if result.error:
            log.error("call %s: request while waiting failed: %s", session.call_sid, result.error)
        if result.session.vars != session.vars:
            await self.sessions.save(result.session, ())
        return result.twiml

    def _options(self) -> dict[str, Any]:
        """What every run of the runtime gets from this service: the time, URLs and services."""
        return {"now": self.clock(), "url_prefix": self.url_prefix, "services": self.services}

    async def _commit(
        self,
        result: StepResult,
        flow: Flow,
        before: Session | None,
        event: Event | None,
        now: datetime,
        began: float,
    ) -> str:
        """Commit the step with its execution-log entry, and answer its TwiML."""
        seconds = time.perf_counter() - began
        record = entry(flow, before, event, result, at=now, seconds=seconds, secrets=self.secrets)
        if result.error:
            log.error(
                "call %s: step failed, caller heard an apology: %s",
                result.session.call_sid,
                record["error"],
            )
            metrics.NODE_ERRORS.labels(flow.id, record.get("error_node_type", "")).inc()
        await self.sessions.save(result.session, result.messages, log=record)
        return result.twiml

    async def follow_up(
        self, flow: Flow, session: Session
    ) -> tuple[Session, list[OutboundMessage]]:
        """Run the flow's `on_hangup` chain for an ended call; its messages join the outbox."""
        result = await run_after_call(flow, session, **self._options())
        if result.error:
            log.error("call %s: after-call chain failed: %s", session.call_sid, result.error)
        return result.session, result.messages

    # ---- status callbacks -----------------------------------------------------------

    async def call_status(self, params: Mapping[str, str]) -> None:
        call_sid = params.get("CallSid", "")
        status = params.get("CallStatus", "")
        async with self.sessions.locked(call_sid):
            session = await self.sessions.load(call_sid)
            if session is None:
                return
            about_call(call_sid, session.flow_id)
            ended = status in ENDED_STATUSES
            call = dict(session.call)
            call["status"] = status
            duration = whole_number(params.get("CallDuration"))
            if duration is not None:
                call["duration"] = duration
            pending = None
            if ended and not session.ended:
                pending = await self._recording_in_flight(session)
            updated = (session.unwound() if ended else session).evolve(
                status=status,
                call=call,
                ended=session.ended or ended,
                node=None if ended else session.node,
            )
            messages: list[Any] = []
            if pending is not None:
                # Twilio does not order the <Record> action and this callback: a caller who
                # hangs up after the message is the usual case. Wait for the recording.
                updated = updated.evolve(pending_recording=pending)
                self._expect_recording(call_sid, self.recording_grace)
            elif ended and not _waiting(session):
                updated, messages = await self._after_call_once(updated)
            await self.sessions.save(updated, messages, [("call-status", dict(params))])
            if ended and session.status not in ENDED_STATUSES:
                outcome = "error" if updated.end_reason == "error" else status
                metrics.CALLS_ENDED.labels(session.flow_id, outcome).inc()

    async def _recording_in_flight(self, session: Session) -> dict[str, Any] | None:
        """The `record` node the call was waiting at when it ended, if its variable waits."""
        if session.node is None or session.stack:
            return None  # inside a subflow the recording's variable is not the main flow's
        flow = await self.flows.version(session.flow_id, session.flow_version)
        node = flow.nodes.get(session.node) if flow is not None else None
        if node is None or node.type_name != "record" or not node.field("into"):
            return None
        return {
            "waiting": True,  # first: the start-up query looks for it (see awaiting_recording)
            "node": node.id,
            "into": node.spec["into"],
            "step": session.step,
            "since": self.clock().timestamp(),
        }

    async def _after_call_once(self, session: Session) -> tuple[Session, list[Any]]:
        """Run the flow's `on_hangup` chain unless it already ran; mark it done either way."""
        messages: list[Any] = []
        pending = session.pending_recording
        done = {**pending, "waiting": False} if pending else None  # kept: later ones merge
        if session.after_call_done or self.after_call is None:
            return session.evolve(pending_recording=done), messages
        flow = await self.flows.version(session.flow_id, session.flow_version)
        if flow is not None and flow.on_hangup:
            session, messages = await self.after_call(flow, session)
        return session.evolve(after_call_done=True, pending_recording=done), messages

    # ---- recordings that arrive after the call ended -------------------------------

    async def late_recording(
        self, session: Session, kind: EventKind, params: Mapping[str, str]
    ) -> str:
        """The <Record> action of a call that ended waiting for it: keep it, then follow up."""
        pending = session.pending_recording or {}
        variables = dict(session.vars)
        into = pending.get("into")
        sid = params.get("RecordingSid")
        if kind is EventKind.RECORD and into and not _holds_sid(variables.get(into), sid):
            variables[into] = recording_value(dict(params))
        updated = session.evolve(vars=_apply_early(variables, session))
        updated = updated.evolve(recording_updates=_unmatched(updated))
        messages: list[Any] = []
        if _waiting(session):
            updated, messages = await self._after_call_once(updated)
        await self.sessions.save(updated, messages, [(f"late-{kind.value}", dict(params))])
        return replay(session).twiml

    def _expect_recording(self, call_sid: str, delay: float) -> None:
        """Run the call's `on_hangup` after `delay` if its recording has not come by then."""
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._handles.discard(handle)
            task = loop.create_task(self.recording_overdue(call_sid))
            self._timers.add(task)
            task.add_done_callback(self._timers.discard)

        handle = loop.call_later(max(0.0, delay), fire)
        self._handles.add(handle)

    async def close(self) -> None:
        """Stop waiting for recordings (a restart picks them up again: `resume_pending`)."""
        for handle in self._handles:
            handle.cancel()
        self._handles.clear()
        for task in list(self._timers):
            task.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)

    async def recording_overdue(self, call_sid: str) -> None:
        async with self.sessions.locked(call_sid):
            session = await self.sessions.load(call_sid)
            if session is None or not _waiting(session):
                return  # the recording came, and the follow-up ran with it
            log.info(
                "call %s: no recording within %g s of the end; running on_hangup without it",
                call_sid,
                self.recording_grace,
            )
            into = (session.pending_recording or {}).get("into")
            variables = dict(session.vars)
            if into and not isinstance(variables.get(into), dict):
                variables[into] = recording_value({})  # as when nothing was recorded
            updated, messages = await self._after_call_once(session.evolve(vars=variables))
            await self.sessions.save(updated, messages, [("recording-overdue", {})])

    async def sweep_overdue(self) -> int:
        """Run the overdue `on_hangup` chains of calls another process ended and left (its
        timer died with it): once their grace and as long again have passed, so the process
        that ended a call, if alive, runs its own. `recording_overdue` is idempotent (under
        the call's lock, and only while the call still waits), so two sweeps never run a
        chain twice. Returns how many overdue calls it handed to `recording_overdue`."""
        now = self.clock().timestamp()
        since = timestamp(datetime.fromtimestamp(time.time() - SWEEP_LOOKBACK, UTC))
        found = 0
        for session in await self.sessions.awaiting_recording(updated_since=since):
            ended = float((session.pending_recording or {}).get("since", 0))
            if ended + 2 * self.recording_grace <= now:
                await self.recording_overdue(session.call_sid)
                found += 1
        return found

    async def keep_sweeping(self) -> None:
        """`sweep_overdue` every `SWEEP_INTERVAL` (or half the grace, when shorter), forever."""
        while True:
            await asyncio.sleep(min(SWEEP_INTERVAL, self.recording_grace / 2))
            try:
                await self.sweep_overdue()
            except Exception:
                log.exception("looking for overdue after-call chains failed; trying again")

    async def resume_pending(self) -> int:
        """After a restart: wait again for the recordings of calls that ended just before."""
        now = self.clock().timestamp()
        found = 0
        for session in await self.sessions.awaiting_recording():
            since = float((session.pending_recording or {}).get("since", 0))
            self._expect_recording(session.call_sid, since + self.recording_grace - now)
            found += 1
        return found

    async def answered_by(self, call_sid: str, answered_by: str) -> None:
        """Asynchronous answering-machine detection's verdict, seen as `call.answered_by`."""
        async with self.sessions.locked(call_sid):
            session = await self.sessions.load(call_sid)
            if session is None:
                return
            call = {**session.call, "answered_by": answered_by}
            await self.sessions.save(
                session.evolve(call=call), (), [("amd", {"AnsweredBy": answered_by})]
            )

    async def recording_status(self, params: Mapping[str, str]) -> None:
        await self._update_recording(params, "recording-status")

    async def transcription(self, params: Mapping[str, str]) -> None:
        await self._update_recording(params, "transcription")

    async def _update_recording(self, params: Mapping[str, str], kind: str) -> None:
        """Fill the recording variable (found by RecordingSid) with what the callback brings.

        A callback for a recording no variable holds yet is kept on the session and merged
        when the <Record> action comes; for a call that ended waiting for its recording, it
        is the recording: it fills the variable and lets `on_hangup` run.
        """
        call_sid = params.get("CallSid", "")
        async with self.sessions.locked(call_sid):
            session = await self.sessions.load(call_sid)
            if session is None:
                return
            pending = session.pending_recording
            variables = dict(session.vars)
            into = pending["into"] if pending else None
            if into is not None and not isinstance(variables.get(into), dict):
                variables[into] = recording_value({})
                variables[into]["sid"] = params.get("RecordingSid") or None
            updates = dict(session.recording_updates)
            if not _merge_recording(variables, params, kind, into) and params.get("RecordingSid"):
                sid = params["RecordingSid"]
                updates[sid] = {**updates.get(sid, {}), **_recording_fields(params, kind)}
            updated = session.evolve(vars=variables, recording_updates=updates)
            messages: list[Any] = []
            if _waiting(session):
                updated, messages = await self._after_call_once(updated)
            await self.sessions.save(updated, messages, [(kind, dict(params))])


def _waiting(session: Session) -> bool:
    """Whether the ended call's `on_hangup` still waits for its recording."""
    return bool(session.pending_recording and session.pending_recording.get("waiting"))


def _recording_fields(params: Mapping[str, str], kind: str) -> dict[str, Any]:
    """What a recording or transcription callback (or a <Record> action) adds to the variable."""
    if kind == "transcription":
        fields: dict[str, Any] = {"transcription_status": params.get("TranscriptionStatus", "")}
        if params.get("TranscriptionStatus", "completed") == "completed":
            fields["transcription"] = params.get("TranscriptionText", "")
        return fields
    fields = {}
    if kind == "recording-status" and params.get("RecordingStatus"):
        fields["status"] = params["RecordingStatus"]
    if params.get("RecordingUrl"):
        fields["url"] = params["RecordingUrl"]
    duration = whole_number(params.get("RecordingDuration"))
    if duration is not None:
        fields["duration"] = duration
    return fields


def _holds_sid(value: Any, sid: str | None) -> bool:
    return isinstance(value, dict) and bool(sid) and value.get("sid") == sid


def _merge_recording(
    variables: dict[str, Any], params: Mapping[str, str], kind: str, into: str | None = None
) -> bool:
    """Update every variable holding this recording (by RecordingSid); True if one did.

    `into`, the variable of a call that ended waiting for its recording, takes the recording
    when it holds none yet.
    """
    sid = params.get("RecordingSid")
    if not sid:
        return False
    if (
        into is not None
        and isinstance(variables.get(into), dict)
        and not variables[into].get("sid")
    ):
        variables[into] = {**variables[into], "sid": sid}
    found = False
    for name, value in list(variables.items()):
        if _holds_sid(value, sid):
            variables[name] = {**value, **_recording_fields(params, kind)}
            found = True
    return found


def _apply_early(variables: dict[str, Any], session: Session) -> dict[str, Any]:
    """Merge the callbacks that came before their variable into it, now that it exists."""
    for sid, fields in session.recording_updates.items():
        for name, value in list(variables.items()):
            if _holds_sid(value, sid):
                variables[name] = {**value, **fields}
    return variables


def _unmatched(session: Session) -> dict[str, dict[str, Any]]:
    held = {v.get("sid") for v in session.vars.values() if isinstance(v, dict)}
    return {sid: f for sid, f in session.recording_updates.items() if sid not in held}
