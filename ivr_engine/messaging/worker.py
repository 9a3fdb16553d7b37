"""The outbox worker: a background task in the server process that sends what calls queued.

It never holds up a call: steps only write rows; the worker picks them up (nudged on commit,
and polling as a safety net), decides how each may be sent at that moment (consent, the
WhatsApp window, a template or the SMS fallback), paces each sender, and records every
outcome. Failures that may pass are retried with exponential backoff and jitter until
`max_attempts`, then dead-lettered; failures that cannot pass are final at once.

Exactly-once, as far as Twilio allows: a row is committed as `sending` before its request
leaves. If the answer is lost (timeout, dropped connection, crash), the row is `uncertain`,
and before trying again the worker asks Twilio for a matching message created since that
attempt; only if there is none does it send again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from .. import metrics
from ..runtime.effects import OutboundMessage
from .addresses import WHATSAPP, bare_number, recipient_problem, wire_address
from .consent import OPT_OUT, ConsentStore
from .outbox import (
    DEAD,
    FAILED,
    NOT_SENT,
    PENDING,
    SENDING,
    SENT,
    OutboxRow,
    OutboxStore,
    prepare,
)
from .ratelimit import SenderPace
from .sender import Accepted, Outcome, Refused, SendRequest, TwilioSender, Unknown
from .settings import MessagingSettings
from .window import WindowStore

log = logging.getLogger("ivr_engine.messaging")

MAX_TASKS = 64  # rows held in memory at once (waiting for their sender's pace or a slot)
REFILL_BELOW = MAX_TASKS // 2  # look for more rows once this few are left, not after each one
LOOKUP_SKEW = 300.0  # seconds of clock difference allowed between us and Twilio in a lookup


class OutboxWorker:
    def __init__(
        self,
        outbox: OutboxStore,
        sender: TwilioSender,
        consent: ConsentStore,
        window: WindowStore,
        settings: MessagingSettings,
        *,
        callback_base: str | None = None,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.consent = consent
        self.window = window
        self.settings = settings
        self.callback_base = callback_base
        self.clock = clock
        self.jitter = jitter
        self.pace = SenderPace(settings.per_sender_rate)
        self.slots = asyncio.Semaphore(settings.concurrency)
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._requesting: set[int] = set()  # rows between `sending` and their recorded outcome
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        recovered = await self.outbox.recover()
        if recovered:
            log.warning(
                "%d message(s) were being sent when the server stopped: checking them at Twilio "
                "before any new attempt",
                recovered,
            )
        self._loop_task = asyncio.create_task(self._run(), name="ivr-outbox-worker")

    async def stop(self) -> None:
        """Stop taking rows; let requests in flight finish (up to `stop_grace`), then cancel."""
        self._stopping = True
        self.outbox.nudge.set()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        for row_id, task in list(self._tasks.items()):
            if row_id not in self._requesting:
                task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()), timeout=self.settings.stop_grace)
        for task in list(self._tasks.values()):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()))

    # ---- the loop ---------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            self.outbox.nudge.clear()
            wait = self.settings.poll_interval
            try:
                free = MAX_TASKS - len(self._tasks)
                if free > 0:
                    rows, next_due = await self.outbox.due(free, set(self._tasks))
                    for row in rows:
                        self._spawn(row)
                    if next_due is not None:
                        wait = min(wait, max(0.0, next_due - self.clock()))
            except Exception:
                log.exception("outbox worker: reading the queue failed; trying again")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self.outbox.nudge.wait()

    def _spawn(self, row: OutboxRow) -> None:
        task = asyncio.create_task(self._handle(row), name=f"ivr-outbox-{row.id}")
        self._tasks[row.id] = task

        def done(_: asyncio.Task[None]) -> None:
            self._tasks.pop(row.id, None)
            if len(self._tasks) < REFILL_BELOW:  # room for a batch: look for more work
                self.outbox.nudge.set()

        task.add_done_callback(done)

    async def _handle(self, row: OutboxRow) -> None:
        try:
            await self._process(row)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("outbox row %d: unexpected failure", row.id)
            current = await self.outbox.get(row.id)
            if current is not None and current.status in (PENDING, SENDING):
                await self._retry(current, f"unexpected failure: {exc}", uncertain=True)
        finally:
            self._requesting.discard(row.id)
            with contextlib.suppress(Exception):  # an expired claim is taken over anyway
                await self.outbox.release(row.id)

    # ---- one row --------------------------------------------------------------------

    async def _process(self, row: OutboxRow) -> None:
        if row.message_sid:  # a status callback linked it after the answer was lost
            await self.outbox.move(
                row.evolve(status=SENT, uncertain=False, reason=""),
                f"Twilio already has it as {row.message_sid} (learnt from its status callback): "
                "not sent again",
            )
            return
        if "route" not in row.payload:  # queued unchecked (before messaging, or no outbox)
            status, reason, payload = prepare(
                OutboundMessage(**_fields(row.payload)), self.settings
            )
            if status == NOT_SENT:
                await self.outbox.move(row.evolve(status=NOT_SENT, reason=reason), reason)
                return
            row = row.evolve(payload=payload, recipient=bare_number(payload["to"]))
        plan = await self._plan(row)
        if isinstance(plan, str):
            await self.outbox.move(row.evolve(status=NOT_SENT, reason=plan), f"not sent: {plan}")
            return
        request, note = plan
        if row.uncertain and await self._already_sent(row, request):
            return
        await self.pace.wait(request.route.key)
        async with self.slots:
            if self._stopping:
                return
            self._requesting.add(row.id)
            row = row.evolve(
                status=SENDING,
                attempts=row.attempts + 1,
                last_attempt_at=self.clock(),
                uncertain=False,
            )
            await self.outbox.move(
                row,
                f"attempt {row.attempts}: {request.describe()}" + (f" ({note})" if note else ""),
            )
            outcome = await self.sender.send(request)
        await self._record(row, request, outcome)

    async def _plan(self, row: OutboxRow) -> tuple[SendRequest, str] | str:
        """How the row may be sent right now, with a note on any choice made; or why not."""
        number, payload = row.recipient, row.payload
        problem = recipient_problem(number)
        route = row.route()
        if problem or route is None:
            return problem or payload.get("reason") or "there is no sender for this message"
        callback = (
            f"{self.callback_base}/status/message?outbox={row.id}" if self.callback_base else None
        )
        body, media = payload.get("body"), payload.get("media_url")
        template = payload.get("template")
        if not (body or media or template):
            return "there is nothing to send: the body and media URL rendered empty"
        if row.channel != "whatsapp":
            stop = await self.consent.suppressed(number, "sms")
            if stop:
                return stop.reason()
            return SendRequest(number, route, body, media, status_callback=callback), ""
        stop = await self.consent.suppressed(number, "whatsapp")
        if stop:
            return stop.reason()
        to = wire_address(number, "whatsapp")
        if (body or media) and await self.window.is_open(number, self.clock()):
            return SendRequest(to, route, body, media, status_callback=callback), ""
        outside = "outside the WhatsApp 24-hour window" if body or media else "the node has no body"
        if template:
            variables = payload.get("template_vars") or {}
            request = SendRequest(
                to,
                route,
                content_sid=template,
                content_variables=variables,
                status_callback=callback,
            )
            return request, f"{outside}: sent as its template"
        if payload.get("fallback") == "sms":
            fallback = row.route(fallback=True)
            if fallback is None:
                return f"{outside}, and the SMS fallback cannot be sent: {payload.get('fallback_problem')}"
            stop = await self.consent.suppressed(number, "sms")
            if stop:
                return f"{outside}, and the SMS fallback is not allowed: {stop.reason()}"
            request = SendRequest(number, fallback, body, media, status_callback=callback)
            return request, f"{outside}: sent as SMS (fallback: sms)"
        return (
            f"{outside} ({number} has not written on WhatsApp in the last 24 hours) and the "
            "node has neither a template nor fallback: sms"
        )

    async def _already_sent(self, row: OutboxRow, request: SendRequest) -> bool:
        """Settle an uncertain row: True if Twilio has it (recorded as sent) or we must wait."""
        since = (row.last_attempt_at or 0.0) - LOOKUP_SKEW
        try:
            sid = await self.sender.find(request, since, await self.outbox.sids_to(row.recipient))
        except Exception as exc:
            row = row.evolve(attempts=row.attempts + 1)
            reason = f"could not check whether Twilio already has it ({type(exc).__name__}: {exc})"
            await self._retry(row, reason, uncertain=True)
            return True
        if sid is None:
            return False
        await self.outbox.move(
            row.evolve(status=SENT, message_sid=sid, uncertain=False, reason="", error_code=""),
            f"Twilio already has it as {sid} (found after an attempt whose answer was lost): "
            "not sent again",
        )
        return True

    async def _record(self, row: OutboxRow, request: SendRequest, outcome: Outcome) -> None:
        _count(outcome)
        if isinstance(outcome, Accepted):
            await self.outbox.move(
                row.evolve(status=SENT, message_sid=outcome.sid, reason="", error_code=""),
                f"Twilio accepted it as {outcome.sid} ({outcome.status or 'no status'})",
            )
        elif isinstance(outcome, Unknown):
            await self._retry(row, outcome.reason, uncertain=True)
        elif isinstance(outcome, Refused) and outcome.retry:
            await self._retry(row, outcome.reason, outcome.code)
        else:
            await self.outbox.move(
                row.evolve(status=FAILED, reason=outcome.reason, error_code=outcome.code),
                f"failed for good, not retried: {outcome.reason}",
            )
            if outcome.opted_out:
                channel = "whatsapp" if request.to.startswith(WHATSAPP) else "sms"
                await self.consent.change(
                    row.recipient,
                    channel,
                    OPT_OUT,
                    f"Twilio error 21610 when sending message #{row.id}",
                )

    async def _retry(
        self, row: OutboxRow, reason: str, code: str = "", *, uncertain: bool = False
    ) -> None:
        if row.attempts >= self.settings.max_attempts:
            reason = f"gave up after {row.attempts} attempt(s): {reason}"
            if uncertain:
                reason += " (the last attempt may have reached Twilio)"
            await self.outbox.move(
                row.evolve(status=DEAD, reason=reason, error_code=code, uncertain=uncertain),
                f"dead-lettered: {reason}",
            )
            return
        delay = self.backoff(row.attempts)
        await self.outbox.move(
            row.evolve(
                status=PENDING,
                next_attempt_at=self.clock() + delay,
                uncertain=uncertain,
                reason=reason,
                error_code=code,
            ),
            f"{reason}; next attempt in {delay:.2f} s",
        )

    def backoff(self, attempts: int) -> float:
        """Exponential with equal jitter: half the step fixed, half random, capped."""
        step = min(self.settings.retry_max, self.settings.retry_base * 2 ** max(0, attempts - 1))
        return step / 2 + self.jitter() * step / 2


def _count(outcome: Outcome) -> None:
    """The send-results metric: accepted, refused (with Twilio's error code) or unknown."""
    if isinstance(outcome, Accepted):
        metrics.SEND_RESULTS.labels("accepted", "").inc()
    elif isinstance(outcome, Refused):
        metrics.SEND_RESULTS.labels("refused", str(outcome.code or "")).inc()
    else:
        metrics.SEND_RESULTS.labels("unknown", "").inc()


def _fields(payload: dict[str, Any]) -> dict[str, Any]:
    """The `OutboundMessage` fields an unchecked row's payload carries."""
    names = {field.name for field in dataclasses.fields(OutboundMessage)}
    return {name: value for name, value in payload.items() if name in names}
