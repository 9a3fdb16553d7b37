"""Outbound calls put together: check a request, record the attempt, place it, follow it.

Exactly once per attempt, as far as Twilio allows: an attempt is committed as `placing`
before its request leaves. If the answer is lost (timeout, crash, kill -9), the attempt stays
`placing`; before it is ever placed again, `settle` asks Twilio for a call to the same number
from the same caller ID created since, and takes it if there is one. Twilio's status
callbacks carry the attempt's id in their URL, so a call whose creation we never heard about
is linked to its attempt by its first callback too.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..calls import ENDED_STATUSES, CallService
from ..campaigns.store import FINAL, NOT_PLACED, PLACED, PLACING, Attempt, OutboundStore
from ..flows import FlowRepository
from ..messaging.addresses import is_e164
from ..messaging.sender import Accepted, Outcome, Unknown
from ..model import Flow
from ..wording import choices, quote
from .config import OutboundConfig
from .dialer import CallRequest, TwilioDialer
from .settings import OutboundSettings

log = logging.getLogger("ivr_engine.outbound")

Ended = Callable[[Attempt], Awaitable[None]]


class OutboundProblem(Exception):
    """A call request that cannot be placed; `status` is the HTTP status the API answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Plan:
    """A checked request: the flow, its outbound settings and the caller ID to use."""

    flow: Flow
    outbound: OutboundSettings
    caller_id: str


class OutboundCalls:
    def __init__(
        self,
        flows: FlowRepository,
        store: OutboundStore,
        calls: CallService,
        config: OutboundConfig,
        *,
        dialer: TwilioDialer | None,
        public_url: str | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.flows = flows
        self.store = store
        self.calls = calls
        self.config = config
        self.dialer = dialer
        self.public_url = public_url
        self.clock = clock
        self.on_ended: Ended | None = None  # the campaign runner's: an attempt has ended

    # ---- checking -------------------------------------------------------------------

    def setup(self, flow_id: str) -> Plan:
        """What every call of `flow_id` needs: the flow served, a caller ID, Twilio, our URL."""
        flow = self.flows.current(flow_id)
        if flow is None:
            known = choices(quote(f) for f in sorted(self.flows.ids())) or "none"
            raise OutboundProblem(404, f"no flow {quote(flow_id)} is being served (flows: {known})")
        outbound = OutboundSettings.of(flow)
        caller_id = outbound.caller_id or self.config.caller_id
        if not caller_id:
            raise OutboundProblem(
                422,
                f"the flow {quote(flow_id)} has no caller ID: set outbound: caller_id in the "
                "flow, or IVR_CALLER_ID on the server",
            )
        if self.dialer is None:
            raise OutboundProblem(
                503, "calls cannot be placed: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
            )
        if not self.public_url:
            raise OutboundProblem(
                503, "calls cannot be placed: set IVR_PUBLIC_URL, where Twilio reaches the flow"
            )
        return Plan(flow, outbound, caller_id)

    def plan(self, flow_id: str, to: str, variables: Mapping[str, Any]) -> Plan:
        """`setup`, and the number and contact fields of one call checked against the flow."""
        plan = self.setup(flow_id)
        if not isinstance(to, str) or not is_e164(to):
            raise OutboundProblem(
                422, f'"to": {quote(to)} is not an E.164 number, e.g. "+15551234567"'
            )
        declared = plan.outbound.contact
        missing = [name for name in declared if variables.get(name) in (None, "")]
        if missing:
            raise OutboundProblem(
                422,
                f'"vars": no value for {choices(quote(n) for n in missing)}, which the flow '
                f"{quote(flow_id)} reads as " + choices(f"contact.{n}" for n in missing),
            )
        unknown = sorted(set(variables) - set(declared))
        if unknown:
            listed = choices(quote(n) for n in declared) or "none"
            raise OutboundProblem(
                422,
                f'"vars": the flow {quote(flow_id)} reads no contact field '
                f"{choices(quote(n) for n in unknown)} (its outbound.contact: {listed})",
            )
        return plan

    # ---- placing --------------------------------------------------------------------

    async def dial(self, flow_id: str, to: str, variables: Mapping[str, Any]) -> Attempt:
        """One call from the API or `ivr dial-out`: checked, recorded, placed."""
        plan = self.plan(flow_id, to, variables)
        stop = await self.store.opted_out(to)
        if stop:
            raise OutboundProblem(422, f"not called: {stop}")
        attempt = new_attempt(plan, to, variables, None, 1, self.clock())
        await self.store.write(self.store.insert_attempt(attempt))
        return await self.place(attempt, plan.outbound)

    def request(self, attempt: Attempt, outbound: OutboundSettings) -> CallRequest:
        base = f"{self.public_url}"
        amd = outbound.machine_detection
        return CallRequest(
            to=attempt.phone,
            from_=attempt.from_number,
            url=f"{base}/voice/{attempt.flow_id}/outbound/{attempt.id}",
            status_callback=f"{base}/status/outbound/{attempt.id}",
            ring_timeout=outbound.ring_timeout,
            machine_detection=amd,
            async_amd_callback=f"{base}/status/amd/{attempt.id}"
            if amd and outbound.async_amd
            else None,
        )

    async def place(self, attempt: Attempt, outbound: OutboundSettings) -> Attempt:
        """Ask Twilio for the call of an attempt already committed as `placing`."""
        assert self.dialer is not None  # plan() refused the request otherwise
        outcome = await self.dialer.place(self.request(attempt, outbound))
        return await self._record(attempt, outcome)

    async def _record(self, attempt: Attempt, outcome: Outcome) -> Attempt:
        if isinstance(outcome, Accepted):
            write = self.store.placed(attempt.id, outcome.sid)
        elif isinstance(outcome, Unknown):
            write = self.store.update_attempt(attempt.id, uncertain=1, detail=outcome.reason)
        else:
            write = self.store.update_attempt(attempt.id, status=NOT_PLACED, detail=outcome.reason)
        await self.store.write(write)
        updated = await self.store.attempt(attempt.id)
        assert updated is not None
        if updated.status == NOT_PLACED and self.on_ended is not None:
            await self.on_ended(updated)
        return updated

    async def settle(self, attempt: Attempt) -> bool:
        """For an attempt left `placing`: True when Twilio has its call (now linked to it).

        False: Twilio has no such call, so placing it now places it once. Raises when Twilio
        cannot be asked; the attempt then stays `placing` for the next try.
        """
        assert self.dialer is not None
        since = attempt.placing_at - self.config.lookup_skew
        taken = await self.store.sids_to(attempt.phone)
        sid = await self.dialer.find(attempt.phone, attempt.from_number, since, taken)
        if sid is None:
            return False
        await self.store.write(
            self.store.update_attempt(
                attempt.id,
                status=PLACED,
                call_sid=sid,
                uncertain=0,
                detail=f"Twilio already has it as {sid} (found after the answer was lost): "
                "not placed again",
            )
        )
        return True

    # ---- following ------------------------------------------------------------------

    async def answered(self, attempt_id: str, flow_id: str, params: Mapping[str, str]) -> str:
        """Twilio asks what the called person hears: the flow, with the attempt's contact."""
        attempt = await self.store.attempt(attempt_id)
        contact: Mapping[str, Any] = {}
        if attempt is None:
            log.error("call %s: no outbound attempt %s", params.get("CallSid"), attempt_id)
        else:
            contact = attempt.vars
            await self.store.write(
                self.store.advance_attempt(
                    attempt_id,
                    params.get("CallStatus") or "in-progress",
                    params.get("CallSid", ""),
                    params.get("AnsweredBy", ""),
                )
            )
        return await self.calls.incoming(flow_id, params, contact=contact)

    async def status(self, attempt_id: str, params: Mapping[str, str]) -> None:
        """A status callback of an outbound call: the session's, then the attempt's news."""
        await self.calls.call_status(params)
        attempt = await self.store.attempt(attempt_id)
        if attempt is None:
            log.warning("status callback for unknown outbound attempt %s", attempt_id)
            return
        if attempt.status in FINAL:
            return  # Twilio repeating itself
        status = params.get("CallStatus", "")
        await self.store.write(
            self.store.advance_attempt(
                attempt_id, status, params.get("CallSid", ""), params.get("AnsweredBy", "")
            )
        )
        if status not in ENDED_STATUSES:
            return
        session = await self.calls.sessions.load(params.get("CallSid", ""))
        result = dict(session.vars) if session is not None else {}
        await self.store.write(
            self.store.update_attempt(attempt_id, result=result, detail=f"call {status}")
        )
        ended = await self.store.attempt(attempt_id)
        if ended is not None and self.on_ended is not None:
            await self.on_ended(ended)

    async def amd(self, attempt_id: str, params: Mapping[str, str]) -> None:
        """Asynchronous detection's verdict: recorded on the attempt and in `call.answered_by`."""
        answered_by = params.get("AnsweredBy", "")
        await self.store.write(self.store.update_attempt(attempt_id, answered_by=answered_by))
        await self.calls.answered_by(params.get("CallSid", ""), answered_by)


def new_attempt(
    plan: Plan,
    to: str,
    variables: Mapping[str, Any],
    campaign: str | None,
    number: int,
    now: float,
) -> Attempt:
    return Attempt(
        id=uuid.uuid4().hex,
        campaign=campaign,
        phone=to,
        number=number,
        flow_id=plan.flow.id,
        from_number=plan.caller_id,
        vars=dict(variables),
        status=PLACING,
        placing_at=now,
    )
