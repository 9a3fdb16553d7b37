"""The campaign runner: a background task inside `ivr serve` that places campaigns' calls.

Each round it looks at the running campaigns and, within the room their `max_concurrent` and
the account's `IVR_MAX_CALLS` leave, claims due contacts (a lease, so a PostgreSQL claim with
`SKIP LOCKED` lets several servers share a campaign). For each contact it skips numbers that
opted out (the messaging suppression list and the do-not-call list), waits for the contact's
window, keeps to the pace (calls per second per campaign and for the account), then commits
the attempt as `placing` and places it. Twilio's status callbacks end attempts (`ended`):
busy, no-answer and failed are tried again after `retry_delay` up to `max_attempts`.

After a crash, attempts still `placing` are settled at Twilio before anything else
(`OutboundCalls.settle`): a call Twilio has is linked, never placed a second time.

With several processes on PostgreSQL every process runs a runner. They count and claim under
one advisory lock (a claimed contact counts as a call in progress), and each call's slot in
the pace is reserved in the database (`OutboundStore.reserve_slot`), so the rates and limits
hold for all of them together. One process on SQLite paces in its own memory (`Pace`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..outbound.config import OutboundConfig
from ..outbound.service import OutboundCalls, OutboundProblem, new_attempt
from ..outbound.settings import MACHINE_ANSWERS, OutboundSettings
from .store import (
    CALLING,
    CANCELLED,
    COMPLETED,
    DONE,
    NOT_PLACED,
    OPTED_OUT,
    PENDING,
    PLACING,
    RETRYABLE,
    RUNNING,
    Attempt,
    Campaign,
    Contact,
    OutboundStore,
)
from .window import Window

log = logging.getLogger("ivr_engine.campaigns")

CLAIM_LOCK = "ivr-campaign-claim"  # the advisory lock runners count and claim under
SETTLE_AFTER = 1.0  # seconds past the request timeout before a `placing` attempt is settled


@dataclass(frozen=True)
class CampaignOptions:
    rate: float = 1.0  # calls per second; 0: as fast as the account allows
    max_concurrent: int = 10
    max_attempts: int = 3
    retry_delay: float = 600.0
    window: dict[str, Any] | None = None  # {"schedule": {...}, "holidays": [...]}
    hours: str | None = None  # an hours node of the flow whose schedule is the window
    timezone: str | None = None  # for contacts without one; else the flow's

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CampaignOptions:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class Pace:
    """Slots `1/rate` seconds apart; `rate` 0 means no pacing."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.next = 0.0

    def free_at(self, now: float) -> float:
        return max(now, self.next) if self.rate > 0 else now

    def take(self, at: float) -> None:
        if self.rate > 0:
            self.next = at + 1.0 / self.rate


class CampaignRunner:
    def __init__(
        self,
        store: OutboundStore,
        outbound: OutboundCalls,
        config: OutboundConfig,
        *,
        runner_id: str | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.outbound = outbound
        self.config = config
        self.runner_id = runner_id or f"{socket.gethostname()}:{os.getpid()}"
        self.clock = clock
        self.monotonic = monotonic
        self.account_pace = Pace(config.calls_per_second)
        self.paces: dict[str, Pace] = {}
        self.nudge = asyncio.Event()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        outbound.on_ended = self.ended

    # ---- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ivr-campaign-runner")

    async def stop(self) -> None:
        self._stopping = True
        self.nudge.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=5)

    async def _run(self) -> None:
        while not self._stopping:
            self.nudge.clear()
            wait = self.config.poll_interval
            try:
                await self.settle()
                for campaign in await self.store.campaigns(RUNNING):
                    due = await self.run_campaign(campaign)
                    if due is not None:
                        wait = min(wait, max(0.0, due - self.clock()))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("campaign runner: a round failed; trying again")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self.nudge.wait()

    # ---- settling attempts left placing -----------------------------------------------

    async def settle(self) -> None:
        """Attempts `placing` that no request of ours is waiting on: linked, or placed once."""
        stale = self.clock() - self.config.request_timeout - SETTLE_AFTER
        for attempt in await self.store.placing():
            if attempt.id in self._inflight or attempt.placing_at > stale:
                continue  # its request may still be on its way (here or in another process)
            try:
                found = await self.outbound.settle(attempt)
            except Exception as exc:
                log.warning("attempt %s: cannot ask Twilio yet (%s)", attempt.id, exc)
                continue
            if found:
                log.warning("attempt %s to %s: Twilio had it already", attempt.id, attempt.phone)
                continue
            flow = self.outbound.flows.current(attempt.flow_id)
            if flow is None:
                await self.store.write(
                    self.store.update_attempt(
                        attempt.id, status=NOT_PLACED, detail="its flow is no longer served"
                    )
                )
                continue
            log.warning(
                "attempt %s to %s: Twilio has no such call: placing it", attempt.id, attempt.phone
            )
            self._spawn(attempt, flow)

    # ---- one campaign -----------------------------------------------------------------

    async def run_campaign(self, campaign: Campaign) -> float | None:
        """Place what may be placed now; the time the next contact is due (None: nothing)."""
        options = CampaignOptions.from_json(campaign.options)
        if await self.store.unfinished(campaign.name) == 0:
            await self.store.set_campaign_status(campaign.name, COMPLETED)
            log.info("campaign %s: completed", campaign.name)
            return None
        try:
            self.outbound.setup(campaign.flow_id)
        except OutboundProblem as exc:
            log.error("campaign %s: cannot place calls: %s", campaign.name, exc.message)
            return None
        # counted and claimed at once: processes sharing PostgreSQL take turns (one lock)
        async with self._claiming():
            calling = await self.store.calling(campaign.name)
            total = await self.store.calling()
            free = min(options.max_concurrent - calling, self.config.max_calls - total)
            if free <= 0:
                return None
            contacts = await self.store.claim(
                campaign.name, self.runner_id, free, self.config.lease
            )
        for contact in contacts:
            if self._stopping:
                break
            if (await self.store.campaign(campaign.name) or campaign).status != RUNNING:
                await self.store.write(
                    self.store.update_contact(campaign.name, contact.phone, claimed_by=None)
                )
                continue
            await self._contact(campaign, options, contact)
        return await self.store.next_due(campaign.name)

    def _claiming(self) -> contextlib.AbstractAsyncContextManager[None]:
        database = self.store.database
        if database.shared:
            return database.call_lock(CLAIM_LOCK)  # type: ignore[attr-defined, no-any-return]
        return contextlib.nullcontext()

    async def _contact(
        self, campaign: Campaign, options: CampaignOptions, contact: Contact
    ) -> None:
        name = campaign.name
        stop = await self.store.opted_out(contact.phone)
        if stop:
            log.info("campaign %s: %s not called: %s", name, contact.phone, stop)
            await self.store.write(
                self.store.update_contact(
                    name, contact.phone, status=OPTED_OUT, outcome="opted-out", claimed_by=None
                )
            )
            return
        try:
            plan = self.outbound.plan(campaign.flow_id, contact.phone, contact.fields)
        except OutboundProblem as exc:
            log.error("campaign %s: %s not called: %s", name, contact.phone, exc.message)
            await self.store.write(
                self.store.update_contact(
                    name,
                    contact.phone,
                    status=DONE,
                    outcome="not-called",
                    result={"problem": exc.message},
                    claimed_by=None,
                )
            )
            return
        opens = self._opens(plan.flow, options, contact)
        now = self.clock()
        if opens is None or opens > now + 1:
            wait_until = opens if opens is not None else now + 86400.0
            await self.store.write(
                self.store.update_contact(
                    name, contact.phone, next_attempt_at=wait_until, claimed_by=None
                )
            )
            return
        await self._pace(name, options)
        attempt = new_attempt(
            plan, contact.phone, contact.fields, name, contact.attempts + 1, self.clock()
        )
        await self.store.write(
            self.store.insert_attempt(attempt),
            self.store.update_contact(
                name, contact.phone, status=CALLING, attempts=attempt.number, claimed_by=None
            ),
        )
        self._spawn(attempt, plan.flow)

    def _opens(self, flow: Any, options: CampaignOptions, contact: Contact) -> float | None:
        """When the contact may be called: now, a later epoch time, or None (never soon)."""
        window: Window | None = None
        if options.window:
            window = Window(options.window.get("schedule", {}), options.window.get("holidays", ()))
        elif options.hours and options.hours in flow.nodes:
            node = flow.nodes[options.hours]
            window = Window(node.spec["schedule"], node.spec.get("holidays", ()))
            if node.spec.get("timezone") and not contact.timezone:
                return _next(window, node.spec["timezone"], self.clock())
        if window is None:
            return self.clock()
        zone = contact.timezone or options.timezone or flow.timezone
        return _next(window, zone, self.clock())

    async def _pace(self, name: str, options: CampaignOptions) -> None:
        if self.store.database.shared:
            await self._shared_pace(name, options)
            return
        pace = self.paces.get(name)
        if pace is None or pace.rate != options.rate:
            pace = self.paces[name] = Pace(options.rate)
        now = self.monotonic()
        at = max(pace.free_at(now), self.account_pace.free_at(now))
        pace.take(at)
        self.account_pace.take(at)
        if at > now:
            await asyncio.sleep(at - now)

    async def _shared_pace(self, name: str, options: CampaignOptions) -> None:
        """Several processes on PostgreSQL: each call's slot is reserved in the database, so
        together they keep the campaign's rate and the account's (not each its own)."""
        intervals = {
            key: 1.0 / rate
            for key, rate in (
                (f"campaign:{name}", options.rate),
                ("account", self.account_pace.rate),
            )
            if rate > 0
        }
        if not intervals:
            return
        now = self.clock()
        at = await self.store.reserve_slot(intervals, now)
        if at > now:
            await asyncio.sleep(at - now)

    def _spawn(self, attempt: Attempt, flow: Any) -> None:
        async def place() -> None:
            try:
                await self.outbound.place(attempt, OutboundSettings.of(flow))
            except Exception:
                log.exception("attempt %s: placing failed unexpectedly", attempt.id)

        task = asyncio.create_task(place(), name=f"ivr-attempt-{attempt.id}")
        self._inflight[attempt.id] = task
        task.add_done_callback(lambda _: self._inflight.pop(attempt.id, None))

    # ---- attempts ending -----------------------------------------------------------

    async def ended(self, attempt: Attempt) -> None:
        """An attempt's call is over (or was never placed): retry, or the contact is done."""
        if attempt.campaign is None:
            return
        name = attempt.campaign
        contact = await self.store.contact(name, attempt.phone)
        if contact is None or contact.status != CALLING or contact.attempts != attempt.number:
            return  # an older attempt's late news
        campaign = await self.store.campaign(name)
        options = CampaignOptions.from_json(campaign.options if campaign else {})
        status = attempt.status
        changes: dict[str, Any] = {"answered_by": attempt.answered_by, "claimed_by": None}
        if status == "completed":
            machine = attempt.answered_by in MACHINE_ANSWERS
            changes.update(status=DONE, outcome="machine" if machine else "answered")
            changes["result"] = attempt.result
        elif (status in RETRYABLE or status == NOT_PLACED) and (
            contact.attempts < options.max_attempts
            and (campaign is None or campaign.status != CANCELLED)
        ):
            changes.update(
                status=PENDING, outcome=status, next_attempt_at=self.clock() + options.retry_delay
            )
        else:
            changes.update(status=DONE, outcome=status)
        await self.store.write(self.store.update_contact(name, attempt.phone, **changes))
        self.nudge.set()


def _next(window: Window, zone: str, now: float) -> float | None:
    moment = datetime.fromtimestamp(now, UTC).astimezone(ZoneInfo(zone))
    opens = window.next_open(moment)
    return opens.timestamp() if opens is not None else None


__all__ = ["PLACING", "CampaignOptions", "CampaignRunner"]
