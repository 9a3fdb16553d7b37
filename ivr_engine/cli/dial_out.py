"""`ivr dial-out FLOW --to +1... [--var k=v ...]`: place one call of a flow, now.

The running server places it (POST /api/calls), so its webhooks reach the flow; `--var`
gives the contact fields the flow reads as `contact.<name>`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .api_client import ApiError, add_server_options, call_api


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "dial-out",
        help="place one outbound call of a flow through the running server",
        description="Place one outbound call of a flow (the server must be running).",
    )
    parser.add_argument("flow", help="the flow id, e.g. reminder")
    parser.add_argument("--to", required=True, help="the number to call, E.164 (+15551234567)")
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a contact field the flow reads as contact.NAME (repeat for more)",
    )
    add_server_options(parser)
    parser.set_defaults(run=run)


def parse_vars(items: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f'--var "{item}": write NAME=VALUE, e.g. --var name=Ada')
        found[name.strip()] = value
    return found


def run(args: argparse.Namespace) -> int:
    try:
        variables = parse_vars(args.var)
        flow = args.flow.removesuffix(".yaml").split("/")[-1]
        _, call = call_api(
            args.server, "POST", "/api/calls", {"flow": flow, "to": args.to, "vars": variables}
        )
    except (ValueError, ApiError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"calling {call['to']} from {call['from']} with flow {call['flow']}: {call['status']}")
    print(f"  call {call['call_sid'] or '(no SID yet)'}, attempt {call['id']}")
    return 0
