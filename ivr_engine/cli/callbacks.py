"""`ivr callbacks`: list the callers who asked to be called back while waiting in a queue.

Reads the server's own SQLite file (`--db`, IVR_DB) next to the running server, as `ivr
messages` does. The rows come from `enqueue` nodes (see `ivr_engine.callbacks`); placing the
calls is the outbound-calls feature's job, so until then this list is for people to work off.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..callbacks import SELECT
from .server_db import add_db_argument, server_database

LIST_LIMIT = 50


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "callbacks",
        help="list callers waiting for a call back (asked for in a queue)",
        description="List call-back requests made in enqueue nodes, oldest first.",
    )
    add_db_argument(parser)
    parser.add_argument("--queue", help="only requests made in this queue")
    parser.add_argument(
        "--all", action="store_true", help="every request, not only the pending ones"
    )
    parser.add_argument("--limit", type=int, default=LIST_LIMIT, help="at most this many")
    parser.set_defaults(run=run)


def run(args: Any) -> int:
    path = server_database(args)
    if path is None:
        return 1
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    db.row_factory = sqlite3.Row
    where, params = ["1"], []
    if not args.all:
        where.append("status = 'pending'")
    if args.queue:
        where.append("queue = ?")
        params.append(args.queue)
    try:
        rows = db.execute(
            f"{SELECT} WHERE {' AND '.join(where)} ORDER BY id LIMIT ?", (*params, args.limit)
        ).fetchall()
    except sqlite3.OperationalError:
        print("no call-back requests yet")
        return 0
    finally:
        db.close()
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
