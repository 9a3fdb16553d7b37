"""`ivr messages`: list outbox rows with their history; `ivr messages retry ID` re-queues one.

It reads the server's store: its SQLite file (`--db`, IVR_DB) next to the running server (WAL
lets both work at once), or the PostgreSQL store several servers share (`--database URL`,
IVR_DATABASE_URL). A re-queued row is picked up by a server's worker at its next look.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from ..messaging.addresses import bare_number
from ..messaging.outbox import STATUSES, requeue
from ..store.history import message_history
from .server_db import add_database_url_argument, add_db_argument, open_server_database

LIST_LIMIT = 50
REFUSED = {
    "sent": "Twilio already has it; retrying would send it twice",
    "pending": "it is already waiting to be sent",
    "sending": "it is being sent right now",
}


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "messages",
        help="list queued SMS/WhatsApp messages with their history, or retry one",
        description="List outbox messages, newest first, with every change of their state.",
    )
    add_db_argument(parser)
    add_database_url_argument(parser)
    parser.add_argument("--status", choices=STATUSES, help="only messages in this state")
    parser.add_argument("--to", help="only messages to this number (E.164, e.g. +15551234567)")
    parser.add_argument("--limit", type=int, default=LIST_LIMIT, help="at most this many")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=False)
    retry = actions.add_parser("retry", help="re-queue a dead-lettered, failed or unsent message")
    retry.add_argument("id", type=int, help="the message number shown by `ivr messages`")
    add_db_argument(retry, default=argparse.SUPPRESS)
    add_database_url_argument(retry, default=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    database = await open_server_database(args)
    if database is None:
        return 1
    try:
        if args.action == "retry":
            return await retry(database, args.id)
        return await show(database, args.status, args.to, args.limit)
    finally:
        await database.close()


async def show(database: Any, status: str | None, to: str | None, limit: int) -> int:
    where, params = ["1 = 1"], []
    if status:
        where.append("status = ?")
        params.append(status)
    if to:
        where.append("recipient = ?")
        params.append(bare_number(to))
        for line in await _consent(database, bare_number(to)):
            print(line)
    rows = await database.fetchall(
        f"SELECT * FROM outbox WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
        (*params, limit),
    )
    if not rows:
        print("no messages match")
        return 0
    for row in rows:
        print(_heading(row))
        if row["reason"]:
            print(f"    reason: {row['reason']}")
        for event in await message_history(database, row):
            detail = event["detail"]
            if event["detail"].startswith("status callback"):
                detail = f"({detail})"
            print(f"    {event['at']}  {event['status']:<11} {detail}".rstrip())
    return 0


async def retry(database: Any, row_id: int) -> int:
    found = await requeue(database, row_id, "by `ivr messages retry`")
    if not found.found:
        print(f"error: there is no message #{row_id}: `ivr messages` lists them", file=sys.stderr)
        return 1
    if not found.done:
        print(
            f"error: message #{row_id} is {found.status}: {REFUSED[found.status]} (only dead, "
            "failed or not_sent messages can be retried)",
            file=sys.stderr,
        )
        return 1
    print(f"message #{row_id} re-queued (it was {found.status}: {found.reason})")
    print("a running server sends it at its next look at the queue (about a second)")
    return 0


def _heading(row: Any) -> str:
    delivery = f", Twilio says {row['delivery']}" if row["delivery"] else ""
    sid = f" {row['message_sid']}" if row["message_sid"] else ""
    return (
        f"#{row['id']} {row['status']}{delivery}: {row['channel']} to {row['recipient']}{sid} "
        f"(flow {row['flow_id']}, node {row['node_id']}, call {row['call_sid']}, "
        f"{row['attempts']} attempt(s))"
    )


async def _consent(database: Any, number: str) -> list[str]:
    return [
        f"{number}: {event['action']} of {event['channel']} at {event['at']} ({event['source']})"
        for event in await database.fetchall(
            "SELECT channel, action, source, at FROM consent_events WHERE number = ? ORDER BY id",
            (number,),
        )
    ]
