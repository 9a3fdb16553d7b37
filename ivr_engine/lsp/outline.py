"""Where the cursor is in a flow file that is being typed and may not parse as YAML yet.

Completion is asked for mid-word (`next: sal`, `  ty`, `{{ call.fr`), when the YAML reader
may refuse the whole file, so the place is read from indentation alone: each line's key,
its column, and the keys of the maps above it (list items count as `*`, as in the patterns
of `Node.target_fields`). Go-to-definition and the rest use the reader's exact positions.
Lines and columns count from 0 here, as the Language Server Protocol does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ITEM = "*"  # a list item in a path, as `iter_field` patterns write it

_LINE = re.compile(r"^(?P<indent> *)(?P<dashes>(?:-(?: +|$))*)(?P<rest>.*)$")
_KEY = re.compile(r"""^(?P<key>"[^"]*"|'[^']*'|[^\s#'"{\[\]}][^:#]*?)[ \t]*:(?=[ \t]|$)""")
_TOKEN = re.compile(r""""(?:[^"\\]|\\.)*"?|'(?:[^']|'')*'?|[^\s:,\[\]{}#]+""")


@dataclass(frozen=True)
class Line:
    """One line of the file: where its content starts, and its key if it has one."""

    number: int
    indent: int  # where the first `-` or key starts
    items: int  # how many `- ` list markers start the line
    column: int  # where the key (or the scalar of a list item) starts
    key: str | None
    value_column: int | None  # where the text after `key:` starts


@dataclass(frozen=True)
class Place:
    """The cursor's place: the keys of the maps it sits in and what is typed before it."""

    parents: tuple[str, ...]  # keys above the cursor's line, outermost first
    key: str | None  # the key on the cursor's line when the cursor is after its colon
    before: str  # the line's text before the cursor
    word: str  # the word being typed just before the cursor

    @property
    def path(self) -> tuple[str, ...]:
        return (*self.parents, self.key) if self.key is not None else self.parents


def parse_line(number: int, text: str) -> Line | None:
    """A line's structure; None for a blank or comment-only line."""
    text = text.rstrip("\r\n")
    stripped = text.strip()
    if not stripped or stripped.startswith("#"):
        return None
    found = _LINE.match(text)
    if found is None:  # pragma: no cover - the pattern matches any line
        return None
    indent = len(found["indent"])
    dashes = found["dashes"]
    column = indent + len(dashes)
    key_match = _KEY.match(found["rest"])
    if key_match is None:
        return Line(number, indent, dashes.count("-"), column, None, None)
    key = unquote(key_match["key"])
    after = found["rest"][key_match.end() + 1 :]
    value_column = column + key_match.end() + 1 + (len(after) - len(after.lstrip()))
    return Line(number, indent, dashes.count("-"), column, key, value_column)


def unquote(key: str) -> str:
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "'\"":
        return key[1:-1]
    return key


def _stack_before(lines: list[str], stop: int) -> list[tuple[int, str]]:
    """(column, key) of every open map key above line `stop`; list items as (indent, `*`)."""
    stack: list[tuple[int, str]] = []
    for number in range(stop):
        line = parse_line(number, lines[number])
        if line is None:
            continue
        _enter(stack, line)
        if line.key is not None:
            stack.append((line.column, line.key))
    return stack


def _enter(stack: list[tuple[int, str]], line: Line) -> None:
    """Close what `line` dedents out of, then open the list items it starts."""
    limit = line.indent if line.items else line.column
    while stack and stack[-1][0] >= limit:
        stack.pop()
    for i in range(line.items):
        stack.append((line.indent + 2 * i, ITEM))


def path_of_line(lines: list[str], number: int) -> tuple[str, ...]:
    """The keys above line `number`, outermost first (not its own key)."""
    stack = _stack_before(lines, number)
    line = parse_line(number, lines[number])
    if line is not None:
        _enter(stack, line)
    return tuple(key for _, key in stack)


def place(lines: list[str], number: int, character: int) -> Place:
    """The cursor's place at (line, character), on a line that may be half typed."""
    text = lines[number].rstrip("\r\n") if number < len(lines) else ""
    before = text[:character]
    word_match = re.search(r"[\w.-]*$", before)
    word = word_match.group() if word_match else ""
    stack = _stack_before(lines, number)
    line = parse_line(number, before) if before.strip() else None
    if line is None:  # a blank line: the cursor's column is the indentation typed so far
        column = len(before)
        while stack and stack[-1][0] >= column:
            stack.pop()
        return Place(tuple(k for _, k in stack), None, before, word)
    _enter(stack, line)
    parents = tuple(k for _, k in stack)
    if line.key is not None and line.value_column is not None and character >= line.value_column:
        return Place(parents, line.key, before, word)
    if line.key is not None and len(before.rstrip()) > line.column + len(line.key):
        return Place(parents, line.key, before, word)  # just after `key:`
    return Place(parents, None, before, word)


def entries(lines: list[str]) -> list[tuple[tuple[str, ...], Line]]:
    """Every line that has a key, with the keys above it: the whole file in one pass."""
    found: list[tuple[tuple[str, ...], Line]] = []
    stack: list[tuple[int, str]] = []
    for n, raw in enumerate(lines):
        line = parse_line(n, raw)
        if line is None:
            continue
        _enter(stack, line)
        if line.key is not None:
            found.append((tuple(k for _, k in stack), line))
            stack.append((line.column, line.key))
    return found


def value_text(lines: list[str], line: Line) -> str:
    """The scalar written after `key:` on a line, without quotes or a trailing comment."""
    if line.value_column is None:
        return ""
    text = lines[line.number].rstrip("\r\n")
    start, end = token_at(text, line.value_column)
    return unquote(text[start:end]) if end > start else ""


def token_at(text: str, column: int) -> tuple[int, int]:
    """The start and end columns of the word or quoted text that starts at `column`."""
    found = _TOKEN.match(text, column)
    if found is None or found.end() == column:
        return column, min(column + 1, max(len(text.rstrip("\r\n")), column))
    return column, found.end()


def template_before(before: str) -> str | None:
    """The text of the `{{ ... }}` the cursor is in, up to the cursor; None outside one."""
    start = before.rfind("{{")
    if start < 0 or before.rfind("}}") > start:
        return None
    return before[start + 2 :]
