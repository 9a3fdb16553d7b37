"""`ivr callbacks`: list the callers who asked to be called back while waiting in a queue.

Reads the server's store, as `ivr messages` does: its SQLite file (`--db`, IVR_DB) next to the
running server, or the PostgreSQL store (`--database URL`, IVR_DATABASE_URL). The rows come
from `enqueue` nodes (see `ivr_engine.callbacks`); until the outbound dialer places them, this
list is for people to work off.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..callbacks import SELECT
from .server_db import add_database_url_argument, add_db_argument, open_server_database

LIST_LIMIT = 50


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "callbacks",
        help="list callers waiting for a call back (asked for in a queue)",
        description="List call-back requests made in enqueue nodes, oldest first.",
    )
    add_db_argument(parser)
    add_database_url_argument(parser)
    parser.add_argument("--queue", help="only requests made in this queue")
    parser.add_argument(
        "--all", action="store_true", help="every request, not only the pending ones"
    )
    parser.add_argument("--limit", type=int, default=LIST_LIMIT, help="at most this many")
    parser.set_defaults(run=run)


def run(args: Any) -> int:
    return asyncio.run(_run(args))


async def _run(args: Any) -> int:
    database = await open_server_database(args)
    if database is None:
        return 1
    where, params = ["1 = 1"], []
    if not args.all:
        where.append("status = 'pending'")
    if args.queue:
        where.append("queue = ?")
        params.append(args.queue)
    try:
        rows = await database.fetchall(
            f"{SELECT} WHERE {' AND '.join(where)} ORDER BY id LIMIT ?", (*params, args.limit)
        )
    finally:
        await database.close()
    if not rows:
        print("no call-back requests match")
        return 0
    for row in rows:
        minutes, seconds = divmod(int(row["waited"]), 60)
        print(
            f"#{row['id']}  {row['requested_at']}  {row['number']}  queue {row['queue']}  "
            f"waited {minutes}m{seconds:02d}s  {row['status']}  "
            f"(call {row['call_sid']}, flow {row['flow_id']}, node {row['node_id']})"
        )
    return 0
