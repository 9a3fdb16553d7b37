"""`ivr campaign start|status|pause|resume|cancel|report NAME`: campaigns, through the server.

`start` sends the contacts CSV to the running server (POST /api/campaigns), which reports the
rows it skipped by line number and places the calls in the background; `status` shows counts
by outcome and a progress bar (`--watch` redraws it until the campaign ends); `report` prints
one row per contact (`--format csv`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from .api_client import ApiError, add_server_options, call_api

BAR = 30
ACTIONS = ("pause", "resume", "cancel")
ENDED = ("completed", "cancelled")


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "campaign",
        help="start, watch, steer and report outbound call campaigns",
        description="Outbound call campaigns, run by the server (`ivr serve`).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    start = actions.add_parser("start", help="start a campaign from a contacts CSV")
    start.add_argument("name", help="the campaign's name, e.g. reminders-2026-03-02")
    start.add_argument("--flow", required=True, help="the flow each call runs, e.g. reminder")
    start.add_argument(
        "--contacts", required=True, type=Path, help="CSV with a phone column (E.164) and fields"
    )
    start.add_argument("--rate", type=float, help="calls per second (default 1; 0: no pacing)")
    start.add_argument("--max-concurrent", type=int, help="calls at once (default 10)")
    start.add_argument("--max-attempts", type=int, help="tries per contact (default 3)")
    start.add_argument("--retry-delay", type=float, help="seconds before a retry (default 600)")
    start.add_argument(
        "--window",
        action="append",
        metavar='"DAYS HH:MM-HH:MM"',
        help='when contacts may be called, in their timezone, e.g. "mon-fri 09:00-20:00"',
    )
    start.add_argument("--hours", metavar="NODE", help="call only when this hours node is open")
    start.add_argument("--timezone", help="for contacts without a timezone column")
    status = actions.add_parser("status", help="counts by outcome, with a progress bar")
    status.add_argument("name")
    status.add_argument("--watch", action="store_true", help="redraw until the campaign ends")
    status.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    for action in ACTIONS:
        actions.add_parser(action, help=f"{action} a campaign").add_argument("name")
    report = actions.add_parser("report", help="one row per contact: attempts, outcome, vars")
    report.add_argument("name")
    report.add_argument("--format", choices=("csv", "json"), default="csv")
    for sub_parser in actions.choices.values():
        add_server_options(sub_parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "start":
            return start(args)
        if args.action == "status":
            return status(args)
        if args.action == "report":
            _, body = call_api(
                args.server, "GET", f"/api/campaigns/{args.name}/report?format={args.format}"
            )
            sys.stdout.write(body if isinstance(body, str) else json.dumps(body, indent=2) + "\n")
            return 0
        _, body = call_api(args.server, "POST", f"/api/campaigns/{args.name}/{args.action}")
        print(f"campaign {args.name}: {body['status']}")
        return 0
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def start(args: argparse.Namespace) -> int:
    try:
        text = args.contacts.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.contacts}: {exc}", file=sys.stderr)
        return 1
    options: dict[str, Any] = {
        key: value
        for key, value in {
            "rate": args.rate,
            "max_concurrent": args.max_concurrent,
            "max_attempts": args.max_attempts,
            "retry_delay": args.retry_delay,
            "window": args.window,
            "hours": args.hours,
            "timezone": args.timezone,
        }.items()
        if value is not None
    }
    flow = args.flow.removesuffix(".yaml").split("/")[-1]
    body = {"name": args.name, "flow": flow, "contacts_csv": text, "options": options}
    _, started = call_api(args.server, "POST", "/api/campaigns", body)
    for skipped in started["skipped"]:
        print(f"{args.contacts}:{skipped['line']}: {skipped['problem']}", file=sys.stderr)
    print(
        f"campaign {args.name} started: {started['accepted']} contact(s), "
        f"{len(started['skipped'])} row(s) skipped"
    )
    return 0


def status(args: argparse.Namespace) -> int:
    while True:
        _, found = call_api(args.server, "GET", f"/api/campaigns/{args.name}")
        lines = describe(found)
        if args.watch and sys.stdout.isatty():
            sys.stdout.write("\x1b[2J\x1b[H")
        print("\n".join(lines), flush=True)
        if not args.watch or found["status"] in ENDED:
            return 0
        time.sleep(args.interval)


def describe(found: dict[str, Any]) -> list[str]:
    total, done = int(found["total"]), int(found["done"])
    filled = round(BAR * done / total) if total else BAR
    share = 100 * done / total if total else 100.0
    lines = [
        f"campaign {found['name']} (flow {found['flow']}): {found['status']}",
        f"[{'#' * filled}{'-' * (BAR - filled)}] {done}/{total} done ({share:.0f}%)",
    ]
    for outcome, count in sorted(found["counts"].items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"  {outcome:<12} {count}")
    return lines
