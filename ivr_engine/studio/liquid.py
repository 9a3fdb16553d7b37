"""Studio's Liquid -> the engine's Jinja2, for texts and for conditions.

Studio writes every dynamic value in Liquid (`{{widgets.menu.Digits | downcase}}`,
`{% if flow.variables.tries %}...{% endif %}`). The importer turns each into the Jinja2 the
engine renders: variable roots are renamed by a `Resolver` the importer supplies (it knows
which widget became which node), and the filters and tags Studio flows use are rewritten.
Anything that has no faithful translation is never dropped: it stays in the text as a marked
TODO (`[TODO Studio Liquid: ...]`, kept verbatim inside `{% raw %}`) and is listed in
`Translation.todos` for the report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# A Liquid variable path (`widgets.http_1.parsed.items[0].name`) split into its parts.
Parts = list[str | int]
# Returns the Jinja2 expression for a path, or None when it has no counterpart.
Resolver = Callable[[Parts], str | None]

TODO_MARK = "TODO Studio Liquid"
_TAGS = re.compile(r"({{-?.*?-?}}|{%-?.*?-?%})", re.DOTALL)
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"[^"]*"|'[^']*')
      | (?P<range>\(\s*[^()]+?\s*\.\.\s*[^()]+?\s*\))
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|<>|<=|>=|<|>)
      | (?P<path>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\s*(?:\d+|"[^"]*"|'[^']*')\s*\])*)
    )""",
    re.VERBOSE,
)
_LITERALS = {"true": "true", "false": "false", "nil": "none", "null": "none"}
_EMPTY = {"blank", "empty"}


class Untranslatable(ValueError):
    """A piece of Liquid with no faithful Jinja2 counterpart; the message says what."""


@dataclass
class Translation:
    text: str
    todos: list[str] = field(default_factory=list)
    uses_clock: bool = False  # a `date` filter on "now": Studio evaluates it in Pacific time


@dataclass
class _State:
    resolve: Resolver
    local: set[str] = field(default_factory=set)
    uses_clock: bool = False


def translate_text(source: str, resolve: Resolver) -> Translation:
    """A Liquid text (prompt, body, variable value) as a Jinja2 template."""
    if "{" not in source:
        return Translation(source)
    state = _State(resolve)
    pieces: list[str] = []
    todos: list[str] = []
    failed_block = False
    for chunk in _TAGS.split(source):
        if not chunk:
            continue
        if chunk.startswith("{{"):
            try:
                pieces.append("{{ " + _output(_inner(chunk), state) + " }}")
            except Untranslatable:
                todos.append(chunk)
                pieces.append(_todo(chunk))
        elif chunk.startswith("{%"):
            try:
                pieces.append(_tag(_inner(chunk), state))
            except Untranslatable:
                failed_block = True
                todos.append(chunk)
        else:
            pieces.append(_literal_text(chunk))
    if failed_block:  # a block half translated would not pair up: keep the whole text
        return Translation(_todo(source), [source], state.uses_clock)
    return Translation("".join(pieces), todos, state.uses_clock)


def translate_expression(source: str, resolve: Resolver) -> tuple[str, bool]:
    """A Liquid text used as a value (a split's input) as one Jinja2 expression.

    Returns the expression and whether it uses the clock; raises `Untranslatable`.
    """
    state = _State(resolve)
    parts: list[str] = []
    for chunk in _TAGS.split(source):
        if not chunk:
            continue
        if chunk.startswith("{{"):
            parts.append("(" + _output(_inner(chunk), state) + ")")
        elif chunk.startswith("{%"):
            raise Untranslatable(f"a {chunk.strip()} tag inside a value")
        else:
            parts.append(_quote(chunk))
    if not parts:
        return "''", False
    return " ~ ".join(parts), state.uses_clock


def todo_expression(source: str) -> str:
    """A condition that is never true and says what was not translated."""
    return f"false and {_quote(f'{TODO_MARK}: {source}')}"


def quote(text: str) -> str:
    return _quote(text)


# ---- pieces -------------------------------------------------------------------------


def _todo(source: str) -> str:
    return "{% raw %}[" + TODO_MARK + ": " + source.replace("{% endraw %}", "") + "]{% endraw %}"


def _literal_text(text: str) -> str:
    """Plain text between tags; a stray `{` that Jinja2 would misread is escaped."""
    if "{#" in text or "{{" in text or "{%" in text:
        return "{% raw %}" + text + "{% endraw %}"
    return text


def _inner(chunk: str) -> str:
    body = chunk[2:-2]
    return body.strip("-").strip()


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _split_top(text: str, sep: str) -> list[str]:
    """Split at `sep` outside quotes."""
    out, current, quote_char = [], [], ""
    for char in text:
        if quote_char:
            current.append(char)
            if char == quote_char:
                quote_char = ""
        elif char in "'\"":
            quote_char = char
            current.append(char)
        elif char == sep:
            out.append("".join(current))
            current = []
        else:
            current.append(char)
    out.append("".join(current))
    return out


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise Untranslatable(f"cannot read {text[pos:].strip()!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        pos = match.end()
    return found


def _path_parts(path: str) -> Parts:
    parts: Parts = []
    for name, index in re.findall(r"([A-Za-z_][\w-]*)|\[\s*([^\]]+?)\s*\]", path):
        if name:
            parts.append(name)
        elif index.isdigit():
            parts.append(int(index))
        else:
            parts.append(index.strip("'\""))
    return parts


def _value(kind: str, text: str, state: _State) -> str:
    if kind == "string":
        return _quote(text[1:-1])
    if kind == "number":
        return text
    if kind == "range":
        low, high = (part.strip() for part in text.strip("()").split(".."))
        low_v = _value(*_tokens(low)[0], state)
        high_v = _value(*_tokens(high)[0], state)
        return f"range({low_v} | int, ({high_v} | int) + 1)"
    if kind == "path":
        if text in _LITERALS:
            return _LITERALS[text]
        if text in _EMPTY:
            return "''"
        parts = _path_parts(text)
        if len(parts) == 1 and parts[0] in state.local:
            return str(parts[0])
        resolved = state.resolve(parts)
        if resolved is None:
            raise Untranslatable(f"{text} has no counterpart in the engine")
        return resolved
    raise Untranslatable(f"unexpected {text!r}")


def _single(text: str, state: _State) -> str:
    tokens = _tokens(text)
    if len(tokens) != 1:
        raise Untranslatable(f"cannot read {text.strip()!r}")
    return _value(*tokens[0], state)


def _output(body: str, state: _State) -> str:
    """`value | filter: arg, arg | filter` -> a Jinja2 expression."""
    head, *filters = _split_top(body, "|")
    value_text = head.strip()
    expression = _single(value_text, state) if value_text else "''"
    for raw in filters:
        name, _, arg_text = raw.strip().partition(":")
        args = [_single(a, state) for a in _split_top(arg_text, ",")] if arg_text.strip() else []
        expression = _filter(name.strip(), expression, args, value_text, state)
    return expression


def _number_arg(args: list[str], name: str) -> str:
    if len(args) != 1:
        raise Untranslatable(f"{name} takes one value")
    arg = args[0]
    return arg if re.fullmatch(r"-?\d+(\.\d+)?", arg) else f"({arg} | float)"


def _filter(name: str, value: str, args: list[str], source: str, state: _State) -> str:
    simple = {
        "downcase": "lower",
        "upcase": "upper",
        "strip": "trim",
        "capitalize": "capitalize",
        "size": "length",
        "first": "first",
        "last": "last",
        "url_encode": "urlencode",
        "escape": "e",
        "abs": "abs",
    }
    if name in simple and not args:
        return f"({value} | {simple[name]})"
    if name in ("lstrip", "rstrip") and not args:
        return f"({value} | string).{name}()"
    if name in ("plus", "minus", "times"):
        arg = _number_arg(args, name)
        cast = "float" if "." in arg or "float" in arg else "int"
        op = {"plus": "+", "minus": "-", "times": "*"}[name]
        return f"(({value} | {cast}) {op} {arg})"
    if name == "divided_by":
        arg = _number_arg(args, name)
        op = "/" if "." in arg or "float" in arg else "//"
        return f"(({value} | int) {op} {arg})"
    if name == "modulo":
        return f"(({value} | int) % {_number_arg(args, name)})"
    if name == "default" and len(args) == 1:
        return f"({value} | default({args[0]}, true))"
    if name == "append" and len(args) == 1:
        return f"({value} ~ {args[0]})"
    if name == "prepend" and len(args) == 1:
        return f"({args[0]} ~ {value})"
    if name == "remove" and len(args) == 1:
        return f"({value} | replace({args[0]}, ''))"
    if name == "replace" and len(args) == 2:
        return f"({value} | replace({args[0]}, {args[1]}))"
    if name == "split" and len(args) == 1:
        return f"({value} | string).split({args[0]})"
    if name == "join" and len(args) <= 1:
        return f"({value} | join({args[0] if args else _quote(' ')}))"
    if name == "round":
        return f"({value} | float | round({args[0] if args else 0}))"
    if name == "date" and len(args) == 1:
        if source.strip("'\" ").lower() in ("now", "today"):
            state.uses_clock = True
            return f"now.strftime({args[0]})"
        raise Untranslatable("date of a value other than now")
    raise Untranslatable(f"the filter {name}")


# ---- tags ---------------------------------------------------------------------------


def _tag(body: str, state: _State) -> str:
    name, _, rest = body.partition(" ")
    rest = rest.strip()
    if name in ("if", "elsif", "unless"):
        condition = _condition(rest, state)
        if name == "unless":
            return "{% if not (" + condition + ") %}"
        return "{% " + ("if" if name == "if" else "elif") + " " + condition + " %}"
    if name in ("else", "endif", "endfor"):
        return "{% " + name + " %}"
    if name == "endunless":
        return "{% endif %}"
    if name == "assign":
        target, eq, value = rest.partition("=")
        target = target.strip()
        if not eq or not re.fullmatch(r"[A-Za-z_]\w*", target):
            raise Untranslatable("assign")
        expression = _output(value.strip(), state)
        state.local.add(target)
        return "{% set " + target + " = " + expression + " %}"
    if name == "for":
        match = re.fullmatch(r"([A-Za-z_]\w*)\s+in\s+(.+)", rest)
        if not match:
            raise Untranslatable("for")
        target, collection = match.groups()
        source = _single(collection, state)
        state.local.add(target)
        return "{% for " + target + " in " + source + " %}"
    if name == "comment":
        return "{#"
    if name == "endcomment":
        return "#}"
    raise Untranslatable(f"the tag {name}")


def _condition(text: str, state: _State) -> str:
    """`a == 'x' and b contains 'y'` -> Jinja2. Liquid has no brackets and no filters here."""
    words = re.split(r"\s+(and|or)\s+", text.strip())
    out: list[str] = []
    for i, word in enumerate(words):
        if i % 2:
            out.append(word)
            continue
        out.append(_comparison(word, state))
    return " ".join(out)


def _comparison(text: str, state: _State) -> str:
    contains = re.split(r"\s+contains\s+", text, maxsplit=1)
    if len(contains) == 2:
        whole = _single(contains[0], state)
        part = _single(contains[1], state)
        return f"({part} in {whole})"
    tokens = _tokens(text)
    if len(tokens) == 1:
        return _value(*tokens[0], state)
    if len(tokens) == 3 and tokens[1][0] == "op":
        (lk, lv), (_, op), (rk, rv) = tokens
        op = "!=" if op == "<>" else op
        if (lk == "path" and lv in _EMPTY) or (rk == "path" and rv in _EMPTY):
            other = (rk, rv) if lk == "path" and lv in _EMPTY else (lk, lv)
            return f"(({_value(*other, state)} | default('', true) | string | trim) {op} '')"
        left_e, right_e = _value(lk, lv, state), _value(rk, rv, state)
        if op in ("<", ">", "<=", ">="):  # Liquid compares numbers; Studio values are text
            left_e = left_e if lk == "number" else f"({left_e} | float)"
            right_e = right_e if rk == "number" else f"({right_e} | float)"
        return f"{left_e} {op} {right_e}"
    raise Untranslatable(f"the condition {text!r}")
