"""The step function: one webhook's worth of a call, with no I/O.

`start_call` and `step` take a compiled flow, the call's session and what happened, and
return the TwiML to answer with, the new session and the messages to queue. Nodes that do not
wait chain into one response; the response ends at a node that waits or at the end of the
call. Whatever goes wrong inside a node becomes an apology and the flow's `on_error` path,
never an exception for the web layer; so does async node code that overruns its time.

A `subflow` node runs another flow: the session keeps a stack of frames (each pins the version
of the flow it runs), the current flow is the top frame's, and a `return` node goes back to the
caller. Other flows come from `Services.flows`, so the step itself does no I/O.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ..errors import StepError
from ..model import Flow
from ..node import End, Goto, Node, Outcome, Return, RunSubflow, SubflowResult, Wait
from ..outbound.settings import start_node
from .context import StepContext
from .effects import OutboundMessage
from .events import Event, EventKind
from .services import Services
from .session import CallInfo, Session
from .twiml import render, told

# A response may chain at most this many nodes; more means a loop the validator could not see
# (for example through a plugin's dynamic target).
MAX_CHAIN = 100
MAX_PATH = 1000
# Subflows may nest this deep; validation refuses flows that call each other in a circle.
MAX_DEPTH = 10

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
class Taken:
    """A transition the call took in this step, for flow tests and coverage.

    `node` is the node it left (None when the call entered a flow: "start", or its on_error
    path: "error"); `via` is the node's label for it, None when a (plugin) node did not say;
    `target` is where the call went (the node itself for a re-prompt, None: the end); `flow`
    is the flow these nodes belong to (a subflow's own id inside it).
    """

    node: str | None
    via: str | None
    target: str | None
    flow: str | None = None


@dataclass(frozen=True)
class StepResult:
    twiml: str
    session: Session
    messages: list[OutboundMessage] = field(default_factory=list)
    error: str | None = None  # what failed, for the log; the caller heard an apology
    replayed: bool = False
    taken: list[Taken] = field(default_factory=list)
    told: list[str] = field(default_factory=list)  # what the caller heard, for the call history
    failed_node: str | None = None  # the node whose failure `error` reports
    secret_input: bool = False  # the answer went to a node whose input is secret (`Node`)


def new_session(
    flow: Flow, params: Mapping[str, str], contact: Mapping[str, Any] | None = None
) -> Session:
    return Session(
        call_sid=params.get("CallSid", ""),
        flow_id=flow.id,
        flow_version=flow.version,
        call=dict(CallInfo.from_params(params).data),
        vars=dict(flow.vars),
        language=flow.language,
        voice=flow.voice,
        contact=dict(contact or {}),
    )


@dataclass(frozen=True)
class _Step:
    """What one step runs with: the call's root flow, the clock, URLs and services.

    `taken` collects the transitions of the response being built. `deadline` (event-loop
    time) is when the answer's node code must be done: one budget for the whole chain.
    """

    root: Flow
    now: datetime | None
    url_prefix: str
    services: Services
    taken: list[Taken] = field(default_factory=list)
    deadline: float = 0.0

    def __post_init__(self) -> None:
        if not self.deadline:
            budget = self.services.answer_budget
            object.__setattr__(self, "deadline", asyncio.get_running_loop().time() + budget)


async def start_call(
    flow: Flow,
    params: Mapping[str, str],
    *,
    now: datetime | None = None,
    url_prefix: str = "",
    services: Services | None = None,
    contact: Mapping[str, Any] | None = None,
) -> StepResult:
    """The incoming-call webhook: a new session, run from the flow's start node.

    An outbound call brings its `contact` fields, and starts at the flow's machine node
    when Twilio's answering-machine detection says a machine answered.
    """
    session = new_session(flow, params, contact)
    run = _Step(flow, now, url_prefix, services or Services())
    first = start_node(flow, params.get("AnsweredBy", ""))
    via = "start" if first == flow.start else "machine"
    return await _run(run, flow, session, None, lambda ctx: Goto(first, via=via))


async def step(
    flow: Flow,
    session: Session,
    event: Event,
    *,
    now: datetime | None = None,
    url_prefix: str = "",
    services: Services | None = None,
) -> StepResult:
    """The caller answered (or did not) the node the session waits at.

    `flow` is the flow the call started with (the session's pinned version); when the call is
    inside a subflow, the subflow's pinned version comes from `services.flows`.
    """
    if session.ended or session.node is None:
        return replay(session)
    run = _Step(flow, now, url_prefix, services or Services())
    current = await _current_flow(run, session)
    node = current.nodes.get(session.node) if current is not None else None
    if current is None or node is None:
        top = session.stack[-1] if session.stack else {"flow": flow.id, "version": flow.version}
        where = f"flow {top['flow']!r} version {top['version']}"
        problem = (
            f"{where} is not available to this runtime (Services.flows)"
            if current is None
            else f"node {session.node!r} is not in {where}"
        )
        return await _fail(run, session, StepError(problem), session.node)
    if event.kind is EventKind.REDIRECT:
        return await _run(run, current, session, node, node.enter)
    result = await _run(run, current, session, node, lambda ctx: node.resume(ctx, event))
    return replace(result, secret_input=True) if node.secret_input else result


async def recover(
    flow: Flow,
    params: Mapping[str, str],
    reason: str,
    *,
    now: datetime | None = None,
    url_prefix: str = "",
    services: Services | None = None,
) -> StepResult:
    """A request for a call the engine has no session for: apologise, then `on_error` or hang up."""
    run = _Step(flow, now, url_prefix, services or Services())
    return await _fail(run, new_session(flow, params), StepError(reason), None)


async def run_after_call(
    flow: Flow,
    session: Session,
    *,
    now: datetime | None = None,
    url_prefix: str = "",
    services: Services | None = None,
) -> StepResult:
    """The flow's `on_hangup` chain, run once the call has ended: no caller, so no TwiML.

    It sees the call's variables and its outcome (`call.status`, `call.duration`) and chains
    nodes exactly as a response does; the loader allows only nodes that need no caller (set,
    branch, hours, message) on this path. A node that fails stops the chain: the error is
    reported in `error` and nothing it queued is kept, as half a follow-up is worse than none.
    """
    if not flow.on_hangup or flow.on_hangup not in flow.nodes:
        return StepResult("", session)
    run = _Step(flow, now, url_prefix, services or Services())
    ctx = _context(run, flow, session, stack=[])
    path = list(session.path)
    try:
        await _chain(run, ctx, Goto(flow.on_hangup, via="hangup"), path, None)
    except Exception as exc:
        where = ctx.node.id if ctx.node else flow.on_hangup
        error = f"{type(exc).__name__}: {exc} (call {session.call_sid}, after-call node {where!r})"
        return StepResult("", session, [], error)
    new = session.evolve(vars=ctx.vars, step=ctx.step, path=path[-MAX_PATH:])
    return StepResult("", new, ctx.messages, taken=list(run.taken))


async def aside(
    flow: Flow,
    session: Session,
    event: Event,
    *,
    now: datetime | None = None,
    url_prefix: str = "",
    services: Services | None = None,
) -> StepResult:
    """A request the waiting node answers without moving the call on (`Node.aside`).

    The session keeps its node, step and last answer; only the node's variables may change.
    Whatever goes wrong answers `<Leave/>`: the caller leaves the queue and Twilio requests
    the node's action, which answers the call properly (an error there takes `on_error`).
    """
    if session.ended or session.node is None:
        return StepResult(_LEAVE_TWIML, session, replayed=True)
    run = _Step(flow, now, url_prefix, services or Services())
    current = await _current_flow(run, session)
    node = current.nodes.get(session.node) if current is not None else None
    if current is None or node is None:
        return StepResult(_LEAVE_TWIML, session, error=f"node {session.node!r} is gone")
    ctx = _context(run, current, session)
    ctx.step = session.step  # answers still belong to the step the call waits at
    ctx.node = node
    try:
        result = node.aside(ctx, event)
        if inspect.isawaitable(result):
            async with asyncio.timeout(run.services.node_timeout):
                await result
    except Exception as exc:  # the caller keeps waiting; the log says why
        error = f"{type(exc).__name__}: {exc} (call {session.call_sid}, node {node.id!r}, aside)"
        return StepResult(_LEAVE_TWIML, session, error=error)
    return StepResult(render(ctx.response), session.evolve(vars=ctx.vars))


def replay(session: Session) -> StepResult:
    """Answer a repeated or stale request with the TwiML the caller is already in."""
    return StepResult(session.last_twiml or _hangup_twiml(), session, replayed=True)


async def _current_flow(run: _Step, session: Session) -> Flow | None:
    """The flow the call is in: the root, or the pinned version of the innermost subflow."""
    if not session.stack:
        return run.root
    top = session.stack[-1]
    return await _pinned(run, top["flow"], top["version"])


async def _pinned(run: _Step, flow_id: str, version: str) -> Flow | None:
    if flow_id == run.root.id and version == run.root.version:
        return run.root
    if run.services.flows is None:
        return None
    return await run.services.flows.version(flow_id, version)


async def _run(
    run: _Step,
    flow: Flow,
    session: Session,
    node: Node | None,
    first: Callable[[StepContext], Outcome | Awaitable[Outcome]],
) -> StepResult:
    ctx = _context(run, flow, session)
    path = list(session.path)
    ctx.node = node
    try:
        outcome = await _settle(first(ctx), run)
        final = await _chain(run, ctx, outcome, path, node)
    except Exception as exc:  # a failing node must not fail the caller
        return await _fail(run, session, exc, ctx.node.id if ctx.node else session.node)
    return _result(run, session, ctx, path, final)


async def _chain(
    run: _Step, ctx: StepContext, outcome: Outcome, path: list[str], node: Node | None
) -> tuple[Outcome, Node | None]:
    visits = 0
    while isinstance(outcome, Goto | RunSubflow | Return):
        visits += 1
        if visits > MAX_CHAIN:
            raise StepError(
                f"more than {MAX_CHAIN} nodes in one response: the flow loops without waiting"
            )
        if isinstance(outcome, RunSubflow):
            if node is None:
                raise StepError("a subflow was called from outside a node")
            outcome = await _enter_subflow(run, ctx, outcome, node)
            node = None  # the call now enters the subflow at its start
            continue
        if isinstance(outcome, Return):
            if not ctx.stack:  # a flow run on its own: returning from it ends the call
                ctx.response.hangup()
                return End("end of flow"), node
            node, result = await _leave_subflow(run, ctx)
            ctx.node = node
            outcome = await _settle(node.returned(ctx, result), run)
            continue
        run.taken.append(Taken(node.id if node else None, outcome.via, outcome.target, ctx.flow.id))
        node = ctx.flow.nodes[outcome.target]
        ctx.attempts.pop(node.id, None)  # arriving afresh: attempts start again
        path.append(f"{ctx.flow.id}:{node.id}" if ctx.stack else node.id)
        ctx.node = node
        outcome = await _settle(node.enter(ctx), run)
    if node is not None and outcome.via is not None:  # a re-prompt, or one way of ending
        target = node.id if isinstance(outcome, Wait) else None
        run.taken.append(Taken(node.id, outcome.via, target, ctx.flow.id))
    return outcome, node


async def _enter_subflow(run: _Step, ctx: StepContext, call: RunSubflow, caller: Node) -> Outcome:
    """Push a frame pinning the subflow's current version; its variables replace the caller's."""
    if len(ctx.stack) >= MAX_DEPTH:
        raise StepError(f"subflows nested more than {MAX_DEPTH} deep: flows call each other")
    callee = run.services.flows.current(call.flow) if run.services.flows else None
    if callee is None:
        raise StepError(f"subflow {call.flow!r} is not being served")
    frame = {"flow": callee.id, "version": callee.version, "caller": caller.id, "vars": ctx.vars}
    ctx.stack.append(frame)
    ctx.flow = callee
    ctx.vars = {**callee.vars, **call.vars}
    ctx.attempts = {}
    return Goto(callee.start, via="start")


async def _leave_subflow(run: _Step, ctx: StepContext) -> tuple[Node, SubflowResult]:
    """Pop the innermost frame; the caller's flow, variables and calling node come back."""
    result = SubflowResult(ctx.flow.id, dict(ctx.vars), ctx.scope())
    frame = ctx.stack.pop()
    if ctx.stack:
        parent = await _pinned(run, ctx.stack[-1]["flow"], ctx.stack[-1]["version"])
    else:
        parent = run.root
    caller = parent.nodes.get(frame["caller"]) if parent is not None else None
    if parent is None or caller is None:
        raise StepError(f"the flow that called subflow {result.flow_id!r} is gone")
    ctx.flow = parent
    ctx.vars = dict(frame["vars"])
    ctx.attempts = {}
    return caller, result


async def _settle(outcome: Outcome | Awaitable[Outcome], run: _Step) -> Outcome:
    """Node code may be plain or async (a plugin waiting on an HTTP API), within a time limit.

    An overrun raises `TimeoutError` like any failure (apology, then `on_error`); awaiting
    never blocks other calls, which run on the same event loop meanwhile.
    """
    if not inspect.isawaitable(outcome):
        return outcome
    services = run.services
    node_deadline = asyncio.get_running_loop().time() + services.node_timeout
    try:
        async with asyncio.timeout_at(min(node_deadline, run.deadline)):
            return await outcome
    except TimeoutError:
        if node_deadline <= run.deadline:
            problem = f"node code took longer than {services.node_timeout:g} s and was stopped"
        else:
            problem = (
                f"the answer's node code took longer than {services.answer_budget:g} s in all "
                "and was stopped (Twilio waits 15 s for an answer)"
            )
        raise StepError(problem) from None


def _result(
    run: _Step,
    session: Session,
    ctx: StepContext,
    path: list[str],
    final: tuple[Outcome, Node | None],
    error: str | None = None,
    failed_node: str | None = None,
) -> StepResult:
    outcome, node = final
    ended = isinstance(outcome, End)
    twiml = render(ctx.response)
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
        stack=[] if ended else ctx.stack,
    )
    return StepResult(
        twiml,
        new,
        ctx.messages,
        error,
        taken=list(run.taken),
        told=told(ctx.response),
        failed_node=failed_node,
    )


def _context(
    run: _Step,
    flow: Flow,
    session: Session,
    *,
    variables: dict[str, Any] | None = None,
    stack: list[dict[str, Any]] | None = None,
) -> StepContext:
    return StepContext(
        flow,
        call=session.call,
        variables=dict(session.vars if variables is None else variables),
        attempts=dict(session.attempts),
        language=session.language,
        voice=session.voice,
        now=run.now or datetime.now(UTC),
        step=session.step + 1,
        url_prefix=run.url_prefix,
        services=run.services,
        stack=list(session.stack if stack is None else stack),
        contact=session.contact,
    )


async def _levels(
    run: _Step, session: Session
) -> list[tuple[Flow, list[dict[str, Any]], dict[str, Any]]]:
    """Each flow the call is in, innermost first, with the stack and variables it had there."""
    levels: list[tuple[Flow, list[dict[str, Any]], dict[str, Any]]] = []
    variables = dict(session.vars)
    for depth in range(len(session.stack), -1, -1):
        stack = list(session.stack[:depth])
        flow = await _pinned(run, stack[-1]["flow"], stack[-1]["version"]) if stack else run.root
        if flow is not None:
            levels.append((flow, stack, variables))
        if depth:
            variables = dict(session.stack[depth - 1]["vars"])
    return levels


async def _fail(
    run: _Step, session: Session, exc: BaseException, node_id: str | None
) -> StepResult:
    """Apologise, then continue at the `on_error` node of the innermost flow that has one.

    Inside a subflow without its own `on_error`, the call leaves the subflow for the nearest
    caller that has one. Without any, or when that path fails too, the call hangs up.
    """
    error = f"{type(exc).__name__}: {exc} (call {session.call_sid}, node {node_id!r})"
    # The failed attempt's time is spent: the error path gets a budget of its own.
    budget = run.services.error_budget
    run = replace(run, deadline=asyncio.get_running_loop().time() + budget)
    for depth, (flow, stack, variables) in enumerate(await _levels(run, session)):
        target = flow.on_error
        if not target or target not in flow.nodes or (depth == 0 and node_id == target):
            continue
        ctx = _context(run, flow, session, variables=variables, stack=stack)
        _apologise(ctx)
        path = list(session.path)
        run.taken.clear()  # what the failed attempt took did not happen for the caller
        try:
            final = await _chain(run, ctx, Goto(target, via="error"), path, None)
            return _result(run, session, ctx, path, final, error, node_id)
        except Exception as second:
            error += f"; the on_error path failed too: {type(second).__name__}: {second}"
            ctx = _context(run, run.root, session, stack=[])
            ctx.response.say(apology(ctx.language), language=ctx.language)
            return _hang_up(run, session, ctx, error, node_id)
    ctx = _context(run, run.root, session, stack=[])
    _apologise(ctx)
    return _hang_up(run, session, ctx, error, node_id)


def _apologise(ctx: StepContext) -> None:
    voice = {"voice": ctx.voice} if ctx.voice else {}
    ctx.response.say(apology(ctx.language), language=ctx.language, **voice)


def _hang_up(
    run: _Step, session: Session, ctx: StepContext, error: str, node_id: str | None
) -> StepResult:
    ctx.messages.clear()
    ctx.response.hangup()
    run.taken.clear()
    final = (End("error"), None)
    return _result(run, session, ctx, list(session.path), final, error, node_id)


# The answer to a request while waiting that cannot be served: leave the queue, so Twilio
# goes on with the node's action, where the call is answered properly.
_LEAVE_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Leave /></Response>'


def _hangup_twiml() -> str:
    return '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'
