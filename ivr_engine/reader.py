"""YAML text -> plain data plus the position of every key and value.

The first stage of the pipeline. PyYAML's own constructors follow YAML 1.1, which silently
turns `yes`/`no`/`on`/`off` into booleans, `10:30` into 630, `2026-12-25` into a date and
`010` into 8, and keeps the last of two duplicate keys. Flow authors hit all of these, so we
compose the node tree with PyYAML and resolve scalars ourselves with YAML 1.2 core rules,
made stricter still: anything that could be a phone number, a time or an id stays text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import FlowError, Problem

Path = tuple[str | int, ...]

_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"^-?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^-?([0-9]+\.[0-9]*|\.[0-9]+|[1-9][0-9]*)([eE][-+]?[0-9]+)?$")
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass
class Document:
    """A loaded YAML file: its data, where each part of it was written, and its source text."""

    file: str
    data: Any
    text: str
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    plain_scalars: dict[Path, str] = field(default_factory=dict)

    def position(self, path: Path, *, key: bool = False) -> Position:
        """Where `path` was written; the nearest written ancestor when it was not (a missing field)."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Position(1, 1))


def _resolve_plain(text: str) -> Any:
    """Resolve an unquoted scalar: null, true/false, plain decimal numbers; all else is text."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        value = float(text)
        return value if math.isfinite(value) else text
    return text


def _mark(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.doc_values: dict[Path, Position] = {}
        self.doc_keys: dict[Path, Position] = {}
        self.plain: dict[Path, str] = {}
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.doc_values[path] = _mark(node)
        if isinstance(node, yaml.ScalarNode):
            if node.style is None and node.tag != "tag:yaml.org,2002:str":
                value = _resolve_plain(node.value)
                if not isinstance(value, str):
                    self.plain[path] = node.value
                return value
            return node.value
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        raise TypeError(f"unexpected YAML node {node!r}")  # pragma: no cover

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Position] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged = self.build(value_node, path)
                for part in merged if isinstance(merged, list) else [merged]:
                    if isinstance(part, dict):
                        for k, v in part.items():
                            result.setdefault(k, v)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                pos = _mark(key_node)
                self.problems.append(
                    Problem(
                        self.file,
                        pos.line,
                        pos.column,
                        "a key must be a plain word, not a list or map",
                    )
                )
                continue
            key = key_node.value  # keys always stay the text the author wrote
            pos = _mark(key_node)
            if key in first_seen:
                first = first_seen[key]
                where = _describe(path)
                self.problems.append(
                    Problem(
                        self.file,
                        pos.line,
                        pos.column,
                        f'{where}"{key}" is written twice (first on line {first.line}); '
                        "YAML would silently keep only the last one: remove or rename one of them",
                    )
                )
                continue
            first_seen[key] = pos
            self.doc_keys[(*path, key)] = pos
            result[key] = self.build(value_node, (*path, key))
        return result


def _describe(path: Path) -> str:
    if len(path) >= 2 and path[0] == "nodes":
        return f'node "{path[1]}": '
    return ""


_YAML_HINTS = (
    (
        "found character '\\t'",
        "a tab is used for indentation; YAML needs spaces: replace the tab with spaces",
    ),
    ("found duplicate anchor", "the same &anchor name is defined twice: rename one"),
    ("found undefined alias", "an *alias refers to an &anchor that is not defined above it"),
    (
        "mapping values are not allowed here",
        "a ':' appears where YAML does not expect one: check the indentation of this line, or put the text in quotes",
    ),
    (
        "could not find expected ':'",
        "a line is missing its ':' or is indented wrongly: check this line and the one above",
    ),
    ("found unexpected end of stream", "the file ends inside a quoted text or bracket: close it"),
    (
        "did not find expected key",
        "this line is indented differently from the lines around it: align it with its siblings",
    ),
    ("did not find expected '-' indicator", "a list item is not aligned with the items above it"),
    (
        "found unknown escape character",
        "a backslash in double quotes starts an unknown escape: use single quotes, or write \\\\",
    ),
)


def _syntax_problem(file: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    raw = f"{getattr(exc, 'context', '') or ''} {getattr(exc, 'problem', '') or exc}".strip()
    for needle, hint in _YAML_HINTS:
        if needle in raw:
            return Problem(file, line, column, f"this is not valid YAML: {hint}")
    return Problem(file, line, column, f"this is not valid YAML: {raw}")


def read_yaml(text: str, file: str) -> Document:
    """Parse one YAML document keeping positions; raise `FlowError` listing every problem."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise FlowError(file, [_syntax_problem(file, exc)]) from None
    if len(nodes) > 1:
        pos = _mark(nodes[1])
        raise FlowError(
            file,
            [
                Problem(
                    file,
                    pos.line,
                    pos.column,
                    "a flow file holds one flow: remove the second '---' document",
                )
            ],
        )
    builder = _Builder(file)
    data = builder.build(nodes[0], ()) if nodes and nodes[0] is not None else None
    if builder.problems:
        raise FlowError(file, builder.problems)
    return Document(file, data, text, builder.doc_values, builder.doc_keys, builder.plain)
