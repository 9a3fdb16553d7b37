"""`ivr call URL`: phone a running server through the Twilio emulator and print what is heard.

With `--press`/`--say` the caller follows that script (in the order given) and is silent once
it runs out; without them the caller is you: keys, words or an empty line (silence) are read
from the terminal, or from piped standard input. Requests are signed with TWILIO_AUTH_TOKEN
from the environment, as Twilio signs them with the account's token.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from ..emulator import (
    DIAL_OUTCOMES,
    SILENCE,
    CallerHungUp,
    DialSpec,
    EmulatedCall,
    EmulatorError,
    Exchange,
    GatherSpec,
    Input,
    Keys,
    ScriptedCaller,
    SignedHttp,
    Speech,
    new_session,
)
from ..emulator.call import DEFAULT_FROM, DEFAULT_TO, MAX_REQUESTS, STATUS_CALLBACK
from ..emulator.caller import KEYS, parse_dial_outcomes, parse_keys
from ..emulator.holding import (
    AGENT_STATUSES,
    AgentOutcome,
    AgentSpec,
    QueueSpec,
    parse_agent_outcome,
    parse_queue_events,
)
from ..emulator.http import wait_until_listening

BASE_PARAMS = frozenset(
    {"CallSid", "AccountSid", "From", "To", "CallStatus", "Direction", "ApiVersion"}
)


class _Script(argparse.Action):
    """Collect --press and --say answers into one list, in command-line order."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: Any, value: Any, option: Any = None
    ) -> None:
        script = list(getattr(namespace, "script", None) or [])
        if option == "--say":
            script.append(Speech(value))
        else:
            try:
                script.extend(parse_keys(value))
            except ValueError as exc:
                parser.error(f"{option}: {exc}")
        namespace.script = script


class _DialOutcomes(argparse.Action):
    def __call__(
        self, parser: argparse.ArgumentParser, namespace: Any, value: Any, option: Any = None
    ) -> None:
        try:
            outcomes = parse_dial_outcomes(value)
        except ValueError as exc:
            parser.error(f"{option}: {exc}")
        namespace.dial = [*(namespace.dial or []), *outcomes]


class _QueueEvents(argparse.Action):
    def __call__(
        self, parser: argparse.ArgumentParser, namespace: Any, value: Any, option: Any = None
    ) -> None:
        try:
            events = parse_queue_events(value)
        except ValueError as exc:
            parser.error(f"{option}: {exc}")
        namespace.queue = [*(namespace.queue or []), *events]


class _AgentOutcomes(argparse.Action):
    def __call__(
        self, parser: argparse.ArgumentParser, namespace: Any, value: Any, option: Any = None
    ) -> None:
        try:
            outcome = parse_agent_outcome(value)
        except ValueError as exc:
            parser.error(f"{option}: {exc}")
        namespace.agent = [*(namespace.agent or []), outcome]


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "call",
        help="call a running server as Twilio would (no Twilio account needed)",
        description=(
            "Call URL (a flow's Voice URL, e.g. http://127.0.0.1:8000/voice/acme) as Twilio "
            "would and print what the caller hears. Without --press or --say, type keys, words, "
            "or Enter alone for silence. Needs the server's TWILIO_AUTH_TOKEN in the environment."
        ),
    )
    parser.add_argument("url", help="the Voice URL of the flow")
    parser.add_argument(
        "--press",
        action=_Script,
        dest="script",
        metavar="KEYS",
        help="keys to press, one answer per prompt, commas between answers; an empty answer is "
        "silence (e.g. 7,,1 = an invalid key, silence, then 1)",
    )
    parser.add_argument(
        "--say",
        action=_Script,
        dest="script",
        metavar="TEXT",
        help="words said at the next prompt, or the message left at a recording (repeatable)",
    )
    parser.add_argument(
        "--dial",
        action=_DialOutcomes,
        metavar="OUTCOMES",
        help=f"how each dial ends, commas between: {', '.join(DIAL_OUTCOMES)} "
        "(default: asked, or completed with --press/--say)",
    )
    parser.add_argument(
        "--queue",
        action=_QueueEvents,
        metavar="EVENTS",
        help="what happens to the caller in a queue, and after how many seconds on hold: "
        "bridged@120 (an agent takes the call), hangup@30; commas between (default: asked, "
        "or bridged at once with --press/--say)",
    )
    parser.add_argument(
        "--agent",
        action=_AgentOutcomes,
        metavar="OUTCOME",
        help='how a voice agent session ends: ended, ended:\'{"reason": "human"}\' (with '
        "handoff data), failed or completed (repeatable; default: asked, or ended)",
    )
    parser.add_argument("--from", dest="from_number", default=DEFAULT_FROM, help="caller's number")
    parser.add_argument("--to", dest="to_number", default=DEFAULT_TO, help="number called")
    parser.add_argument(
        "--method", choices=["POST", "GET"], default="POST", help="the Voice URL's method"
    )
    parser.add_argument(
        "--status-callback",
        default=STATUS_CALLBACK,
        metavar="URL",
        help="where the call-completed callback goes, relative to URL (empty: none)",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=MAX_REQUESTS,
        help="stop a call that is still going after this many requests",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="wait this long for a server that is still starting (default 5)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show every request and its answer time"
    )
    parser.set_defaults(run=run, script=None, dial=None, queue=None, agent=None)


class TerminalCaller:
    """A person at the terminal (or a pipe), read line by line; end of input or Ctrl-C hangs up."""

    interactive = True

    def __init__(
        self,
        dial_outcomes: list[str],
        queue_events: list[tuple[str, int]] | None = None,
        agent_outcomes: list[AgentOutcome] | None = None,
    ) -> None:
        self.scripted_dials = ScriptedCaller(dial_outcomes=dial_outcomes)
        self.scripted = ScriptedCaller(
            queue_events=queue_events or (), agent_outcomes=agent_outcomes or ()
        )
        self.echo = not sys.stdin.isatty()  # piped answers are not echoed by a terminal

    async def _ask(self, prompt: str) -> str:
        # A plain blocking input(): the call does nothing else while the caller thinks, and
        # Ctrl-C interrupts it at once (a reader thread would hold the exit until Enter).
        try:
            line = input(prompt)
        except (EOFError, KeyboardInterrupt):  # end of input or Ctrl-C: the caller hangs up
            print()
            raise CallerHungUp from None
        if self.echo:
            print(line)
        return line.strip()

    async def answer(self, gather: GatherSpec) -> Input:
        line = await self._ask(f"[waiting for {gather.listening_for}] > ")
        if not line:
            return SILENCE
        return Keys(line) if set(line) <= KEYS else Speech(line)

    async def message(self) -> str | None:
        return await self._ask("[recording] your message (Enter alone: silence) > ") or None

    async def dial_outcome(self, dial: DialSpec) -> str:
        if self.scripted_dials.dial_outcomes:
            return await self.scripted_dials.dial_outcome(dial)
        choices = ", ".join(DIAL_OUTCOMES)
        while True:
            line = await self._ask(
                f"[dialling {', '.join(dial.targets)}] how does it end? ({choices}; "
                "Enter: completed) > "
            )
            if not line:
                return "completed"
            if line in DIAL_OUTCOMES:
                return line
            print(f'"{line}" is not a dial outcome: type one of {choices}')

    async def queue_event(self, queue: QueueSpec) -> str:
        if self.scripted.queue_events:
            return await self.scripted.queue_event(queue)
        while True:
            line = await self._ask(
                f"[in queue {queue.name}, {queue.waited} s on hold] Enter: keep waiting; "
                "bridged (an agent answers) or hangup > "
            )
            if not line:
                return "wait"
            if line in ("bridged", "hangup"):
                return line
            print(f'"{line}" is not a queue event: press Enter, or type bridged or hangup')

    async def agent_session(self, agent: AgentSpec) -> AgentOutcome:
        if self.scripted.agent_outcomes:
            return await self.scripted.agent_session(agent)
        while True:
            line = await self._ask(
                "[voice agent] how does the session end? ended[:HANDOFF JSON], failed or "
                "completed (Enter: ended) > "
            )
            try:
                return parse_agent_outcome(line or "ended")
            except ValueError as exc:
                print(f"{exc}; one of {', '.join(AGENT_STATUSES)}")


def _show_exchange(exchange: Exchange) -> None:
    request = exchange.request
    extra = " ".join(f"{k}={v}" for k, v in request.params.items() if k not in BASE_PARAMS)
    print(
        f"  > {request.method} {request.url} {extra} -> {exchange.reply.status} "
        f"in {exchange.seconds * 1000:.1f} ms",
        file=sys.stderr,
    )


async def _call(args: argparse.Namespace, token: str | None) -> int:
    if args.script is not None:
        caller: Any = ScriptedCaller(
            args.script,
            args.dial or [],
            queue_events=args.queue or (),
            agent_outcomes=args.agent or (),
        )
    else:
        caller = TerminalCaller(args.dial or [], args.queue, args.agent)
    await wait_until_listening(
        args.url,
        args.wait,
        lambda: print(f"waiting for a server at {args.url} ...", file=sys.stderr),
    )
    print(f"[calling {args.url} from {args.from_number}]")
    async with new_session() as session:
        call = EmulatedCall(
            SignedHttp(session, token),
            args.url,
            caller,
            method=args.method,
            from_number=args.from_number,
            to_number=args.to_number,
            status_callback=args.status_callback or None,
            hear=print,
            on_exchange=_show_exchange if args.verbose else None,
            max_requests=args.max_requests,
        )
        if args.verbose:
            print(f"  CallSid {call.call_sid}", file=sys.stderr)
        result = await call.run()
    noun = "request" if len(result.exchanges) == 1 else "requests"
    print(f"[call ended: {result.ended}, {result.seconds} s, {len(result.exchanges)} {noun}]")
    return 0


def run(args: argparse.Namespace) -> int:
    if not args.url.startswith(("http://", "https://")):
        print(
            f'error: "{args.url}" is not a web address: give the flow\'s Voice URL, '
            "e.g. http://127.0.0.1:8000/voice/acme",
            file=sys.stderr,
        )
        return 2
    token = os.environ.get("TWILIO_AUTH_TOKEN") or None
    if token is None:
        print(
            "note: TWILIO_AUTH_TOKEN is not set, so requests are not signed: only a server "
            "started with --insecure accepts them",
            file=sys.stderr,
        )
    # Not asyncio.run(): its Ctrl-C handler only cancels the task and would leave input()
    # waiting for Enter; with Python's own handler Ctrl-C at a prompt hangs the call up.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_call(args, token))
    except EmulatorError as exc:
        sys.stdout.flush()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        loop.close()
