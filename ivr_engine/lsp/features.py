"""The editor's questions about one open flow file, answered from the engine's own pipeline.

Diagnostics are exactly `ivr validate`'s: the file's text goes through `FlowLoader.load_text`
with the flows of its folder, as `load_file` does with the file on disk, so wording and
positions are the same. Definition, references, hover and symbols use the reader's positions
(`Document.keys` / `values`) and each node's own `targets()`, so plugin node types work with no
extra code; completion reads the cursor's place from indentation (`outline`), since the text
being typed often does not parse yet. Positions here count code points from 0; `Codec`
converts them to the client's units (UTF-16 by default).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from lsprotocol import types

from ..errors import FlowError, Problem, Severity
from ..links import FLOW_SUFFIXES, FolderFlows
from ..loader import FlowLoader
from ..node import Node
from ..reader import Document, read_yaml
from ..registry import Registry
from ..templates import BUILTIN_NAMES, CALL_FIELDS
from ..tooling.testfile import FlowTestError, is_test_file, read_test_text
from .fields import SchemaFields, markdown
from .outline import ITEM, Line, Place, entries, place, template_before, token_at, value_text

TOP_TARGETS = ("start", "on_error", "on_hangup")
_BUILTIN_HELP = {
    "call": "The call: `call.from`, `call.to`, `call.from_city`...",
    "now": "The current time in the flow's timezone.",
    "language": "The call's current language, e.g. en-US.",
}

Span = tuple[int, int, int]  # line, start column, end column


class Codec(Protocol):
    def position_to_client_units(
        self, lines: Sequence[str], position: types.Position
    ) -> types.Position: ...


class Project:
    """What every open file shares: the registry (plugins included), its loader and schema."""

    def __init__(self, registry: Registry, error: str | None = None) -> None:
        self.registry = registry
        self.error = error  # a plugin or ivr.toml problem, shown on every flow file
        self.loader = FlowLoader(registry)
        self.fields = SchemaFields(registry.schema)


@dataclass
class Parsed:
    """A flow text the reader could read: positions, and an instance of each node."""

    doc: Document
    nodes: dict[str, Node] = field(default_factory=dict)

    @classmethod
    def of(cls, text: str, file: str, registry: Registry) -> Parsed | None:
        try:
            doc = read_yaml(text, file)
        except FlowError:
            return None
        if not isinstance(doc.data, dict):
            return None
        raw = doc.data.get("nodes")
        nodes: dict[str, Node] = {}
        for node_id, spec in (raw if isinstance(raw, dict) else {}).items():
            node_type = spec.get("type") if isinstance(spec, dict) else None
            cls_ = registry.get(node_type) if isinstance(node_type, str) else None
            if cls_ is not None:
                try:
                    nodes[str(node_id)] = cls_(str(node_id), spec)
                except (TypeError, ValueError):  # a plugin node that refuses bad fields
                    continue
        return cls(doc, nodes)

    def targets(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Every field that names a node: the flow's own (`start`...) and each node's targets."""
        data = self.doc.data
        for name in TOP_TARGETS:
            if isinstance(data.get(name), str):
                yield (name,), data[name]
        for node in self.nodes.values():
            for target in _safe(node.targets):
                yield ("nodes", node.id, *target.path), target.node_id


def _safe(method: Any) -> list[Any]:
    """What a node method returns; nothing for a node whose fields do not fit its type yet."""
    try:
        return list(method())
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        return []


def kind_of(path: Path, text: str, flow_fields: Iterable[str]) -> str | None:
    """ "flow", "test", or None for the YAML of some other tool (a CI workflow...), left alone.

    A file is a flow unless it is a flow test file, or a map none of whose top-level keys is a
    flow field; an empty or unreadable file counts as a flow, so its problem is shown.
    """
    if path.suffix not in FLOW_SUFFIXES:
        return None
    top = {line.key for parents, line in entries(text.splitlines()) if not parents}
    if "flowtest.schema.json" in text[:500] or (path.parent.parent.is_dir() and is_test_file(path)):
        return "test"
    if "flow.schema.json" in text[:500] or not top or top & set(flow_fields):
        return "flow"
    if "cases" in top:
        return "test"
    return None


class FlowFile:
    """One open file at one version of its text."""

    def __init__(
        self,
        project: Project,
        path: Path,
        text: str,
        *,
        shown: str,
        codec: Codec | None = None,
        last_good: Parsed | None = None,
    ) -> None:
        self.project = project
        self.path = path
        self.text = text
        self.shown = shown
        self.codec = codec
        self.lines = text.splitlines(keepends=True) or [""]
        self.kind = kind_of(path, text, project.registry.schema.get("properties", {}))
        self.last_good = last_good

    @cached_property
    def parsed(self) -> Parsed | None:
        """This text read with positions; None when it is not a flow or does not parse."""
        return (
            Parsed.of(self.text, self.shown, self.project.registry) if self.kind == "flow" else None
        )

    @property
    def known(self) -> Parsed | None:
        """The nodes as last read (for completion, while the text being typed may not parse)."""
        return self.last_good if self.last_good is not None else self.parsed

    # ---- positions -------------------------------------------------------------------

    def line_text(self, line: int) -> str:
        return self.lines[line].rstrip("\r\n") if 0 <= line < len(self.lines) else ""

    def range(self, line: int, start: int, end: int) -> types.Range:
        a, b = types.Position(line, start), types.Position(line, end)
        if self.codec is not None:
            a = self.codec.position_to_client_units(self.lines, a)
            b = self.codec.position_to_client_units(self.lines, b)
        return types.Range(a, b)

    def span_at(self, line1: int, column1: int) -> Span:
        """The word or quoted text written at a 1-based reader position."""
        line = line1 - 1
        start, end = token_at(self.line_text(line), column1 - 1)
        return line, start, end

    def location(self, span: Span) -> types.Location:
        return types.Location(self.path.resolve().as_uri(), self.range(*span))

    # ---- diagnostics ---------------------------------------------------------------

    def problems(self) -> list[Problem]:
        """What `ivr validate` (or `ivr test`, for a test file) says about this text."""
        if self.kind is None:
            return []
        if self.project.error is not None:
            return [Problem(self.shown, 1, 1, self.project.error)]
        if self.kind == "test":
            try:
                read_test_text(self.text, self.path, self.shown)
            except FlowTestError as exc:
                return exc.problems
            return []
        loader = self.project.loader
        try:
            result = loader.load_text(
                self.text,
                self.shown,
                flow_id=self.path.stem,
                others=FolderFlows(loader, self.path.parent),
            )
        except FlowError as exc:
            return exc.problems
        return result.warnings

    def diagnostics(self) -> list[types.Diagnostic]:
        found = []
        for problem in self.problems():
            line, start, end = self.span_at(problem.line, problem.column)
            found.append(
                types.Diagnostic(
                    range=self.range(line, start, end),
                    message=problem.message,
                    severity=types.DiagnosticSeverity.Warning
                    if problem.severity is Severity.WARNING
                    else types.DiagnosticSeverity.Error,
                    source="ivr",
                )
            )
        return found

    # ---- what is under the cursor --------------------------------------------------

    def _contains(self, span: Span, line: int, character: int) -> bool:
        return span[0] == line and span[1] <= character <= span[2]

    def node_key_spans(self) -> dict[str, Span]:
        if self.parsed is None:
            return {}
        keys = self.parsed.doc.keys
        return {
            str(path[1]): self.span_at(*keys[path])
            for path in keys
            if len(path) == 2 and path[0] == "nodes"
        }

    def node_at(self, line: int, character: int) -> str | None:
        """The node named under the cursor: a node's own id, or a field that goes to a node."""
        if self.parsed is None:
            return None
        for node_id, span in self.node_key_spans().items():
            if self._contains(span, line, character):
                return node_id
        for path, target in self.parsed.targets():
            pos = self.parsed.doc.values.get(path)
            if pos is not None and self._contains(self.span_at(*pos), line, character):
                return target
        return None

    def definition(self, line: int, character: int) -> list[types.Location]:
        node_id = self.node_at(line, character)
        span = self.node_key_spans().get(node_id) if node_id else None
        if span is not None:
            return [self.location(span)]
        return self._flow_definition(line, character)

    def _flow_definition(self, line: int, character: int) -> list[types.Location]:
        """From a field that names another flow (a subflow) to that flow's file."""
        if self.parsed is None:
            return []
        folder = FolderFlows(self.project.loader, self.path.parent)
        for node in self.parsed.nodes.values():
            for path, flow_id in _safe(node.flows_called):
                pos = self.parsed.doc.values.get(("nodes", node.id, *path))
                file = folder.file(flow_id)
                if pos and file and self._contains(self.span_at(*pos), line, character):
                    start = types.Position(0, 0)
                    return [types.Location(file.resolve().as_uri(), types.Range(start, start))]
        return []

    def references(self, line: int, character: int, declaration: bool) -> list[types.Location]:
        node_id = self.node_at(line, character)
        if node_id is None or self.parsed is None:
            return []
        found = []
        if declaration and node_id in self.node_key_spans():
            found.append(self.location(self.node_key_spans()[node_id]))
        for path, target in self.parsed.targets():
            pos = self.parsed.doc.values.get(path)
            if target == node_id and pos is not None:
                found.append(self.location(self.span_at(*pos)))
        return found

    def hover(self, line: int, character: int) -> types.Hover | None:
        """A field's help from the schema, over its key; a node type's, over `type: <name>`."""
        if self.parsed is None:
            return None
        doc = self.parsed.doc
        for path, pos in doc.keys.items():
            span = self.span_at(*pos)
            if self._contains(span, line, character):
                named = tuple(str(p) for p in path)
                if len(named) == 2 and named[0] == "nodes":
                    return self._node_hover(named[1], span)
                help_ = self.project.fields.help(named, self._type_of(named))
                if help_:
                    return self._hover(markdown(named[-1], help_), span)
                return None
            if len(path) == 3 and path[0] == "nodes" and path[2] == "type":
                value_pos = doc.values.get(path)
                value_span = self.span_at(*value_pos) if value_pos else None
                type_name = doc.data["nodes"][path[1]].get("type")
                if value_span and self._contains(value_span, line, character):
                    help_ = self.project.fields.type_help(str(type_name))
                    return (
                        self._hover(markdown(str(type_name), help_), value_span) if help_ else None
                    )
        return None

    def _node_hover(self, node_id: str, span: Span) -> types.Hover:
        parsed = self.parsed
        node = parsed.nodes.get(node_id) if parsed else None
        type_name = node.type_name if node else "?"
        count = sum(target == node_id for _, target in parsed.targets()) if parsed else 0
        text = f"**{node_id}**: a `{type_name}` node, the target of {count} field(s) in this flow"
        return self._hover(text, span)

    def _hover(self, text: str, span: Span) -> types.Hover:
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
            range=self.range(*span),
        )

    def _type_of(self, path: tuple[str, ...]) -> str | None:
        if len(path) >= 2 and path[0] == "nodes" and self.parsed is not None:
            spec = self.parsed.doc.data.get("nodes", {}).get(path[1])
            if isinstance(spec, dict) and isinstance(spec.get("type"), str):
                return spec["type"]
        return None

    def symbols(self) -> list[types.DocumentSymbol]:
        """The nodes, in file order, each spanning its lines."""
        if self.parsed is None:
            return []
        doc = self.parsed.doc
        last_line: dict[str, int] = {}
        for path, pos in doc.values.items():
            if len(path) >= 2 and path[0] == "nodes":
                node_id = str(path[1])
                last_line[node_id] = max(last_line.get(node_id, 0), pos.line - 1)
        symbols = []
        for node_id, span in self.node_key_spans().items():
            end = last_line.get(node_id, span[0])
            node = self.parsed.nodes.get(node_id)
            symbols.append(
                types.DocumentSymbol(
                    name=node_id,
                    detail=node.type_name if node else None,
                    kind=types.SymbolKind.Object,
                    range=self.range(span[0], span[1], len(self.line_text(end)))
                    if end == span[0]
                    else types.Range(
                        self.range(*span).start,
                        self.range(end, 0, len(self.line_text(end))).end,
                    ),
                    selection_range=self.range(*span),
                )
            )
        return symbols

    # ---- completion ----------------------------------------------------------------

    def completion(self, line: int, character: int) -> list[types.CompletionItem]:
        if self.kind != "flow":
            return []
        where = place(self.lines, line, character)
        template = template_before(where.before)
        if template is not None:
            return self._template_items(template, line, character)
        outline = entries(self.lines)
        node_type = self._typed_type(outline, where.path)
        if where.key is not None:
            return self._value_items(where, outline, node_type, line, character)
        return self._field_items(where, outline, node_type, line, character)

    def _typed_type(
        self, outline: list[tuple[tuple[str, ...], Line]], path: tuple[str, ...]
    ) -> str | None:
        """The `type:` written in the node the path is in, read from the text as it is now."""
        if len(path) < 2 or path[0] != "nodes":
            return None
        for parents, item in outline:
            if parents == ("nodes", path[1]) and item.key == "type":
                return value_text(self.lines, item) or None
        return None

    def _edit(self, line: int, character: int, typed: str) -> types.Range:
        return self.range(line, character - len(typed), character)

    def _items(
        self,
        entries_: Mapping[str, tuple[types.CompletionItemKind, str | None, str | None]],
        typed: str,
        line: int,
        character: int,
        suffix: str = "",
    ) -> list[types.CompletionItem]:
        replace = self._edit(line, character, typed)
        return [
            types.CompletionItem(
                label=label,
                kind=kind,
                detail=detail,
                documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=doc)
                if doc
                else None,
                text_edit=types.TextEdit(range=replace, new_text=label + suffix),
                filter_text=label,
            )
            for label, (kind, detail, doc) in entries_.items()
        ]

    def _value_items(
        self,
        where: Place,
        outline: list[tuple[tuple[str, ...], Line]],
        node_type: str | None,
        line: int,
        character: int,
    ) -> list[types.CompletionItem]:
        path = where.path
        typed = re.search(r"[\w-]*$", where.before)
        word = typed.group() if typed else ""
        if self._names_a_node(path, node_type):
            typed_types = {
                parents[1]: value_text(self.lines, item)
                for parents, item in outline
                if len(parents) == 2 and parents[0] == "nodes" and item.key == "type"
            }
            nodes = {
                item.key: (types.CompletionItemKind.Reference, typed_types.get(item.key), None)
                for parents, item in outline
                if parents == ("nodes",) and item.key
            }
            return self._items(nodes, word, line, character)
        if len(path) == 3 and path[0] == "nodes" and path[2] == "type":
            fields = self.project.fields
            kinds = {
                name: (
                    types.CompletionItemKind.Class,
                    fields.type_help(name).get("title"),
                    fields.type_help(name).get("description"),
                )
                for name in fields.node_types
            }
            return self._items(kinds, word, line, character)
        if self._names_a_flow(path):
            folder = FolderFlows(self.project.loader, self.path.parent)
            flows = {
                flow_id: (types.CompletionItemKind.File, "flow", None)
                for flow_id in folder.ids()
                if flow_id != self.path.stem
            }
            return self._items(flows, word, line, character)
        values = self.project.fields.values(path, node_type)
        listed = {
            str(v): (types.CompletionItemKind.EnumMember, None, None)
            for v in values
            if isinstance(v, str | int) and not isinstance(v, bool)
        }
        return self._items(listed, word, line, character)

    def _names_a_node(self, path: tuple[str, ...], node_type: str | None) -> bool:
        if path in {(name,) for name in TOP_TARGETS}:
            return True
        if len(path) >= 3 and path[0] == "nodes":
            cls = self.project.registry.get(node_type) if node_type else None
            if cls is not None and any(_matches(p, path[2:]) for p in cls.target_fields):
                return True
            return self.project.fields.is_node_id(path, node_type)
        return False

    def _names_a_flow(self, path: tuple[str, ...]) -> bool:
        if len(path) < 3 or path[0] != "nodes":
            return False
        node_type = None
        if self.known is not None:
            spec = self.known.doc.data.get("nodes", {}).get(path[1])
            node_type = spec.get("type") if isinstance(spec, dict) else None
        cls = self.project.registry.get(node_type) if isinstance(node_type, str) else None
        return cls is not None and any(_matches(p, path[2:]) for p in cls.flow_fields)

    def _field_items(
        self,
        where: Place,
        outline: list[tuple[tuple[str, ...], Line]],
        node_type: str | None,
        line: int,
        character: int,
    ) -> list[types.CompletionItem]:
        parents = where.parents
        if parents == ("nodes",):
            return []  # a new node id: anything the author likes
        typed = re.search(r"[\w-]*$", where.before)
        word = typed.group() if typed else ""
        written = {item.key for p, item in outline if p == parents and item.number != line}
        fields = self.project.fields.fields(parents, node_type)
        found = {
            name: (
                types.CompletionItemKind.Property,
                sub.get("title"),
                markdown(name, sub),
            )
            for name, sub in fields.items()
            if name not in written
        }
        return self._items(found, word, line, character, suffix=": ")

    def _template_items(
        self, template: str, line: int, character: int
    ) -> list[types.CompletionItem]:
        call_field = re.search(r"(?<![\w.])call\.(\w*)$", template)
        if call_field:
            fields = {
                name: (types.CompletionItemKind.Field, f"call.{name}", f"Twilio's `{param}`")
                for param, name in CALL_FIELDS.items()
            }
            return self._items(fields, call_field.group(1), line, character)
        name = re.search(r"(?<![\w.])([A-Za-z_]\w*)?$", template)
        if name is None:
            return []
        return self._items(self._variables(), name.group(1) or "", line, character)

    def _variables(self) -> dict[str, tuple[types.CompletionItemKind, str | None, str | None]]:
        """Names a template may read: the engine's own, the flow's `vars`, what nodes fill."""
        found: dict[str, tuple[types.CompletionItemKind, str | None, str | None]] = {
            name: (types.CompletionItemKind.Module, "built in", _BUILTIN_HELP.get(name))
            for name in sorted(BUILTIN_NAMES)
        }
        for parents, item in entries(self.lines):
            if parents == ("vars",) and item.key:
                found.setdefault(item.key, (types.CompletionItemKind.Variable, "vars", None))
        if self.known is not None:
            for node in self.known.nodes.values():
                for _, name in _safe(node.variables_written):
                    found.setdefault(
                        name,
                        (types.CompletionItemKind.Variable, f"filled by node {node.id}", None),
                    )
        return found


def _matches(pattern: str, path: tuple[str, ...]) -> bool:
    """Whether a field path fits a `target_fields` pattern such as `options.*` or `cases.*.next`."""
    parts = pattern.split(".")
    return len(parts) == len(path) and all(p in (ITEM, q) for p, q in zip(parts, path, strict=True))
