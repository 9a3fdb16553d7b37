"""`ivr simulate FLOW`: play a flow in the terminal, as its caller, with the real runtime."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..tooling.script import DEFAULT_CALLED, DEFAULT_CALLER, ActionError, Call, known_variables
from ..tooling.simulate import HELP, converse, parse_value, summary
from ..tooling.testfile import ANSWERED_BY, AT_FORMAT, parse_at
from ..wording import quote, suggest
from .common import load_flow


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "simulate",
        help="play a flow in the terminal, as its caller",
        description="Play a flow in the terminal with the real runtime (no server, no Twilio). "
        + HELP
        + " At a dial, type its outcome; at a recording, how many seconds the caller speaks.",
    )
    parser.add_argument("flow", metavar="FLOW", help="a flow file, or a flow id in flows/")
    parser.add_argument(
        "--script",
        help="answers to give in order, separated by commas (e.g. 1,busy,10): no questions asked; "
        "an empty answer is silence",
    )
    parser.add_argument("--from", dest="caller", default=DEFAULT_CALLER, help="the caller's number")
    parser.add_argument("--to", dest="called", default=DEFAULT_CALLED, help="the number called")
    parser.add_argument(
        "--at",
        help='when the call happens, in the flow\'s timezone, e.g. "2026-12-24 18:30" (default: now)',
    )
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="preset a flow variable (repeatable)",
    )
    parser.add_argument(
        "--contact",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a contact field (contact.NAME): the call is one the flow placed to --to (repeatable)",
    )
    parser.add_argument(
        "--answered-by",
        choices=ANSWERED_BY,
        help="who answered the call the flow placed, as Twilio's machine detection says "
        "(default: human)",
    )
    parser.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="NODE",
        help="make this node fail when the call reaches it, to try the on_error path (repeatable)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    flow = load_flow(args.flow)
    zone = ZoneInfo(flow.timezone)
    if args.at is None:
        moment = datetime.now(UTC).astimezone(zone)
    else:
        parsed = parse_at(args.at)
        if parsed is None:
            print(f"--at {quote(args.at)} is not a date and time: {AT_FORMAT}", file=sys.stderr)
            return 2
        moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    variables: dict[str, Any] = {}
    known = known_variables(flow)
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print(
                f"--var {quote(item)}: write NAME=VALUE, e.g. --var account=1234", file=sys.stderr
            )
            return 2
        if name not in known:
            print(
                f'--var: {quote(name)} is not a variable of flow "{flow.id}"{suggest(name, known)}',
                file=sys.stderr,
            )
            return 2
        variables[name] = parse_value(value)
    contact: dict[str, Any] = {}
    for item in args.contact:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print(
                f"--contact {quote(item)}: write NAME=VALUE, e.g. --contact name=Ada",
                file=sys.stderr,
            )
            return 2
        contact[name] = value
    outbound = bool(args.contact) or args.answered_by is not None
    try:
        call = Call(
            flow,
            at=moment,
            caller=args.caller,
            called=args.called,
            variables=variables,
            fail_at=args.fail,
            contact=contact if outbound else None,
            answered_by=args.answered_by,
        )
    except ActionError as exc:
        print(f"--fail: {exc}", file=sys.stderr)
        return 2
    when = f"on {moment.strftime('%a %Y-%m-%d %H:%M')} ({flow.timezone})"
    if outbound:
        who = f"answered by {args.answered_by or 'human'}"
        print(f"Flow {quote(flow.id)} ({flow.file}) calls {args.called}, {who}, {when}")
    else:
        print(f"Calling flow {quote(flow.id)} ({flow.file}) from {args.caller} {when}")
    interactive = args.script is None
    if interactive:
        print(HELP)
        read = _reader(echo=not sys.stdin.isatty())
    else:
        read = _Script(args.script.split(","))
    fitted = asyncio.run(converse(call, read, print, interactive=interactive))
    print()
    print("\n".join(summary(call)))
    # silence left over is no answer the caller missed (`--script ""` for a call that asks nothing)
    if isinstance(read, _Script) and any(read.left):
        left = ", ".join(quote(answer) for answer in read.left)
        count = len(read.left)
        print(
            f"error: the call ended with {count} script answer{'s' if count > 1 else ''} "
            f"left unused: {left}; remove {'them' if count > 1 else 'it'} from --script, "
            "or check the path the call took",
            file=sys.stderr,
        )
        return 1
    return 0 if fitted else 1


def _reader(*, echo: bool) -> Any:
    def read(prompt: str) -> str | None:
        if echo:  # piped input: the prompt on its own line, the answer follows marked
            print(prompt)
        try:
            return input("" if echo else f"{prompt}: ")
        except EOFError:
            if not echo:
                print()
            return None

    return read


class _Script:
    """The `--script` answers, given in order; what is `left` once the call ended is an error."""

    def __init__(self, answers: list[str]) -> None:
        self.left = list(answers)

    def __call__(self, prompt: str) -> str | None:
        print(prompt)
        return self.left.pop(0) if self.left else None
