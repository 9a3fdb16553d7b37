"""Cross-flow stage: what one flow file cannot show alone, the other flows it runs.

Runs after a file passed its own checks. A flow names another flow by id (its file name, in
the same folder); each named flow is loaded beside it, on its own, and the stage reports a
flow that does not exist or has errors, flows that run each other in a circle (the call
would never come back), and each node's own checks against the flow it runs
(`Node.check_called`). Loading a file from text alone skips this stage.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import FlowError, Problem, Severity
from .model import Flow
from .reader import Document
from .wording import describe, quote, suggest

if TYPE_CHECKING:
    from .loader import FlowLoader

FLOW_SUFFIXES = (".yaml", ".yml")
TEST_SUFFIXES = (".test.yaml", ".test.yml")  # flow test files kept beside flows


def flow_files(folder: Path) -> list[Path]:
    """The flow files of a folder: its top-level *.yaml files, flow test files left out."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix in FLOW_SUFFIXES and not p.name.endswith(TEST_SUFFIXES) and p.is_file()
    )


class FolderFlows:
    """The one folder-of-flows loader, behind `ivr validate`, the server and the tooling.

    It lists a folder's flow files (`files`), and loads each flow on its own the first time
    another flow names it (`get`), so a folder's subflows are read once however many flows
    run them; `FlowLoader.load_file(path, others=folder)` checks a whole file against it.
    """

    def __init__(self, loader: FlowLoader, folder: Path) -> None:
        self.loader = loader
        self.folder = folder
        self._loaded: dict[str, Flow | FlowError | None] = {}

    def file(self, flow_id: str) -> Path | None:
        for suffix in FLOW_SUFFIXES:
            candidate = self.folder / f"{flow_id}{suffix}"
            if candidate.is_file():
                return candidate
        return None

    def files(self) -> list[Path]:
        return flow_files(self.folder)

    def ids(self) -> list[str]:
        return [path.stem for path in self.files()]

    def get(self, flow_id: str) -> Flow | FlowError | None:
        """The flow, the errors that keep it from loading, or None when there is no such file."""
        if flow_id not in self._loaded:
            path = self.file(flow_id)
            found: Flow | FlowError | None = None
            if path is not None:
                try:
                    found = self.loader.load_single(path).flow
                except FlowError as exc:
                    found = exc
            self._loaded[flow_id] = found
        return self._loaded[flow_id]

    # FlowResolver, so a folder can serve subflows to the simulator and flow tests.

    def current(self, flow_id: str) -> Flow | None:
        found = self.get(flow_id)
        return found if isinstance(found, Flow) else None

    async def version(self, flow_id: str, version: str) -> Flow | None:
        found = self.current(flow_id)
        return found if found is not None and found.version == version else None


def calls_of(flow: Flow) -> list[str]:
    return [target for node in flow.nodes.values() for _, target in node.flows_called()]


def check_links(flow: Flow, doc: Document, others: FolderFlows) -> list[Problem]:
    problems: list[Problem] = []

    def report(path: tuple[str | int, ...], message: str, warning: bool = False) -> None:
        pos = doc.position(path)
        severity = Severity.WARNING if warning else Severity.ERROR
        problems.append(Problem(doc.file, pos.line, pos.column, message, severity))

    for node in flow.nodes.values():
        for field, target in node.flows_called():
            path = ("nodes", node.id, *field)
            where = describe(path)
            callee = flow if target == flow.id else others.get(target)
            if callee is None:
                report(
                    path,
                    f"{where}: there is no flow {quote(target)} beside this file "
                    f"(no {target}.yaml in {others.folder}){suggest(target, others.ids())}",
                )
                continue
            if isinstance(callee, FlowError):
                report(
                    path,
                    f"{where}: the flow {quote(target)} has errors: fix {callee.file} first "
                    f"(ivr validate {callee.file})",
                )
                continue
            circle = _circle(flow, target, others)
            if circle:
                route = " -> ".join(quote(f) for f in circle)
                report(
                    path,
                    f"{where}: the flow {quote(target)} runs this flow again ({route}), so the "
                    "call would never come back: a flow cannot run itself, directly or through "
                    "other flows",
                )
                continue
            if not any(n.type_name == "return" for n in callee.nodes.values()):
                report(
                    path,
                    f"{where}: the flow {quote(target)} has no return node, so the call never "
                    f"comes back here: add a node with `type: return` to {target}",
                    warning=True,
                )
            for issue in node.check_called(field, callee):
                inner = ("nodes", node.id, *issue.path)
                report(inner, f"{describe(inner)}: {issue.message}", issue.warning)
    return problems


def _circle(flow: Flow, start: str, others: FolderFlows) -> list[str]:
    """The shortest route `flow -> start -> ... -> flow`, or [] if `start` never runs `flow`."""
    if start == flow.id:
        return [flow.id, flow.id]
    parents: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        loaded = others.get(current)
        if not isinstance(loaded, Flow):
            continue
        for nxt in calls_of(loaded):
            if nxt == flow.id:
                chain = [current]
                while (parent := parents[chain[-1]]) is not None:
                    chain.append(parent)
                return [flow.id, *reversed(chain), flow.id]
            if nxt not in parents:
                parents[nxt] = current
                queue.append(nxt)
    return []
