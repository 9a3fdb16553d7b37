"""`ivr calls`: recent and live calls; `ivr calls show CALLSID`: one call's path as a timeline.

It reads the server's database (`--db`, IVR_DB) next to the running server, through the same
store functions the dashboard uses. `--format json` prints the same facts for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from ..history.timeline import answer, hops, outcome
from ..store.history import CALL_STATUSES, CallRow, Timeline, list_calls, timeline
from .server_db import add_database_url_argument, add_db_argument, open_server_database

LIST_LIMIT = 50
_SPAN = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "calls",
        help="list recent and live calls, or show one call's path",
        description="Recent and live calls, newest first; `ivr calls show CALLSID` for one.",
    )
    add_db_argument(parser)
    add_database_url_argument(parser)
    parser.add_argument("--flow", help="only calls of this flow")
    parser.add_argument(
        "--since", type=since_time, help="only calls started since: 2h, 30m, 7d, or a date/time"
    )
    parser.add_argument("--status", choices=CALL_STATUSES, help="live, completed or failed")
    parser.add_argument("--from", dest="caller", help="only calls from this number (E.164)")
    parser.add_argument("--limit", type=int, default=LIST_LIMIT, help="at most this many")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=False)
    show = actions.add_parser("show", help="one call's path: node, what was heard and answered")
    show.add_argument("call_sid", metavar="CALLSID")
    add_db_argument(show, default=argparse.SUPPRESS)
    add_database_url_argument(show, default=argparse.SUPPRESS)
    show.add_argument("--format", choices=("text", "json"), default=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def since_time(text: str) -> datetime:
    """`2h` / `30m` / `7d` ago, or an ISO date or date-time (UTC unless it says otherwise)."""
    match = _SPAN.match(text.strip())
    if match:
        amount, unit = float(match.group(1)), match.group(2)
        return datetime.now(UTC) - timedelta(**{_UNITS[unit]: amount})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: use 2h, 30m, 7d, or a date such as 2026-03-04"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    database = await open_server_database(args)  # beside the running server(s)
    if database is None:
        return 1
    try:
        if args.action == "show":
            found = await timeline(database, args.call_sid)
            if found is None:
                print(
                    f"error: there is no call {args.call_sid}: `ivr calls` lists them",
                    file=sys.stderr,
                )
                return 1
            if args.format == "json":
                print(json.dumps(found.as_dict(), indent=2, ensure_ascii=False))
            else:
                print("\n".join(timeline_lines(found)))
            return 0
        rows = await list_calls(
            database,
            flow=args.flow,
            since=args.since,
            status=args.status,
            caller=args.caller,
            limit=args.limit,
        )
    finally:
        await database.close()
    if args.format == "json":
        print(json.dumps([row.as_dict() for row in rows], indent=2, ensure_ascii=False))
    elif not rows:
        print("no calls match")
    else:
        print("\n".join(table(rows)))
    return 0


def table(rows: list[CallRow]) -> list[str]:
    header = ("STARTED", "CALLER", "FLOW", "VERSION", "STATUS", "LAST NODE", "DURATION", "CALLSID")
    lines = [header] + [
        (
            row.started[:19].replace("T", " "),
            row.caller or "-",
            row.flow_id,
            row.flow_version[:8],
            row.status,
            row.last_node or "-",
            f"{row.duration} s" if row.duration is not None else "-",
            row.call_sid,
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]


def timeline_lines(found: Timeline) -> list[str]:
    call = found.call
    lines = [
        f"call {call.call_sid} from {call.caller or 'unknown'}: flow {call.flow_id} "
        f"(version {call.flow_version[:8]}), {call.status}, {call.duration} s",
        f"started {call.started}",
    ]
    for entry in found.steps:
        at = entry.get("at", "")[11:23]
        where = f"at {entry['node']}: " if entry.get("node") else ""
        lines.append(
            f"{at}  step {entry.get('step')}  {where}{answer(entry)}  ({entry.get('ms')} ms)"
        )
        went = hops(entry)
        if went:
            lines.append(f"    went: {went}")
        for text in entry.get("told") or []:
            lines.append(f'    heard: "{text}"')
        for name, value in (entry.get("vars") or {}).items():
            lines.append(f"    set: {name} = {json.dumps(value, ensure_ascii=False)}")
        for message in entry.get("messages") or []:
            lines.append(f"    queued: {message['channel']} to {message['to']} ({message['node']})")
        if entry.get("error"):
            node = entry.get("error_node")
            kind = f" ({entry['error_node_type']})" if entry.get("error_node_type") else ""
            lines.append(f"    ERROR at {node}{kind}: {entry['error']}")
            if entry.get("on_error"):
                lines.append(f"    on_error: went to {entry['on_error']}")
        end = outcome(entry)
        if end:
            lines.append(f"    {end}")
    if found.callbacks:
        lines.append("status callbacks:")
        for callback in found.callbacks:
            details = ", ".join(f"{k}={v}" for k, v in callback.items() if k not in ("at", "kind"))
            lines.append(f"  {callback['at'][11:23]}  {callback['kind']}: {details}")
    if found.messages:
        lines.append("messages:")
        for message in found.messages:
            lines.append(
                f"  #{message['id']} {message['status']}: {message['channel']} to "
                f"{message['recipient']} (node {message['node_id']})"
            )
            for event in message["history"]:
                lines.append(f"      {event['at'][11:23]}  {event['status']:<9} {event['detail']}")
    return lines
