"""Flow tests: run each case of a test file as a scripted call and check what it expects.

Sits on `testfile` (the checked format) and `script` (a call against the real runtime). A
case plays its steps in order; a caller action goes to the call, an expectation checks the
response the caller is hearing now (or the call so far). After the last step the caller hangs
up if the call still runs, and the case-level expectations are checked. The first unmet
expectation fails the case with one message: where it is written, what was expected, and
what the caller actually heard.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..emulator.twiml import describe
from ..errors import FlowError, Problem
from ..loader import FlowLoader, iter_flow_files
from ..model import Flow
from ..wording import quote, suggest
from .coverage import FlowCoverage, collect
from .expectations import EXPECTATIONS
from .holding import AgentEnd, Hold, QueueEnd
from .script import (
    Action,
    ActionError,
    Call,
    CallLog,
    DialResult,
    HangUp,
    Press,
    Recording,
    Silence,
    Speak,
    Turn,
    known_variables,
)
from .testfile import (
    DEFAULT_AT,
    Case,
    FlowTestError,
    Step,
    TestFile,
    find_test_files,
    parse_at,
    read_test_file,
)

SIMULATED_FAULT = "SimulatedFault:"  # how the runtime words a fault asked for by `fail_at`


@dataclass(frozen=True)
class Failure:
    """Why a case failed, where that is written, and what the caller heard at that point."""

    file: str
    line: int
    column: int
    where: str  # `step 4 (expect_dial)`, `expect_path`
    message: str
    heard: tuple[str, ...] | None = None  # transcript lines; None when not about a response
    after: str = ""

    def __str__(self) -> str:
        lines = [f"{self.file}:{self.line}:{self.column}: {self.where}: {self.message}"]
        if self.heard is not None:
            lines.append(f"  the caller heard, {self.after}:")
            lines += [f"    {line}" for line in self.heard] or ["    (nothing)"]
        return "\n".join(lines)


@dataclass(frozen=True)
class CaseResult:
    file: str
    case: Case
    failure: Failure | None
    log: CallLog

    @property
    def passed(self) -> bool:
        return self.failure is None


@dataclass
class FileResult:
    """A test file's outcome: its cases' results, or the problems that kept it from running."""

    file: str
    test_file: TestFile | None = None
    flow: Flow | None = None
    problems: list[Problem] = field(default_factory=list)
    results: list[CaseResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(r.passed for r in self.results)


class FlowTests:
    """Runs test files against flows loaded once each through the normal loader."""

    def __init__(self, loader: FlowLoader) -> None:
        self.loader = loader
        self._flows: dict[Path, Flow | FlowError] = {}

    def flow(self, path: Path) -> Flow:
        key = path.resolve()
        if key not in self._flows:
            try:
                self._flows[key] = self.loader.load_file(path).flow
            except FlowError as exc:
                self._flows[key] = exc
        found = self._flows[key]
        if isinstance(found, FlowError):
            raise found
        return found

    def load(self, path: Path) -> tuple[TestFile, Flow]:
        """Read a test file and its flow; raise `FlowTestError` with every problem found."""
        test_file = read_test_file(path)
        try:
            flow = self.flow(test_file.flow_path)
        except FlowError as exc:
            note = Problem(
                test_file.file,
                test_file.flow_line,
                1,
                f"cannot run these tests: the flow {quote(exc.file)} has errors (listed above): "
                "fix them first (`ivr validate` lists them)",
            )
            raise FlowTestError(test_file.file, [*exc.errors, note]) from None
        problems = check_against(test_file, flow)
        if problems:
            raise FlowTestError(test_file.file, problems)
        return test_file, flow

    def run_file(self, path: Path) -> FileResult:
        try:
            test_file, flow = self.load(path)
        except FlowTestError as exc:
            return FileResult(exc.file, problems=exc.problems)
        results = asyncio.run(_run_all(test_file, flow))
        return FileResult(test_file.file, test_file, flow, results=results)


async def _run_all(test_file: TestFile, flow: Flow) -> list[CaseResult]:
    return [await run_case(test_file, flow, case) for case in test_file.cases]


# ---- checks against the flow -----------------------------------------------------------


def check_against(test_file: TestFile, flow: Flow) -> list[Problem]:
    """Node and variable names a test uses must exist in its flow: catch typos before running."""
    problems: list[Problem] = []
    known_vars = known_variables(flow)

    def report(line: int, column: int, message: str) -> None:
        problems.append(Problem(test_file.file, line, column, message))

    def node(name: str, line: int, column: int, what: str) -> None:
        if name not in flow.nodes:
            report(
                line,
                column,
                f'{what}: {quote(name)} is not a node of flow "{flow.id}"{suggest(name, flow.nodes)}',
            )

    def variable(name: str, line: int, column: int, what: str) -> None:
        if name not in known_vars:
            report(
                line,
                column,
                f'{what}: {quote(name)} is not a variable of flow "{flow.id}"'
                f"{suggest(name, known_vars)}",
            )

    for case in test_file.cases:
        where = f"case {quote(case.name)}"
        fail_pos = test_file.document.position(("cases", case.index, "fail_at"))
        for name in case.fail_at:
            node(name, fail_pos.line, fail_pos.column, f"{where}, fail_at")
        vars_pos = test_file.document.position(("cases", case.index, "vars"))
        for name in case.variables:
            variable(name, vars_pos.line, vars_pos.column, f"{where}, vars")
        for step in (*case.steps, *case.expectations):
            what = f"{where}, {step.label}"
            if step.kind == "expect_node":
                node(step.value, step.line, step.column, what)
            elif step.kind == "expect_path":
                for name in step.value:
                    node(name, step.line, step.column, what)
            elif step.kind == "expect_vars":
                for name in step.value:
                    variable(name, step.line, step.column, what)
    return problems


# ---- running a case --------------------------------------------------------------------


def call_for(flow: Flow, case: Case) -> Call:
    """The scripted call a case describes (caller, time in the flow's timezone, vars, faults)."""
    moment = parse_at(case.at) or parse_at(DEFAULT_AT)
    assert moment is not None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(flow.timezone))
    options: dict[str, Any] = {"variables": case.variables, "fail_at": case.fail_at}
    if case.caller:
        options["caller"] = case.caller
    if case.called:
        options["called"] = case.called
    if case.contact is not None or case.answered_by is not None:
        options["contact"] = case.contact or {}
        options["answered_by"] = case.answered_by
    return Call(flow, at=moment, **options)


async def run_case(test_file: TestFile, flow: Flow, case: Case) -> CaseResult:
    call = call_for(flow, case)
    failure = await _play(test_file.file, case, call)
    return CaseResult(test_file.file, case, failure, CallLog.of(call))


async def _play(file: str, case: Case, call: Call) -> Failure | None:
    def fail(step: Step | None, message: str, turn: Turn | None) -> Failure:
        line, column = (step.line, step.column) if step else (case.line, case.column)
        where = step.label if step else "the start of the call"
        if turn is None:
            return Failure(file, line, column, where, message)
        return Failure(file, line, column, where, message, transcript(turn, call), after(turn))

    turn = await call.start()
    if (error := _unexpected_error(turn)) is not None:
        return fail(None, error, turn)
    for step in case.steps:
        if step.is_action:
            try:
                turn = await call.act(action_of(step))
            except ActionError as exc:
                return fail(step, str(exc), turn)
            if (error := _unexpected_error(turn)) is not None:
                return fail(step, error, turn)
            continue
        message = EXPECTATIONS[step.kind](step.value, call, turn)
        if message is not None:
            return fail(step, message, turn)
    if not call.ended:
        turn = await call.act(HangUp())
    heard_last = next(t for t in reversed(call.turns) if not isinstance(t.action, HangUp))
    for step in case.expectations:
        message = EXPECTATIONS[step.kind](step.value, call, turn)
        if message is not None:
            return fail(step, message, heard_last if step.kind == "expect_end" else None)
    return None


def action_of(step: Step) -> Action:
    makers: dict[str, Callable[[Any], Action]] = {
        "press": Press,
        "say": Speak,
        "silence": lambda _: Silence(),
        "hangup": lambda _: HangUp(),
        "dial_result": DialResult,
        "record": Recording,
        "hold": Hold,
        "queue_result": QueueEnd,
        "agent": lambda value: AgentEnd(*value),
    }
    return makers[step.kind](step.value)


def _unexpected_error(turn: Turn) -> str | None:
    for error in turn.errors:
        if not error.startswith(SIMULATED_FAULT):
            return f"the flow failed here ({error}): the caller heard an apology instead"
    return None


# ---- what the caller heard ---------------------------------------------------------------


def transcript(turn: Turn, call: Call) -> tuple[str, ...]:
    """A turn in words: each verb heard, then what the call waits for (or how it ended)."""
    lines = [describe(verb) for verb in turn.heard]
    if turn.waits_on is not None:
        lines.append(f'{describe(turn.waits_on)}  <- the call waits here, at node "{turn.node}"')
    elif turn.ended and call.turns and call.turns[-1] is turn:
        lines.append(f"(the call ended: {call.end_reason})")
    return tuple(lines)


def after(turn: Turn) -> str:
    action = turn.action
    if action is None:
        return "when the call started"
    if isinstance(action, Press):
        return f'after pressing "{action.keys}"'
    if isinstance(action, Speak):
        return f'after saying "{action.text}"'
    if isinstance(action, Silence):
        return "after staying silent"
    if isinstance(action, DialResult):
        return f'after the dial result "{action.status}"'
    if isinstance(action, Recording):
        return f"after a {action.seconds}-second recording"
    if isinstance(action, Hold):
        return f"after {action.seconds} seconds on hold"
    if isinstance(action, QueueEnd):
        return f'after the wait in the queue ended "{action.result}"'
    if isinstance(action, AgentEnd):
        return f'after the agent session ended "{action.status}"'
    return "after hanging up"


# ---- a whole run -------------------------------------------------------------------------


@dataclass
class TestRun:
    """Every test file found under some paths, run; plus the flows found there, for coverage."""

    files: list[FileResult] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # paths given that do not exist

    @property
    def cases(self) -> list[CaseResult]:
        return [case for file in self.files for case in file.results]

    @property
    def passed(self) -> bool:
        return not self.missing and all(file.passed for file in self.files)

    def coverage(self) -> list[FlowCoverage]:
        return collect(self.flows, (case.log for case in self.cases))


def run_tests(paths: Iterable[str | Path], loader: FlowLoader) -> TestRun:
    """Run the test files under `paths`; flows in the folders given count for coverage too."""
    tests = FlowTests(loader)
    run = TestRun()
    flow_files: dict[Path, None] = {}
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            run.missing.append(str(raw))
        elif path.is_dir():
            flow_files.update(dict.fromkeys(p.resolve() for p in iter_flow_files([path])))
    for test_path in find_test_files(p for p in paths if Path(p).exists()):
        result = tests.run_file(test_path)
        run.files.append(result)
        if result.test_file is not None:
            flow_files.setdefault(result.test_file.flow_path.resolve())
    for flow_path in flow_files:
        with contextlib.suppress(FlowError):  # `ivr validate` reports broken flows
            run.flows.append(tests.flow(flow_path))
    return run


def tests_of(flow_path: Path) -> list[Path]:
    """The test files beside a flow (its folder's `tests/` and `*.test.yaml`) that test it."""
    found = []
    for test_path in find_test_files([flow_path.parent]):
        with contextlib.suppress(FlowTestError):
            if read_test_file(test_path).flow_path.resolve() == flow_path.resolve():
                found.append(test_path)
    return found
