"""Running calls: the runtime and the store put together, with no HTTP in sight.

For each webhook: take the call's lock, load its session, find the flow version it pinned,
run one step, commit the new session with the messages it queued, and return the TwiML.
A repeated or stale request (Twilio retrying, an old action URL) is answered with the TwiML
the caller is already in and changes nothing. Anything unexpected still answers valid TwiML:
an apology, then the flow's `on_error` path or a hang-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from .flows import FlowRepository
from .model import Flow
from .runtime import (
    Event,
    EventKind,
    Session,
    StepResult,
    recover,
    replay,
    run_after_call,
    start_call,
    step,
)
from .runtime.effects import OutboundMessage
from .runtime.services import Services
from .runtime.step import apology
from .store.sessions import SessionStore

log = logging.getLogger("ivr_engine.calls")

ENDED_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


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
    ) -> None:
        self.flows = flows
        # what node code may use (HTTP client, environment) and where subflows are found
        self.services = services or Services(flows=flows)
        self.sessions = sessions
        self.url_prefix = url_prefix
        self.clock = clock or (lambda: datetime.now(UTC))
        # The flow's on_hangup chain; replaceable so a deployment can route follow-ups elsewhere.
        self.after_call: Callable[[Flow, Session], Any] | None = self.follow_up

    async def incoming(
        self, flow_id: str, params: Mapping[str, str], *, contact: Mapping[str, Any] | None = None
    ) -> str:
        """A call starts: the incoming-call webhook, or an outbound call answered (`contact`)."""
        call_sid = params["CallSid"]
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
            result = await start_call(flow, params, contact=contact, **self._options())
            return await self._commit(result)

    async def action(
        self, flow_id: str, step_number: int, kind: EventKind, params: Mapping[str, str]
    ) -> str:
        call_sid = params["CallSid"]
        async with self.sessions.locked(call_sid):
            session = await self.sessions.load(call_sid)
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
                result = await recover(flow, params, reason, **self._options())
                return await self._commit(result)
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
            result = await step(flow, session, Event(kind, params), **self._options())
            return await self._commit(result)

    def _options(self) -> dict[str, Any]:
        """What every run of the runtime gets from this service: the time, URLs and services."""
        return {"now": self.clock(), "url_prefix": self.url_prefix, "services": self.services}

    async def _commit(self, result: StepResult) -> str:
        if result.error:
            log.error(
                "call %s: step failed, caller heard an apology: %s",
                result.session.call_sid,
                result.error,
            )
        await self.sessions.save(result.session, result.messages)
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
            ended = status in ENDED_STATUSES
            call = dict(session.call)
            call["status"] = status
            if params.get("CallDuration", "").isdigit():
                call["duration"] = int(params["CallDuration"])
            updated = (session.unwound() if ended else session).evolve(
                status=status,
                call=call,
                ended=session.ended or ended,
                node=None if ended else session.node,
            )
            messages: list[Any] = []
            if ended and not session.after_call_done and self.after_call is not None:
                flow = await self.flows.version(session.flow_id, session.flow_version)
                if flow is not None and flow.on_hangup:
                    updated, messages = await self.after_call(flow, updated)
                updated = updated.evolve(after_call_done=True)
            await self.sessions.save(updated, messages, [("call-status", dict(params))])

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
        """Fill the recording variable (found by RecordingSid) with what the callback brings."""
        call_sid = params.get("CallSid", "")
        async with self.sessions.locked(call_sid):
            session = await self.sessions.load(call_sid)
            if session is None:
                return
            sid = params.get("RecordingSid")
            variables = dict(session.vars)
            for name, value in variables.items():
                if isinstance(value, dict) and sid and value.get("sid") == sid:
                    value = dict(value)
                    if kind == "transcription":
                        if params.get("TranscriptionStatus", "completed") == "completed":
                            value["transcription"] = params.get("TranscriptionText", "")
                        value["transcription_status"] = params.get("TranscriptionStatus", "")
                    else:
                        value["status"] = params.get("RecordingStatus", "")
                        value["url"] = params.get("RecordingUrl") or value.get("url")
                        duration = params.get("RecordingDuration", "")
                        if duration.isdigit():
                            value["duration"] = int(duration)
                    variables[name] = value
            await self.sessions.save(session.evolve(vars=variables), (), [(kind, dict(params))])
