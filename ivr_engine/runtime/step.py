"""The step function: one webhook's worth of a call, with no I/O.

`start_call` and `step` take a compiled flow, the call's session and what happened, and
return the TwiML to answer with, the new session and the messages to queue. Nodes that do not
wait chain into one response; the response ends at a node that waits or at the end of the
call. Whatever goes wrong inside a node becomes an apology and the flow's `on_error` path,
never an exception for the web layer.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..errors import StepError
from ..model import Flow
from ..node import End, Goto, Node, Outcome
from .context import StepContext
from .effects import OutboundMessage
from .events import Event, EventKind
from .session import CallInfo, Session

# A response may chain at most this many nodes; more means a loop the validator could not see
# (for example through a plugin's dynamic target).
MAX_CHAIN = 100
MAX_PATH = 1000

APOLOGIES = {
    "en": "We're sorry, something went wrong.",
    "es": "Lo sentimos, se produjo un error.",
    "fr": "Nous sommes désolés, une erreur s'est produite.",
    "de": "Es tut uns leid, es ist ein Fehler aufgetreten.",
    "pt": "Desculpe, ocorreu um erro.",
    "it": "Ci scusiamo, si è verificato un errore.",
}


def apology(language: str) -> str:
    return APOLOGIES.get(language.split("-")[0].lower(), APOLOGIES["en"])


@dataclass(frozen=True)
class StepResult:
    twiml: str
    session: Session
    messages: list[OutboundMessage] = field(default_factory=list)
    error: str | None = None  # what failed, for the log; the caller heard an apology
    replayed: bool = False


def new_session(flow: Flow, params: Mapping[str, str]) -> Session:
    return Session(
        call_sid=params.get("CallSid", ""),
        flow_id=flow.id,
        flow_version=flow.version,
        call=dict(CallInfo.from_params(params).data),
        vars=dict(flow.vars),
        language=flow.language,
        voice=flow.voice,
    )


async def start_call(
    flow: Flow, params: Mapping[str, str], *, now: datetime | None = None, url_prefix: str = ""
) -> StepResult:
    """The incoming-call webhook: a new session, run from the flow's start node."""
    session = new_session(flow, params)
    return await _run(flow, session, None, lambda ctx: Goto(flow.start), now, url_prefix)


async def step(
    flow: Flow, session: Session, event: Event, *, now: datetime | None = None, url_prefix: str = ""
) -> StepResult:
    """The caller answered (or did not) the node the session waits at."""
    if session.ended or session.node is None:
        return replay(session)
    node = flow.nodes.get(session.node)
    if node is None:
        return await _fail(
            flow,
            session,
            StepError(f"node {session.node!r} is not in flow version {flow.version}"),
            session.node,
            now,
            url_prefix,
        )
    if event.kind is EventKind.REDIRECT:
        return await _run(flow, session, node, node.enter, now, url_prefix)
    return await _run(flow, session, node, lambda ctx: node.resume(ctx, event), now, url_prefix)


async def run_after_call(
    flow: Flow, session: Session, *, now: datetime | None = None
) -> StepResult:
    """The flow's `on_hangup` chain, run once the call has ended: no caller, so no TwiML.

    It sees the call's variables and its outcome (`call.status`, `call.duration`) and chains
    nodes exactly as a response does; the loader allows only nodes that need no caller (set,
    branch, hours, message) on this path. A node that fails stops the chain: the error is
    reported in `error` and nothing it queued is kept, as half a follow-up is worse than none.
    """
    if not flow.on_hangup or flow.on_hangup not in flow.nodes:
        return StepResult("", session)
    ctx = _context(flow, session, now, "")
    path = list(session.path)
    try:
        await _chain(flow, ctx, Goto(flow.on_hangup), path, None)
    except Exception as exc:
        where = ctx.node.id if ctx.node else flow.on_hangup
        error = f"{type(exc).__name__}: {exc} (call {session.call_sid}, after-call node {where!r})"
        return StepResult("", session, [], error)
    new = session.evolve(vars=ctx.vars, step=ctx.step, path=path[-MAX_PATH:])
    return StepResult("", new, ctx.messages)


def replay(session: Session) -> StepResult:
    """Answer a repeated or stale request with the TwiML the caller is already in."""
    return StepResult(session.last_twiml or _hangup_twiml(), session, replayed=True)


async def _run(
    flow: Flow,
    session: Session,
    node: Node | None,
    first: Callable[[StepContext], Outcome | Awaitable[Outcome]],
    now: datetime | None,
    url_prefix: str,
) -> StepResult:
    ctx = _context(flow, session, now, url_prefix)
    path = list(session.path)
    ctx.node = node
    try:
        outcome = await _settle(first(ctx))
        final = await _chain(flow, ctx, outcome, path, node)
    except Exception as exc:  # a failing node must not fail the caller
        return await _fail(
            flow, session, exc, ctx.node.id if ctx.node else session.node, now, url_prefix
        )
    return _result(session, ctx, path, final)


async def _chain(
    flow: Flow, ctx: StepContext, outcome: Outcome, path: list[str], node: Node | None
) -> tuple[Outcome, Node | None]:
    visits = 0
    while isinstance(outcome, Goto):
        visits += 1
        if visits > MAX_CHAIN:
            raise StepError(
                f"more than {MAX_CHAIN} nodes in one response: the flow loops without waiting"
            )
        node = flow.nodes[outcome.target]
        ctx.attempts.pop(node.id, None)  # arriving afresh: attempts start again
        path.append(node.id)
        ctx.node = node
        outcome = await _settle(node.enter(ctx))
    return outcome, node


async def _settle(outcome: Outcome | Awaitable[Outcome]) -> Outcome:
    """Node code may be plain or async (a plugin waiting on an HTTP API)."""
    if inspect.isawaitable(outcome):
        return await outcome
    return outcome


def _result(
    session: Session,
    ctx: StepContext,
    path: list[str],
    final: tuple[Outcome, Node | None],
    error: str | None = None,
) -> StepResult:
    outcome, node = final
    ended = isinstance(outcome, End)
    twiml = str(ctx.response)
    new = session.evolve(
        vars=ctx.vars,
        attempts=ctx.attempts,
        language=ctx.language,
        voice=ctx.voice,
        node=None if ended or node is None else node.id,
        step=ctx.step,
        path=path[-MAX_PATH:],
        last_twiml=twiml,
        ended=ended,
        end_reason=outcome.reason if isinstance(outcome, End) else "",
    )
    return StepResult(twiml, new, ctx.messages, error)


def _context(flow: Flow, session: Session, now: datetime | None, url_prefix: str) -> StepContext:
    return StepContext(
        flow,
        call=session.call,
        variables=dict(session.vars),
        attempts=dict(session.attempts),
        language=session.language,
        voice=session.voice,
        now=now or datetime.now(UTC),
        step=session.step + 1,
        url_prefix=url_prefix,
    )


async def _fail(
    flow: Flow,
    session: Session,
    exc: BaseException,
    node_id: str | None,
    now: datetime | None,
    url_prefix: str,
) -> StepResult:
    """Apologise, then continue at the flow's `on_error` node, else hang up."""
    error = f"{type(exc).__name__}: {exc} (call {session.call_sid}, node {node_id!r})"
    ctx = _context(flow, session, now, url_prefix)
    ctx.response.say(
        apology(ctx.language), language=ctx.language, **({"voice": ctx.voice} if ctx.voice else {})
    )
    path = list(session.path)
    if flow.on_error and flow.on_error in flow.nodes and node_id != flow.on_error:
        marker = len(path)
        try:
            final = await _chain(flow, ctx, Goto(flow.on_error), path, None)
            return _result(session, ctx, path, final, error)
        except Exception as second:
            error += f"; the on_error path failed too: {type(second).__name__}: {second}"
            del path[marker:]
            ctx = _context(flow, session, now, url_prefix)
            ctx.response.say(apology(ctx.language), language=ctx.language)
    ctx.messages.clear()
    ctx.response.hangup()
    return _result(session, ctx, path, (End("error"), None), error)


def _hangup_twiml() -> str:
    return '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'
