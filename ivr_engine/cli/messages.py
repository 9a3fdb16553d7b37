"""`ivr messages`: list outbox rows with their history; `ivr messages retry ID` re-queues one.

It opens the server's own SQLite file (`--db`, IVR_DB) next to the running server (WAL lets
both work at once); a re-queued row is picked up by the server's worker at its next look.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from typing import Any

from ..messaging.addresses import bare_number
from ..messaging.outbox import PENDING, RETRYABLE, STATUSES
from .server_db import add_db_argument, server_database

LIST_LIMIT = 50


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "messages",
        help="list queued SMS/WhatsApp messages with their history, or retry one",
        description="List outbox messages, newest first, with every change of their state.",
    )
    add_db_argument(parser)
    parser.add_argument("--status", choices=STATUSES, help="only messages in this state")
    parser.add_argument("--to", help="only messages to this number (E.164, e.g. +15551234567)")
    parser.add_argument("--limit", type=int, default=LIST_LIMIT, help="at most this many")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=False)
    retry = actions.add_parser("retry", help="re-queue a dead-lettered, failed or unsent message")
    retry.add_argument("id", type=int, help="the message number shown by `ivr messages`")
    add_db_argument(retry, default=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    path = server_database(args)
    if path is None:
        return 1
    db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5.0)
    db.row_factory = sqlite3.Row
    try:
        if args.action == "retry":
            return retry(db, args.id)
        return show(db, args.status, args.to, args.limit)
    except sqlite3.OperationalError as exc:
        print(
            f"error: {path} has no messaging tables ({exc}): start `ivr serve` on it once",
            file=sys.stderr,
        )
        return 1
    finally:
        db.close()


def show(db: sqlite3.Connection, status: str | None, to: str | None, limit: int) -> int:
    where, params = ["1"], []
    if status:
        where.append("status = ?")
        params.append(status)
    if to:
        where.append("recipient = ?")
        params.append(bare_number(to))
        for line in _consent(db, bare_number(to)):
            print(line)
    rows = db.execute(
        f"SELECT * FROM outbox WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
        (*params, limit),
    ).fetchall()
    if not rows:
        print("no messages match")
        return 0
    for row in rows:
        print(_heading(row))
        if row["reason"]:
            print(f"    reason: {row['reason']}")
        for at, state, detail in _history(db, row):
            print(f"    {at}  {state:<11} {detail}".rstrip())
    return 0


def retry(db: sqlite3.Connection, row_id: int) -> int:
    with db:
        db.execute("BEGIN IMMEDIATE")
        row = db.execute("SELECT status, reason FROM outbox WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            print(
                f"error: there is no message #{row_id}: `ivr messages` lists them", file=sys.stderr
            )
            return 1
        status, reason = row["status"], row["reason"]
        if status not in RETRYABLE:
            why = {
                "sent": "Twilio already has it; retrying would send it twice",
                "pending": "it is already waiting to be sent",
                "sending": "it is being sent right now",
            }[status]
            print(
                f"error: message #{row_id} is {status}: {why} (only dead, failed or not_sent "
                "messages can be retried)",
                file=sys.stderr,
            )
            return 1
        db.execute(
            f"UPDATE outbox SET status = '{PENDING}', attempts = 0, next_attempt_at = 0, "
            "reason = '', error_code = '', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
            "WHERE id = ?",
            (row_id,),
        )
        db.execute(
            "INSERT INTO outbox_events (outbox_id, status, detail) VALUES (?, ?, ?)",
            (row_id, PENDING, f"re-queued by `ivr messages retry` (was {status}: {reason})"),
        )
    print(f"message #{row_id} re-queued (it was {status}: {reason})")
    print("a running server sends it at its next look at the queue (about a second)")
    return 0


def _heading(row: sqlite3.Row) -> str:
    delivery = f", Twilio says {row['delivery']}" if row["delivery"] else ""
    sid = f" {row['message_sid']}" if row["message_sid"] else ""
    return (
        f"#{row['id']} {row['status']}{delivery}: {row['channel']} to {row['recipient']}{sid} "
        f"(flow {row['flow_id']}, node {row['node_id']}, call {row['call_sid']}, "
        f"{row['attempts']} attempt(s))"
    )


def _history(db: sqlite3.Connection, row: sqlite3.Row) -> list[tuple[str, str, str]]:
    """The row's own changes and Twilio's status callbacks for it, in time order."""
    events = [
        (e["at"], e["status"], e["detail"])
        for e in db.execute(
            "SELECT at, status, detail FROM outbox_events WHERE outbox_id = ? ORDER BY id",
            (row["id"],),
        )
    ]
    if row["message_sid"]:
        for e in db.execute(
            "SELECT at, status, error_code FROM message_events WHERE message_sid = ? ORDER BY id",
            (row["message_sid"],),
        ):
            code = f", error {e['error_code']}" if e["error_code"] else ""
            events.append((e["at"], e["status"], f"(status callback{code})"))
    return sorted(events, key=lambda event: event[0])


def _consent(db: sqlite3.Connection, number: str) -> list[str]:
    return [
        f"{number}: {event['action']} of {event['channel']} at {event['at']} ({event['source']})"
        for event in db.execute(
            "SELECT channel, action, source, at FROM consent_events WHERE number = ? ORDER BY id",
            (number,),
        )
    ]
