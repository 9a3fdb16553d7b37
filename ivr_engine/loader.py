"""The one entry point from a flow file to a compiled `Flow`.

Pipeline: text -> `reader` (positions, no YAML 1.1 traps) -> `validation` (JSON Schema) ->
node instances from the registry -> `semantics` (graph, templates, node checks) -> `Flow`;
a file loaded from disk then goes through `links` (the subflows it runs, found beside it).
Every problem in a file is collected before anything is refused, so an author fixes a file in
one pass; a file with any error never becomes a `Flow`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import FlowError, Problem
from .links import FolderFlows, check_links, flow_files
from .model import DEFAULT_LANGUAGE, DEFAULT_TIMEZONE, Flow
from .node import Node
from .reader import read_yaml
from .registry import Registry
from .semantics import SemanticChecker
from .validation import SchemaChecker

FLOW_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class LoadResult:
    flow: Flow
    warnings: list[Problem]
    text: str = ""  # the source the flow was compiled from (kept by the server per version)


class FlowLoader:
    """Loads flow files against one registry (built-ins plus whatever plugins are installed)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.checker = SchemaChecker(registry.schema)

    def load_file(self, path: str | Path, *, others: FolderFlows | None = None) -> LoadResult:
        """Load a flow file, checked together with the flows it runs (from the same folder).

        Pass the folder's `FolderFlows` when loading several files of one folder, so each
        subflow is read once.
        """
        path = Path(path)
        return self.load_single(path, others=others or FolderFlows(self, path.parent))

    def load_single(self, path: Path, *, others: FolderFlows | None = None) -> LoadResult:
        """Load a flow file on its own: the flows it runs are not looked at unless `others`."""
        shown = _display(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise FlowError(
                shown, [Problem(shown, 1, 1, "this file is not UTF-8 text: save it as UTF-8")]
            ) from None
        except OSError as exc:
            raise FlowError(
                shown, [Problem(shown, 1, 1, f"cannot read this file: {exc.strerror}")]
            ) from None
        return self.load_text(text, shown, flow_id=path.stem, others=others)

    def load_text(
        self, text: str, file: str, flow_id: str, *, others: FolderFlows | None = None
    ) -> LoadResult:
        """Load flow text; with `others` (the flows of its folder) subflows are checked too."""
        problems: list[Problem] = []
        if not FLOW_ID.match(flow_id):
            problems.append(
                Problem(
                    file,
                    1,
                    1,
                    f'the file name "{flow_id}" cannot be a flow id: use only lowercase letters, '
                    f'digits, - and _: rename the file to "{_flow_id_for(flow_id)}{Path(file).suffix}"',
                )
            )
        doc = read_yaml(text, file)
        if not isinstance(doc.data, dict):
            pos = doc.position(())
            raise FlowError(
                file, [*problems, Problem(file, pos.line, pos.column, _not_a_map(doc.data))]
            )
        if _is_test_file(doc.data):
            pos = doc.position(())
            raise FlowError(
                file,
                [
                    Problem(
                        file,
                        pos.line,
                        pos.column,
                        f"this is a flow test file (it has `flow:` and `cases:`), not a flow: "
                        f"run `ivr test {file}` to run its cases",
                    )
                ],
            )
        self.checker.coerce(doc)
        schema_problems, broken = self.checker.problems(doc)
        nodes = self._instantiate(doc.data.get("nodes"), broken)
        if isinstance(doc.data.get("nodes"), dict) and nodes:
            semantic = SemanticChecker(doc, nodes, broken)
            semantic_problems = semantic.run()
        else:
            semantic, semantic_problems = None, []
        # One problem per spot: `next: main  menu` breaks the id pattern and names no node;
        # "which is not a node (did you mean ...)" is the one that helps.
        taken = {(p.line, p.column) for p in semantic_problems if p.is_error}
        problems += [p for p in schema_problems if (p.line, p.column) not in taken]
        problems += semantic_problems
        if semantic is None or any(p.is_error for p in problems):
            raise FlowError(file, problems)
        data = doc.data
        flow = Flow(
            id=flow_id,
            file=file,
            version=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
            start=data["start"],
            nodes=nodes,
            language=data.get("language", DEFAULT_LANGUAGE),
            voice=data.get("voice"),
            timezone=data.get("timezone", DEFAULT_TIMEZONE),
            vars=variable_defaults(data.get("vars") or {}),
            sensitive=frozenset(
                name
                for name, value in (data.get("vars") or {}).items()
                if isinstance(value, dict) and value.get("sensitive") is True
            ),
            on_error=data.get("on_error"),
            on_hangup=data.get("on_hangup"),
            description=data.get("description", ""),
            settings={k: data[k] for k in ("sms_from", "whatsapp_from", "outbound") if k in data},
            texts=semantic.texts,
            expressions=semantic.expressions,
        )
        if others is not None:
            problems += check_links(flow, doc, others)
            if any(p.is_error for p in problems):
                raise FlowError(file, problems)
        return LoadResult(flow, sorted(problems), text)

    def _instantiate(self, raw_nodes: Any, broken: set[str]) -> dict[str, Node]:
        """A node instance for every node, so other nodes may point at any of them.

        Nodes of an unknown type become placeholders. Nodes with schema errors (`broken`) are
        instances of their type all the same; the semantic stage checks them only as far as
        their fields allow, so an author still sees every problem in one pass.
        """
        nodes: dict[str, Node] = {}
        if not isinstance(raw_nodes, dict):
            return nodes
        for node_id, spec in raw_nodes.items():
            if not isinstance(spec, dict):
                nodes[node_id] = _Broken(node_id, {})
                continue
            cls = self.registry.get(spec.get("type")) if isinstance(spec.get("type"), str) else None
            nodes[node_id] = _Broken(node_id, {}) if cls is None else cls(node_id, spec)
        return nodes


class _Broken(Node):
    """Stands in for a node whose schema check failed, so other nodes may still point at it."""

    type_name = ""
    target_fields = ()
    waits = True
    voice_only = False


def _is_test_file(data: dict[str, Any]) -> bool:
    """A flow test file (`flow:` and `cases:`, no `nodes:` or `start:`) given as a flow."""
    return "cases" in data and "flow" in data and not {"nodes", "start"} & set(data)


def _flow_id_for(name: str) -> str:
    """The flow id closest to a file name that is not one: `Acme Main` -> `acme-main`."""
    return re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-_") or "flow"


def _not_a_map(data: Any) -> str:
    if data is None:
        return "this file is empty: write a flow with `start:` and `nodes:`"
    if isinstance(data, list):
        return (
            "this file holds a list, but a flow file is a map with `start:` and `nodes:` "
            'at the top: remove the leading "-"'
        )
    return (
        "this file holds only text, but a flow file is a map with `start:` and `nodes:` at the top"
    )


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def iter_flow_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Flow files named by `paths`: files as given, folders by their top-level *.yaml files.

    Flow test files kept beside flows (`acme.test.yaml`) are not flows and are skipped.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from flow_files(path)
        else:
            yield path


def variable_defaults(declared: dict[str, Any]) -> dict[str, Any]:
    """Each variable's starting value: `name: value`, or `name: {default: value, sensitive: ...}`."""
    return {
        name: value.get("default") if isinstance(value, dict) else value
        for name, value in declared.items()
    }
