"""Flow test files: YAML text -> checked `TestFile` of cases and steps, every problem at file:line.

Flow tests are written by business users, so their format is checked as carefully as flows
are: the file is read by the same position-keeping reader (`ivr_engine.reader`, no YAML 1.1
traps), and every mistake becomes one `Problem` naming the file, line, column, case and step,
and what to write instead. Running the cases is `flowtest`'s job.

A test file is `flows/tests/<name>.yaml` (any `tests` folder beside flow files) or
`<name>.test.yaml` anywhere:

    flow: acme
    cases:
      - name: caller presses 1 and reaches sales
        steps:
          - press: "1"
          - expect_dial: "+15550100"
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import FlowError, Problem
from ..links import FLOW_SUFFIXES, TEST_SUFFIXES
from ..reader import Document, Position, read_yaml
from ..wording import choices, quote, suggest
from .steps import CHECKS, Bad

TESTS_FOLDER = "tests"

# What the caller does at a step, and what a step can check.
ACTIONS = (
    *("press", "say", "silence", "dial_result", "record", "hangup"),
    *("hold", "queue_result", "agent"),
)
BARE_ACTIONS = ("silence", "hangup")  # may be written as `- silence`
STEP_EXPECTATIONS = (
    "expect_say",
    "expect_not_say",
    "expect_play",
    "expect_dial",
    "expect_record",
    "expect_node",
    "expect_path",
    "expect_vars",
    "expect_messages",
    "expect_end",
)
# Checked after the last step (the caller hangs up first if the call still runs).
CASE_EXPECTATIONS = ("expect_path", "expect_vars", "expect_messages", "expect_end")
# per case, or for every case at the top of the file; `contact` or `answered_by` make the
# case an outbound call (placed by us to `to`, answered by a person or a machine)
SETTINGS = ("from", "to", "at", "vars", "contact", "answered_by")
CASE_FIELDS = ("name", *SETTINGS, "fail_at", "steps", *CASE_EXPECTATIONS)
FILE_FIELDS = ("flow", *SETTINGS, "cases")
ANSWERED_BY = (
    "human",
    "machine_start",
    "machine_end_beep",
    "machine_end_silence",
    "machine_end_other",
    "fax",
    "unknown",
)
DEFAULT_AT = "2026-03-02 12:00"  # a Monday noon, so tests never depend on today's date
AT_FORMAT = 'write "YYYY-MM-DD HH:MM", e.g. "2026-03-02 10:00"'


class FlowTestError(FlowError):
    """A flow test file cannot be used; `problems` lists every problem found in it at once."""


@dataclass(frozen=True)
class Step:
    """One line of a case: a caller action or an expectation, where it was written."""

    number: int  # 1-based, as the author counts; 0 for a case-level expectation
    kind: str
    value: Any
    line: int
    column: int

    @property
    def is_action(self) -> bool:
        return self.kind in ACTIONS

    @property
    def label(self) -> str:
        return f"step {self.number} ({self.kind})" if self.number else self.kind


@dataclass(frozen=True)
class Case:
    index: int  # position in the file's list of cases, from 0
    name: str
    line: int
    column: int
    caller: str | None
    called: str | None
    at: str
    variables: Mapping[str, Any]
    fail_at: tuple[str, ...]
    steps: tuple[Step, ...]
    expectations: tuple[Step, ...]  # case-level expect_*, numbered after the steps
    contact: Mapping[str, Any] | None = None  # set: an outbound call with these contact fields
    answered_by: str | None = None  # Twilio's AnsweredBy for an outbound call


@dataclass(frozen=True)
class TestFile:
    file: str  # as shown to the author
    path: Path
    flow_path: Path
    flow_line: int
    cases: tuple[Case, ...]
    document: Document = field(repr=False)


# ---- finding test files ------------------------------------------------------------


def is_test_file(path: Path) -> bool:
    """`*.test.yaml`, or a YAML file in a `tests` folder that sits beside flow files."""
    if path.suffix not in FLOW_SUFFIXES:
        return False
    if path.name.endswith(TEST_SUFFIXES):
        return True
    if path.parent.name != TESTS_FOLDER:
        return False
    return any(is_flow_file(p) for p in path.parent.parent.iterdir())


def is_flow_file(path: Path) -> bool:
    return path.suffix in FLOW_SUFFIXES and not path.name.endswith(TEST_SUFFIXES) and path.is_file()


def find_test_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Test files named by `paths`: files as given, folders searched through."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and is_test_file(p))
        else:
            yield path


# ---- reading -----------------------------------------------------------------------


def read_test_file(path: Path, shown: str | None = None) -> TestFile:
    """Read and check a test file's format; raise `FlowTestError` listing every problem."""
    shown = shown or _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise FlowTestError(
            shown, [Problem(shown, 1, 1, f"cannot read this file: {why}")]
        ) from None
    return read_test_text(text, path, shown)


def read_test_text(text: str, path: Path, shown: str) -> TestFile:
    """Check the text of the test file at `path` (as an editor holds it, maybe unsaved)."""
    try:
        doc = read_yaml(text, shown)
    except FlowError as exc:
        raise FlowTestError(shown, exc.problems) from None
    return _Reader(doc, path).read()


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class _Reader:
    def __init__(self, doc: Document, path: Path) -> None:
        self.doc = doc
        self.path = path
        self.problems: list[Problem] = []

    def report(self, path: tuple[Any, ...], message: str, *, key: bool = False) -> None:
        pos = self.doc.position(path, key=key)
        self.problems.append(Problem(self.doc.file, pos.line, pos.column, message))

    def at(self, path: tuple[Any, ...]) -> Position:
        return self.doc.position(path)

    def read(self) -> TestFile:
        data = self.doc.data
        if not isinstance(data, dict):
            self.report((), "a flow test file must be a map with `flow:` and `cases:`")
            raise FlowTestError(self.doc.file, self.problems)
        self._unknown_keys((), data, FILE_FIELDS, "the test file")
        flow_path = self._flow(data.get("flow"))
        defaults = self._settings((), data)
        cases = self._cases(data.get("cases"), defaults)
        if self.problems or flow_path is None:
            raise FlowTestError(self.doc.file, self.problems)
        return TestFile(
            self.doc.file, self.path, flow_path, self.at(("flow",)).line, cases, self.doc
        )

    # ---- top level -----------------------------------------------------------------

    def _flow(self, value: Any) -> Path | None:
        if value is None:
            self.report((), "the test file has no `flow:`: add `flow: <flow id>`, e.g. flow: acme")
            return None
        if not isinstance(value, str) or not value:
            self.report(("flow",), '"flow" must be the id of the flow under test, e.g. flow: acme')
            return None
        candidates = flow_candidates(self.path, value)
        for candidate in candidates:
            if is_flow_file(candidate):
                return candidate
        near = [p.stem for c in candidates if c.parent.is_dir() for p in c.parent.iterdir()]
        looked = " and ".join(_display(c) for c in candidates)
        self.report(
            ("flow",),
            f'"flow": there is no flow {quote(value)}: looked for {looked}{suggest(value, near)}',
        )
        return None

    def _cases(self, value: Any, defaults: dict[str, Any]) -> tuple[Case, ...]:
        if value is None:
            self.report((), "the test file has no `cases:`: add a list of cases, each with a name")
            return ()
        if not isinstance(value, list) or not value:
            self.report(("cases",), '"cases" must be a list of cases, each starting with "- name:"')
            return ()
        cases = []
        names: dict[str, int] = {}
        for i, raw in enumerate(value):
            case = self._case(i, raw, defaults)
            if case is None:
                continue
            if case.name in names:
                self.report(
                    ("cases", i, "name"),
                    f"case {quote(case.name)}: another case on line {names[case.name]} has the same "
                    "name: give each case its own name",
                )
            names.setdefault(case.name, case.line)
            cases.append(case)
        return tuple(cases)

    def _case(self, i: int, raw: Any, defaults: dict[str, Any]) -> Case | None:
        path: tuple[Any, ...] = ("cases", i)
        if not isinstance(raw, dict):
            self.report(path, f"case {i + 1} must be a map starting with `name:`")
            return None
        name = raw.get("name")
        if not isinstance(name, str | int) or not str(name).strip():
            self.report(path, f"case {i + 1} has no name: add `name:` saying what it checks")
            name = f"case {i + 1}"
        name = str(name)
        where = f"case {quote(name)}"
        self._unknown_keys(path, raw, CASE_FIELDS, where)
        settings = {**defaults, **self._settings(path, raw)}
        if "vars" in raw and "vars" in defaults:
            settings["vars"] = {**defaults["vars"], **settings["vars"]}
        steps = self._steps(path, raw.get("steps"), where)
        expectations = tuple(
            step
            for kind in CASE_EXPECTATIONS
            if kind in raw
            and (step := self._step_value(0, kind, raw[kind], (*path, kind), where)) is not None
        )
        pos = self.at(path)
        return Case(
            i,
            name,
            pos.line,
            pos.column,
            settings.get("from"),
            settings.get("to"),
            settings.get("at", DEFAULT_AT),
            settings.get("vars", {}),
            self._fail_at(path, raw.get("fail_at"), where),
            steps,
            expectations,
            settings.get("contact"),
            settings.get("answered_by"),
        )

    def _settings(self, path: tuple[Any, ...], raw: Mapping[str, Any]) -> dict[str, Any]:
        """`from`, `to`, `at` and `vars` of a case, or of every case at the top of the file."""
        where = f"case {quote(raw.get('name'))}: " if path else ""
        found: dict[str, Any] = {}
        for name in ("from", "to"):
            if name in raw:
                value = raw[name]
                if isinstance(value, str) and value:
                    found[name] = value
                else:
                    self.report(
                        (*path, name),
                        f'{where}"{name}" must be a phone number such as "+15551234567"',
                    )
        if "at" in raw:
            value = raw["at"]
            if isinstance(value, str) and parse_at(value) is not None:
                found["at"] = value
            else:
                self.report(
                    (*path, "at"),
                    f'{where}"at": {quote(value)} is not a date and time: {AT_FORMAT}',
                )
        if "contact" in raw:
            value = raw["contact"]
            if isinstance(value, dict):
                found["contact"] = dict(value)
            else:
                self.report(
                    (*path, "contact"),
                    f'{where}"contact" must be a map of contact field: value, e.g. '
                    'contact: {name: "Ada"}',
                )
        if "answered_by" in raw:
            value = raw["answered_by"]
            if value in ANSWERED_BY:
                found["answered_by"] = value
            else:
                self.report(
                    (*path, "answered_by"),
                    f'{where}"answered_by": {quote(value)} is not one of Twilio\'s answers: '
                    f"{', '.join(ANSWERED_BY)}",
                )
        if "vars" in raw:
            value = raw["vars"]
            if isinstance(value, dict):
                found["vars"] = dict(value)
            else:
                self.report(
                    (*path, "vars"),
                    f'{where}"vars" must be a map of variable: value, e.g. vars: {{account: "1234"}}',
                )
        return found

    def _fail_at(self, path: tuple[Any, ...], value: Any, where: str) -> tuple[str, ...]:
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            self.report(
                (*path, "fail_at"),
                f'{where}: "fail_at" must be a node id or a list of node ids, e.g. fail_at: [sales]',
            )
            return ()
        return tuple(items)

    def _unknown_keys(
        self, path: tuple[Any, ...], raw: Mapping[str, Any], allowed: tuple[str, ...], where: str
    ) -> None:
        for key in raw:
            if key in allowed:
                continue
            hint = ""
            if path and key in ACTIONS + STEP_EXPECTATIONS:
                hint = " (steps go in the list under `steps:`)"
            self.report(
                (*path, key),
                f"{where}: {quote(key)} is not a field here{suggest(key, allowed)}{hint}; "
                f"allowed fields are {choices(allowed)}",
                key=True,
            )

    # ---- steps ---------------------------------------------------------------------

    def _steps(self, path: tuple[Any, ...], value: Any, where: str) -> tuple[Step, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.report(
                (*path, "steps"),
                f'{where}: "steps" must be a list, each step on its own line starting with "-"',
            )
            return ()
        steps = []
        for j, raw in enumerate(value):
            step = self._step(j + 1, raw, (*path, "steps", j), where)
            if step is not None:
                steps.append(step)
        return tuple(steps)

    def _step(self, number: int, raw: Any, path: tuple[Any, ...], where: str) -> Step | None:
        if isinstance(raw, str) and raw in BARE_ACTIONS:
            pos = self.at(path)
            return Step(number, raw, True, pos.line, pos.column)
        if not isinstance(raw, dict) or not raw:
            self.report(
                path,
                f"{where}, step {number}: {quote(raw) if isinstance(raw, str) else 'this'} is not "
                f'a step: write "kind: value", e.g. press: "1" or expect_say: "Welcome"',
            )
            return None
        if len(raw) > 1:
            first, second = list(raw)[:2]
            self.report(
                (*path, second),
                f"{where}, step {number}: has two parts ({quote(first)} and {quote(second)}): "
                'put each on its own line starting with "-"',
                key=True,
            )
            return None
        kind, value = next(iter(raw.items()))
        return self._step_value(number, kind, value, (*path, kind), where, key_path=True)

    def _step_value(
        self,
        number: int,
        kind: str,
        value: Any,
        path: tuple[Any, ...],
        where: str,
        *,
        key_path: bool = False,
    ) -> Step | None:
        at = f"{where}, step {number}" if key_path else where
        if kind not in ACTIONS + STEP_EXPECTATIONS:
            known = ACTIONS + STEP_EXPECTATIONS
            self.report(
                path,
                f"{at}: {quote(kind)} is not a step{suggest(kind, known)}; steps are "
                f"{choices(known)}",
                key=True,
            )
            return None
        checked = CHECKS[kind](value)
        if isinstance(checked, Bad):
            self.report(path, f"{at}: {quote(kind)} {checked.message}")
            return None
        pos = self.doc.position(path, key=True)
        return Step(number, kind, checked, pos.line, pos.column)


def parse_at(text: str) -> datetime | None:
    """`2026-03-02 10:00` (or ISO 8601) -> a datetime; None if it is not one."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def flow_candidates(test_path: Path, flow: str) -> list[Path]:
    """Where `flow: <id>` may live: beside the test file, then in the folder above it."""
    if flow.endswith(FLOW_SUFFIXES) or "/" in flow:
        return [test_path.parent / flow]
    file = f"{flow}{FLOW_SUFFIXES[0]}"
    if test_path.parent.name == TESTS_FOLDER:
        return [test_path.parent.parent / file]
    return [test_path.parent / file]
