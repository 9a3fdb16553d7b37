"""What the API and the CLI do with campaigns: start one from a CSV, look at it, steer it,
and report on it. The runner (`runner.py`) does the calling; this only reads and writes rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import json_text
from ..outbound.service import OutboundCalls, OutboundProblem
from ..semantics import valid_timezone
from ..wording import quote
from .contacts import ContactList, read_contacts
from .runner import CampaignOptions, CampaignRunner
from .store import CANCELLED, COMPLETED, PAUSED, RUNNING, OutboundStore
from .window import Window

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ACTIONS = {"pause": PAUSED, "resume": RUNNING, "cancel": CANCELLED}
REPORT_COLUMNS = ("phone", "line", "status", "outcome", "attempts", "answered_by")


@dataclass(frozen=True)
class Started:
    name: str
    contacts: ContactList

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "accepted": len(self.contacts.contacts),
            "skipped": [problem.as_json() for problem in self.contacts.problems],
        }


class Campaigns:
    def __init__(
        self, store: OutboundStore, outbound: OutboundCalls, runner: CampaignRunner | None
    ) -> None:
        self.store = store
        self.outbound = outbound
        self.runner = runner

    async def start(
        self, name: str, flow_id: str, contacts_csv: str, options: Mapping[str, Any]
    ) -> Started:
        if not isinstance(name, str) or not NAME.match(name):
            raise OutboundProblem(
                422,
                f'"name": {quote(name)} is not a campaign name: up to 64 letters, digits, '
                "'.', '_' or '-', starting with a letter or digit",
            )
        plan = self.outbound.setup(flow_id)
        if await self.store.campaign(name) is not None:
            raise OutboundProblem(409, f"there is already a campaign {quote(name)}")
        chosen = _options(options, plan.flow)
        contacts = read_contacts(contacts_csv, plan.outbound.contact)
        if contacts.fatal:
            raise OutboundProblem(422, f"contacts: {contacts.fatal}")
        if not contacts.contacts:
            problems = "; ".join(str(p) for p in contacts.problems[:5])
            raise OutboundProblem(422, f"contacts: no usable contact ({problems or 'no rows'})")
        await self.store.create_campaign(name, flow_id, chosen.as_json(), contacts.contacts)
        if self.runner is not None:
            self.runner.nudge.set()
        return Started(name, contacts)

    async def status(self, name: str) -> dict[str, Any]:
        campaign = await self.store.campaign(name)
        if campaign is None:
            raise OutboundProblem(404, f"there is no campaign {quote(name)}")
        counts = await self.store.counts(name)
        total = sum(counts.values())
        waiting = counts.get("pending", 0) + counts.get("calling", 0)
        return {
            "name": name,
            "flow": campaign.flow_id,
            "status": campaign.status,
            "total": total,
            "done": total - waiting,
            "counts": counts,
            "options": campaign.options,
        }

    async def steer(self, name: str, action: str) -> dict[str, Any]:
        campaign = await self.store.campaign(name)
        if campaign is None:
            raise OutboundProblem(404, f"there is no campaign {quote(name)}")
        if action not in ACTIONS:
            raise OutboundProblem(
                404, f"campaigns can be paused, resumed or cancelled, not {action}"
            )
        if campaign.status in (CANCELLED, COMPLETED):
            raise OutboundProblem(
                422, f"the campaign {quote(name)} is {campaign.status}: it cannot be {action}d"
            )
        await self.store.set_campaign_status(name, ACTIONS[action])
        if self.runner is not None:
            self.runner.nudge.set()
        return await self.status(name)

    async def report(self, name: str) -> list[dict[str, Any]]:
        """One row per contact: its fields, attempts, outcome, answered_by and flow variables."""
        if await self.store.campaign(name) is None:
            raise OutboundProblem(404, f"there is no campaign {quote(name)}")
        rows = []
        for contact in await self.store.contacts(name):
            row: dict[str, Any] = {
                "phone": contact.phone,
                "line": contact.line,
                "status": contact.status,
                "outcome": contact.outcome,
                "attempts": contact.attempts,
                "answered_by": contact.answered_by,
            }
            row.update({f"contact.{k}": v for k, v in contact.fields.items()})
            row.update({f"var.{k}": v for k, v in contact.result.items()})
            rows.append(row)
        return rows


def report_csv(rows: list[dict[str, Any]]) -> str:
    columns = list(REPORT_COLUMNS)
    for row in rows:
        columns += [key for key in row if key not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: v if isinstance(v, str | int | float) or v is None else json_text.dumps(v)
                for k, v in row.items()
            }
        )
    return out.getvalue()


def _options(given: Mapping[str, Any], flow: Any) -> CampaignOptions:
    """The campaign's options from the API's or CLI's words, each checked."""
    defaults = CampaignOptions()

    def number(key: str, default: float, low: float) -> float:
        value = given.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
            raise OutboundProblem(422, f'"{key}" must be a number of at least {low:g}')
        return float(value)

    window = given.get("window")
    if window is not None:
        try:
            if isinstance(window, list):
                parsed = Window.parse(window)
            elif isinstance(window, dict):
                parsed = Window(window.get("schedule", window), window.get("holidays", ()))
            else:
                raise ValueError('write it as ["mon-fri 09:00-20:00", ...]')
        except (ValueError, AttributeError, TypeError) as exc:
            raise OutboundProblem(422, f'"window": {exc}') from None
        window = parsed.as_json()
    hours = given.get("hours")
    if hours is not None and (hours not in flow.nodes or flow.nodes[hours].type_name != "hours"):
        raise OutboundProblem(
            422, f'"hours": the flow {quote(flow.id)} has no hours node {quote(hours)}'
        )
    timezone = given.get("timezone")
    if timezone is not None and (not isinstance(timezone, str) or not valid_timezone(timezone)):
        raise OutboundProblem(422, f'"timezone": {quote(timezone)} is not a known timezone')
    return CampaignOptions(
        rate=number("rate", defaults.rate, 0),
        max_concurrent=int(number("max_concurrent", defaults.max_concurrent, 1)),
        max_attempts=int(number("max_attempts", defaults.max_attempts, 1)),
        retry_delay=number("retry_delay", defaults.retry_delay, 0),
        window=window,
        hours=hours,
        timezone=timezone,
    )
