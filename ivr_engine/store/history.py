"""The call history in the database: the execution log's table, its reads, and retention.

Each step's log entry (built by `ivr_engine.history.log`) rides in the session's own upsert,
in the `sessions.log` column; a trigger copies it into `call_log`. So the log costs no
statement, no thread hand-off and no commit of its own: it is durable exactly when the step
is. The reads here serve `ivr calls` and the dashboard; `prune` is retention.

The DDL is given for SQLite (applied at `Database.open`) and for PostgreSQL (for the
PostgreSQL backend's migrations). Queries use `?` placeholders and portable SQL; times are
ISO-8601 UTC text (`2026-03-04T15:00:00.000Z`) passed as parameters, which sort as times.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .. import json_text
from .backend import Store
from .database import Write

LIVE, COMPLETED, FAILED = "live", "completed", "failed"
CALL_STATUSES = (LIVE, COMPLETED, FAILED)
# Outbox states a message no longer leaves: retention may prune them.
FINISHED_MESSAGES = ("sent", "dead", "failed", "not_sent")
PRUNE_BATCH = 200


def timestamp(moment: datetime) -> str:
    """A time as the database's columns hold it: ISO-8601 UTC with milliseconds and a Z."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds")[:23] + "Z"  # strftime costs twice as much


# ---- reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallRow:
    """One call as `ivr calls` and the dashboard list it."""

    call_sid: str
    flow_id: str
    flow_version: str
    caller: str
    status: str  # live | completed | failed
    started: str
    updated: str
    last_node: str | None
    end_reason: str
    twilio_status: str
    duration: int | None  # seconds: Twilio's CallDuration once it ended, else so far

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


CALL_COLUMNS = (
    "s.call_sid, s.flow_id, s.flow_version, s.caller, s.ended, s.outcome, s.created_at, "
    "s.updated_at, s.data, "
    "(SELECT COUNT(*) FROM call_log l WHERE l.call_sid = s.call_sid AND l.failed = 1) AS errors"
)


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _call_row(row: Any, now: datetime) -> CallRow:
    data = json_text.loads(row["data"])
    ended = bool(row["ended"])
    failed = row["outcome"] == FAILED or (ended and row["errors"] > 0)
    status = FAILED if failed else COMPLETED if ended else LIVE
    started = _parse_time(row["created_at"])
    call = data.get("call") or {}
    duration: int | None = call.get("duration") or None
    if duration is None:
        end = _parse_time(row["updated_at"]) if ended else now
        duration = max(0, int((end - started).total_seconds()))
    path = data.get("path") or []
    return CallRow(
        call_sid=row["call_sid"],
        flow_id=row["flow_id"],
        flow_version=row["flow_version"],
        caller=row["caller"],
        status=status,
        started=row["created_at"],
        updated=row["updated_at"],
        last_node=data.get("node") or (path[-1] if path else None),
        end_reason=data.get("end_reason", ""),
        twilio_status=data.get("status", ""),
        duration=duration,
    )


async def list_calls(
    database: Store,
    *,
    flow: str | None = None,
    since: datetime | None = None,
    status: str | None = None,
    caller: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> list[CallRow]:
    """Calls, newest first, filtered as `ivr calls` and the dashboard's calls page ask."""
    where, params = _filters(flow, since, status, caller)
    rows = await database.fetchall(
        f"SELECT {CALL_COLUMNS} FROM sessions s WHERE {' AND '.join(where)} "
        "ORDER BY s.created_at DESC, s.call_sid LIMIT ?",
        (*params, limit),
    )
    moment = now or datetime.now(UTC)
    return [_call_row(row, moment) for row in rows]


def _filters(
    flow: str | None, since: datetime | None, status: str | None, caller: str | None
) -> tuple[list[str], list[Any]]:
    where, params = ["1 = 1"], []
    if flow:
        where.append("s.flow_id = ?")
        params.append(flow)
    if since:
        where.append("s.created_at >= ?")
        params.append(timestamp(since))
    if caller:
        where.append("s.caller = ?")
        params.append(caller)
    if status == LIVE:
        where.append("s.ended = 0")
    elif status == COMPLETED:
        where.append(
            "s.ended = 1 AND s.outcome <> 'failed' AND NOT EXISTS "
            "(SELECT 1 FROM call_log l WHERE l.call_sid = s.call_sid AND l.failed = 1)"
        )
    elif status == FAILED:
        where.append(
            "s.ended = 1 AND (s.outcome = 'failed' OR EXISTS "
            "(SELECT 1 FROM call_log l WHERE l.call_sid = s.call_sid AND l.failed = 1))"
        )
    return where, params


async def count_calls(database: Store, flow: str, since: datetime) -> int:
    row = await database.fetchone(
        "SELECT COUNT(*) AS n FROM sessions WHERE flow_id = ? AND created_at >= ?",
        (flow, timestamp(since)),
    )
    return int(row["n"]) if row is not None else 0


async def get_call(database: Store, call_sid: str) -> CallRow | None:
    row = await database.fetchone(
        f"SELECT {CALL_COLUMNS} FROM sessions s WHERE s.call_sid = ?", (call_sid,)
    )
    return _call_row(row, datetime.now(UTC)) if row is not None else None


@dataclass(frozen=True)
class Timeline:
    """Everything one call left: its steps, its status callbacks and its messages."""

    call: CallRow
    steps: list[dict[str, Any]]
    callbacks: list[dict[str, Any]]
    messages: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "call": self.call.as_dict(),
            "steps": self.steps,
            "callbacks": self.callbacks,
            "messages": self.messages,
        }


# The callback fields worth showing; the rest of Twilio's parameters repeat the call's.
CALLBACK_FIELDS = (
    "CallStatus",
    "CallDuration",
    "RecordingStatus",
    "RecordingUrl",
    "RecordingDuration",
    "TranscriptionStatus",
    "TranscriptionText",
    "ErrorCode",
)


async def timeline(database: Store, call_sid: str) -> Timeline | None:
    call = await get_call(database, call_sid)
    if call is None:
        return None
    steps = [
        json_text.loads(row["data"])
        for row in await database.fetchall(
            "SELECT data FROM call_log WHERE call_sid = ? ORDER BY id", (call_sid,)
        )
    ]
    callbacks = []
    for row in await database.fetchall(
        "SELECT kind, data, at FROM call_events WHERE call_sid = ? ORDER BY id", (call_sid,)
    ):
        data = json_text.loads(row["data"])
        fields = {name: data[name] for name in CALLBACK_FIELDS if data.get(name)}
        callbacks.append({"at": row["at"], "kind": row["kind"], **fields})
    messages = await call_messages(database, call_sid)
    return Timeline(call, steps, callbacks, messages)


async def call_messages(database: Store, call_sid: str) -> list[dict[str, Any]]:
    """The call's outbox rows, each with its history (our moves and Twilio's callbacks)."""
    found = []
    for row in await database.fetchall(
        "SELECT id, node_id, channel, recipient, status, delivery, reason, error_code, "
        "message_sid, created_at FROM outbox WHERE call_sid = ? ORDER BY id",
        (call_sid,),
    ):
        found.append({**dict(row), "history": await message_history(database, row)})
    return found


async def message_history(database: Store, row: Any) -> list[dict[str, str]]:
    events = [
        {"at": e["at"], "status": e["status"], "detail": e["detail"]}
        for e in await database.fetchall(
            "SELECT at, status, detail FROM outbox_events WHERE outbox_id = ? ORDER BY id",
            (row["id"],),
        )
    ]
    if row["message_sid"]:
        for e in await database.fetchall(
            "SELECT at, status, error_code FROM message_events WHERE message_sid = ? ORDER BY id",
            (row["message_sid"],),
        ):
            code = f", error {e['error_code']}" if e["error_code"] else ""
            events.append(
                {"at": e["at"], "status": e["status"], "detail": f"status callback{code}"}
            )
    return sorted(events, key=lambda event: event["at"])


@dataclass(frozen=True)
class Traffic:
    """How calls moved through a flow over a period: transitions taken, where calls stopped."""

    edges: dict[tuple[str | None, str | None, str | None], int]  # (from, via, to) -> calls
    ended_at: dict[str, int]  # node -> calls that ended there
    failed_at: dict[str, int]  # node -> calls that failed there
    calls: int


TRAFFIC_ROWS = 20_000  # at most this many steps are read for one diagram


async def traffic(database: Store, flow_id: str, since: datetime) -> Traffic:
    """Count, per transition of the flow, the calls that took it since `since`."""
    edges: dict[tuple[str | None, str | None, str | None], int] = {}
    ended: dict[str, int] = {}
    failed: dict[str, int] = {}
    calls: set[str] = set()
    rows = await database.fetchall(
        "SELECT call_sid, data FROM call_log WHERE flow_id = ? AND at >= ? ORDER BY id LIMIT ?",
        (flow_id, timestamp(since), TRAFFIC_ROWS),
    )
    for row in rows:
        entry = json_text.loads(row["data"])
        calls.add(row["call_sid"])
        for hop in entry.get("path", []):
            if hop.get("flow", flow_id) != flow_id:
                continue
            key = (hop.get("from"), hop.get("via"), hop.get("to"))
            edges[key] = edges.get(key, 0) + 1
        last = entry.get("waits") or (entry["path"][-1]["to"] if entry.get("path") else None)
        if entry.get("error") and entry.get("error_node"):
            failed[entry["error_node"]] = failed.get(entry["error_node"], 0) + 1
        if entry.get("ended") and last is None:
            last = next((h["from"] for h in reversed(entry.get("path", [])) if h["from"]), None)
        if entry.get("ended") and last:
            ended[last] = ended.get(last, 0) + 1
    return Traffic(edges, ended, failed, len(calls))


# ---- retention -----------------------------------------------------------------------------


async def prune(
    database: Store, before: datetime, batch: int = PRUNE_BATCH, pause: float = 0.0
) -> dict[str, int]:
    """Delete, in batches of `batch`, what ended before `before`; return how much went.

    Ended calls go with their log and callbacks; finished messages (delivered, dead, failed,
    not sent) with their history, unless the call that queued them is still live. Nothing
    of a live call is touched. Each batch is its own small write, so webhooks interleave.
    """
    cutoff = timestamp(before)
    counts = {"calls": 0, "messages": 0}
    while True:
        rows = await database.fetchall(
            "SELECT call_sid FROM sessions WHERE ended = 1 AND updated_at < ? LIMIT ?",
            (cutoff, batch),
        )
        if not rows:
            break
        sids = [row["call_sid"] for row in rows]
        marks = ", ".join("?" for _ in sids)
        await database.write(
            Write(f"DELETE FROM call_log WHERE call_sid IN ({marks})", sids),
            Write(f"DELETE FROM call_events WHERE call_sid IN ({marks})", sids),
            Write(f"DELETE FROM sessions WHERE ended = 1 AND call_sid IN ({marks})", sids),
        )
        counts["calls"] += len(sids)
        if len(sids) < batch:
            break
        await asyncio.sleep(pause)
    finished = ", ".join(f"'{status}'" for status in FINISHED_MESSAGES)
    while True:
        rows = await database.fetchall(
            f"SELECT o.id, o.message_sid FROM outbox o WHERE o.status IN ({finished}) "
            "AND COALESCE(o.updated_at, o.created_at) < ? AND NOT EXISTS "
            "(SELECT 1 FROM sessions s WHERE s.call_sid = o.call_sid AND s.ended = 0) LIMIT ?",
            (cutoff, batch),
        )
        if not rows:
            break
        ids = [row["id"] for row in rows]
        message_sids = [row["message_sid"] for row in rows if row["message_sid"]]
        marks = ", ".join("?" for _ in ids)
        writes = [
            Write(f"DELETE FROM outbox_events WHERE outbox_id IN ({marks})", ids),
            Write(f"DELETE FROM outbox WHERE id IN ({marks})", ids),
        ]
        if message_sids:
            sid_marks = ", ".join("?" for _ in message_sids)
            writes.append(
                Write(
                    f"DELETE FROM message_events WHERE message_sid IN ({sid_marks})", message_sids
                )
            )
        await database.write(*writes)
        counts["messages"] += len(ids)
        if len(ids) < batch:
            break
        await asyncio.sleep(pause)
    return counts


def call_status_of(ended: bool, end_reason: str, twilio_status: str) -> str:
    """The `outcome` column: '' while live, else 'failed' or 'completed'."""
    if not ended:
        return ""
    return FAILED if end_reason == "error" or twilio_status == "failed" else COMPLETED
