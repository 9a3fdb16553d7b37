"""How the engine names places in a flow and suggests fixes, in words for business users.

Every author-facing message is built from these helpers, so the same field is always named
the same way: `node "main_menu", option "4"`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from .node import FieldPath


def quote(value: object) -> str:
    return f'"{value}"'


SUGGEST_CUTOFF = 0.6  # difflib similarity above which a word counts as a slip for another


def suggest(word: str, choices: Iterable[str]) -> str:
    """` (did you mean "sales"?)` when a close choice exists, else empty."""
    close = difflib.get_close_matches(
        str(word), [str(c) for c in choices], n=1, cutoff=SUGGEST_CUTOFF
    )
    return f" (did you mean {quote(close[0])}?)" if close else ""


def choices(values: Iterable[object]) -> str:
    items = [str(v) for v in values]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


_MAP_FIELDS = {
    "headers": "header",
    "query": "query parameter",
    "json": "JSON field",
    "form": "form field",
}


def describe_field(path: FieldPath) -> str:
    """Name a field inside a node: `option "4"`, `outcome "busy"`, `case 2, when`, `field "timeout"`."""
    if not path:
        return ""
    head, rest = path[0], path[1:]
    if head == "options" and rest:
        words = f'option "{rest[0]}"'
        if len(rest) >= 3 and rest[1] == "say":
            return f"{words}, spoken word {int(rest[2]) + 1}"
        return words
    if head == "on" and rest:
        return f'outcome "{rest[0]}"'
    if head == "cases" and rest:
        words = f"case {int(rest[0]) + 1}"
        return f"{words}, {rest[1]}" if len(rest) > 1 else words
    if head == "vars" and rest:
        return f'variable "{rest[0]}"'
    if head == "schedule" and rest:
        return f'schedule "{rest[0]}"' + (f", range {int(rest[1]) + 1}" if len(rest) > 1 else "")
    if head == "holidays" and rest:
        return f"holiday {int(rest[0]) + 1}"
    if head == "return" and rest:
        return f'returned value "{rest[0]}"'
    if head in _MAP_FIELDS and rest:
        return f"{_MAP_FIELDS[head]} {quote(rest[0])}"
    if head == "template_vars" and rest:
        return f'template variable "{rest[0]}"'
    names = [str(p) for p in path if not isinstance(p, int)]
    items = [f"item {p + 1}" for p in path if isinstance(p, int)]
    if path[-1:] and isinstance(path[-1], int) and len(names) == len(path) - 1:
        return ", ".join(["field " + quote(".".join(names)), *items])
    return "field " + quote(".".join(str(p) for p in path))


def describe(path: FieldPath) -> str:
    """Name any place in a flow file by its path from the top."""
    if len(path) >= 2 and path[0] == "nodes":
        where = f'node "{path[1]}"'
        inner = describe_field(path[2:])
        return f"{where}, {inner}" if inner else where
    if len(path) >= 2 and path[0] == "vars":
        return f'variable "{path[1]}"'
    if path:
        return f'"{path[0]}"'
    return "the flow"
