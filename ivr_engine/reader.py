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
from typing import Any, NamedTuple

import yaml

from .errors import FlowError, Problem
from .wording import describe, quote

Path = tuple[str | int, ...]

_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"^-?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^-?([0-9]+\.[0-9]*|\.[0-9]+|[1-9][0-9]*)([eE][-+]?[0-9]+)?$")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)


class Position(NamedTuple):
    """Where something was written, counted from 1 as editors do (a tuple: made by the ten
    thousand for a large flow, and cheaper so than a frozen dataclass)."""

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
    # unquoted values followed by a comment on the same line: where the `#` is, and what follows
    comments: dict[Path, tuple[Position, str]] = field(default_factory=dict)

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


_COMMENT_AFTER = re.compile(r"[ \t]+#(.*)")
# `#: goodbye` or `# : goodbye` on a line of its own: meant as the `#` key, read as a comment
_KEY_COMMENT = re.compile(r"^([ \t]*)#[ \t]*:[ \t]*([^ \t#][^#]*?)[ \t]*$")
KEY_MAPS = ("options", "on", "cases")  # maps whose keys may be phone keys or outcomes
# `*: operator` / `&: x` unquoted: YAML reads an alias or an anchor, and fails
_STAR_KEY = re.compile(r"^[ \t]*(?:-[ \t]+)?([*&])[ \t]*:[ \t]*(.*?)[ \t]*$")
_UNQUOTED_TEMPLATE = re.compile(r":[ \t]+\{\{")


class _Builder:
    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.comments: dict[Path, tuple[Position, str]] = {}
        self.doc_values: dict[Path, Position] = {}
        self.doc_keys: dict[Path, Position] = {}
        self.plain: dict[Path, str] = {}
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.doc_values[path] = _mark(node)
        if isinstance(node, yaml.ScalarNode):
            plain = not node.style  # the C parser says "" where the Python one says None
            if plain:
                self._comment_after(node, path)
            if plain and node.tag != "tag:yaml.org,2002:str":
                value = _resolve_plain(node.value)
                if not isinstance(value, str):
                    self.plain[path] = node.value
                return value
            return node.value
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if _is_unquoted_template(node):
                source = self.text[node.start_mark.index : node.end_mark.index]
                pos = _mark(node)
                self.problems.append(
                    Problem(
                        self.file,
                        pos.line,
                        pos.column,
                        f"{describe(path)}: a text starting with {{{{ must be in quotes: "
                        f'write "{source}"',
                    )
                )
                return source
            return self._mapping(node, path)
        raise TypeError(f"unexpected YAML node {node!r}")  # pragma: no cover

    def _comment_after(self, node: yaml.ScalarNode, path: Path) -> None:
        """Remember a comment on the same line as an unquoted value: `Press # to finish`."""
        end = node.end_mark
        if node.start_mark.line != end.line:
            return
        line_end = self.text.find("\n", end.index)
        rest = self.text[end.index : line_end if line_end >= 0 else len(self.text)]
        found = _COMMENT_AFTER.match(rest)
        if found:
            column = end.column + found.start(1)  # the `#`, counted from 1
            self.comments[path] = (Position(end.line + 1, column), found.group(1))

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
                self.problems.append(
                    Problem(
                        self.file,
                        pos.line,
                        pos.column,
                        f"{describe((*path, key))} is written twice (first on line {first.line}); "
                        "YAML would silently keep only the last one: remove or rename one of them",
                    )
                )
                continue
            first_seen[key] = pos
            self.doc_keys[(*path, key)] = pos
            result[key] = self.build(value_node, (*path, key))
            if key in KEY_MAPS:
                self._key_comments(key_node, value_node, (*path, key))
        return result

    def _key_comments(self, key_node: yaml.Node, value_node: yaml.Node, path: Path) -> None:
        """A comment line under `options:` (`on:`, `cases:`) that reads as the `#` key."""
        if not isinstance(value_node, yaml.MappingNode | yaml.SequenceNode):
            return
        lines = self.text.splitlines()
        first, last = key_node.start_mark.line + 1, min(value_node.end_mark.line, len(lines) - 1)
        for number in range(first, last + 1):
            found = _KEY_COMMENT.match(lines[number])
            if found is None or len(found.group(1)) <= key_node.start_mark.column:
                continue
            target = found.group(2)
            self.problems.append(
                Problem(
                    self.file,
                    number + 1,
                    len(found.group(1)) + 1,
                    f"{describe(path)}: the line {quote(lines[number].strip())} is a YAML "
                    f"comment, so there is no {'option' if path[-1] == 'options' else 'entry'} "
                    f'for the # key: put the key in quotes, write "#": {target}',
                )
            )


# (words in PyYAML's complaint, point at where the construct opened?, what to tell the author)
_YAML_HINTS = (
    (
        "found character '\\t'",
        False,
        "a tab is used for indentation; YAML needs spaces: replace the tab with spaces",
    ),
    ("found duplicate anchor", False, "the same &anchor name is defined twice: rename one"),
    (
        "found undefined alias",
        False,
        "an *alias refers to an &anchor that is not defined above it",
    ),
    (
        "while scanning a quoted scalar",
        True,
        "this quoted text is never closed: add the closing quote",
    ),
    (
        "while parsing a flow sequence",
        True,
        "this [ list ] is not closed, or its items lack commas: close it with ]",
    ),
    (
        "while parsing a flow mapping",
        True,
        "this { map } is not closed, or its items lack commas: close it with }",
    ),
    (
        "but found '<scalar>'",
        False,
        "text follows a quoted text on this line: if the text contains its own quote, "
        "write that quote twice ('it''s') or use the other kind of quotes",
    ),
    (
        "mapping values are not allowed here",
        False,
        "a ':' appears where YAML does not expect one: check the indentation of this line, or put the text in quotes",
    ),
    (
        "sequence entries are not allowed here",
        False,
        'a "- " list item appears where YAML does not expect one: check the indentation of '
        "this line, or put the text in quotes",
    ),
    (
        "could not find expected ':'",
        False,
        "a line is missing its ':' or is indented wrongly: check this line and the one above",
    ),
    (
        "found unexpected end of stream",
        False,
        "the file ends inside a quoted text or bracket: close it",
    ),
    (
        "did not find expected key",
        False,
        "this line is indented differently from the lines around it: align it with its siblings",
    ),
    (
        "did not find expected '-' indicator",
        False,
        "a list item is not aligned with the items above it",
    ),
    (
        "expected <block end>",
        False,
        "this line is indented differently from the lines above it: align it with its siblings",
    ),
    (
        "expected '<document start>'",
        False,
        "the lines above are indented more than this one: start the flow's top-level lines "
        "at the left edge",
    ),
    (
        "that cannot start any token",
        False,
        "text cannot start with @, ` or %: put the text in quotes",
    ),
    (
        "found unknown escape character",
        False,
        "a backslash in double quotes starts an unknown escape: use single quotes, or write \\\\",
    ),
)


def _is_unquoted_template(node: yaml.MappingNode) -> bool:
    """`text: {{ name }}` without quotes: YAML reads a map whose only key is another map."""
    return (
        bool(node.flow_style)
        and len(node.value) == 1
        and isinstance(node.value[0][0], yaml.MappingNode)
        and bool(node.value[0][0].flow_style)
    )


def _syntax_problem(file: str, text: str, exc: yaml.YAMLError) -> Problem:
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    for mark in (problem_mark, context_mark):
        lines = text.splitlines()
        if mark is not None and mark.line < len(lines):
            found = _UNQUOTED_TEMPLATE.search(lines[mark.line])
            if found:
                return Problem(
                    file,
                    mark.line + 1,
                    found.start() + 3,
                    "this is not valid YAML: a text starting with {{ must be in quotes: "
                    'put the whole text in double quotes, e.g. "{{ name }}, welcome"',
                )
    raw = f"{getattr(exc, 'context', '') or ''} {getattr(exc, 'problem', '') or exc}".strip()
    star = _star_key(file, text, exc, raw)
    if star is not None:
        return star
    message, mark = raw, problem_mark or context_mark
    for needle, at_opening, hint in _YAML_HINTS:
        if needle in raw:
            message = hint
            if at_opening and context_mark is not None:
                mark = context_mark
            break
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return Problem(file, line, column, f"this is not valid YAML: {message}")


def _star_key(file: str, text: str, exc: yaml.YAMLError, raw: str) -> Problem | None:
    """`*: operator` or `&: x` unquoted: YAML took `*` for an alias, `&` for an anchor."""
    if "while scanning an a" not in raw:  # an alias, an anchor
        return None
    mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
    lines = text.splitlines()
    if mark is None or mark.line >= len(lines):
        return None
    char = "*" if "alias" in raw else "&"
    found = _STAR_KEY.match(lines[mark.line])
    name = "star" if char == "*" else "ampersand"
    role = "an alias" if char == "*" else "an anchor"
    if found is not None and found.group(1) == char:
        fix = f'write "{char}": {found.group(2)}'.rstrip(": ")
        message = (
            f"this is not valid YAML: an unquoted {char} starts {role} in YAML, so the {name} "
            f"key must be in quotes: {fix}"
        )
    else:
        message = (
            f"this is not valid YAML: an unquoted {char} starts {role} in YAML: put the text "
            f'that starts with {char} in quotes, e.g. "{char}"'
        )
    return Problem(file, mark.line + 1, mark.column + 1, message)


def _compose(text: str) -> list[yaml.Node]:
    """The YAML node tree, by libyaml when PyYAML has it (several times faster).

    A file that does not parse is parsed again by the pure-Python parser, whose complaints
    are the ones `_YAML_HINTS` turns into advice.
    """
    if _FAST_LOADER is not None:
        try:
            return list(yaml.compose_all(text, Loader=_FAST_LOADER))
        except yaml.YAMLError:
            pass
    return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def read_yaml(text: str, file: str) -> Document:
    """Parse one YAML document keeping positions; raise `FlowError` listing every problem."""
    try:
        nodes = _compose(text)
    except yaml.YAMLError as exc:
        raise FlowError(file, [_syntax_problem(file, text, exc)]) from None
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
    builder = _Builder(file, text)
    data = builder.build(nodes[0], ()) if nodes and nodes[0] is not None else None
    if builder.problems:
        raise FlowError(file, builder.problems)
    return Document(
        file, data, text, builder.doc_values, builder.doc_keys, builder.plain, builder.comments
    )
