"""Sandboxed Jinja2 templates and expressions, compiled once per flow version.

Flow text is written by business users and rendered on every call, so it runs in Jinja2's
`ImmutableSandboxedEnvironment` (no attribute tricks, no mutation of call data), undefined
names render as errors rather than silently as empty text, and every template is compiled
when the flow is loaded so a webhook step only renders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .wording import quote, suggest

# Names every template may use besides flow variables.
BUILTIN_NAMES = frozenset({"call", "now", "language", "contact"})

# Twilio parameters that become `call.*` in templates (`call.from_city`, ...).
CALL_FIELDS = {
    "CallSid": "sid",
    "AccountSid": "account_sid",
    "From": "from",
    "To": "to",
    "Direction": "direction",
    "CallerName": "caller_name",
    "ForwardedFrom": "forwarded_from",
    "FromCity": "from_city",
    "FromState": "from_state",
    "FromZip": "from_zip",
    "FromCountry": "from_country",
    "ToCity": "to_city",
    "ToState": "to_state",
    "ToZip": "to_zip",
    "ToCountry": "to_country",
    "CallStatus": "status",  # the latest one: "completed", "busy"... once the call has ended
    "CallDuration": "duration",  # seconds, known once the call has ended (0 before)
    # Outbound calls with answering-machine detection: human, machine_start, fax, unknown...
    "AnsweredBy": "answered_by",
}


def _digits(value: Any) -> str:
    """Speak a number digit by digit ("1234" -> "1 2 3 4"), as IVRs read account numbers."""
    return " ".join(str(value))


def _matching(value: Any, pattern: str) -> bool:
    """`answer is matching('[0-9]+')`: the whole text matches the regular expression."""
    try:
        return re.fullmatch(pattern, str(value)) is not None
    except re.error:
        return False


@lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )
    env.filters["digits"] = _digits
    env.tests["matching"] = _matching
    return env


class TemplateSyntaxProblem(ValueError):
    """A template or expression does not compile; the message is written for flow authors."""


_GOT = re.compile(r"expected token '[^']*', got '([^']*)'")
_FILTER = re.compile(r"No (filter|test) named '([^']*)'")
_SINGLE_EQUALS = re.compile(r"(?<![=!<>])=(?!=)")
_OPEN_BLOCK = re.compile(r"The innermost block that needs to be closed is '([^']*)'")


def _explain(exc: jinja2.TemplateSyntaxError, source: str, what: str) -> str:
    """Jinja2's complaint, reworded for flow authors with the fix for the usual slips.

    `what` is "template" or "condition". Conditions are parsed wrapped in `{{ ( ... ) }}`,
    so Jinja2's "expected ')'" is about the author's text, not a bracket they wrote.
    """
    message = (exc.message or "").strip()
    lead = f"this {what} does not work"
    if found := _FILTER.search(message):
        kind, name = found.groups()
        known = environment().filters if kind == "filter" else environment().tests
        return f"{lead}: there is no {kind} {quote(name)}{suggest(name, known)}"
    if what == "condition" and _SINGLE_EQUALS.search(source) and "'='" in message:
        return f"{lead}: to compare two values write == (two equals signs), e.g. tier == 'gold'"
    if what == "template":
        if message == "unexpected '}'":
            return f"{lead}: a {{{{ is closed with a single }}: write }}}} (two braces)"
        if message.startswith("unexpected end of template, expected 'end of print statement'"):
            return f"{lead}: a {{{{ is never closed: end it with }}}}"
        if (got := _GOT.match(message)) and "end of print statement" in message:
            return (
                f"{lead}: {quote(got.group(1))} is unexpected inside {{{{ }}}}: a variable name "
                "has no spaces (write first_name), and each {{ ends with }}"
            )
    if found := _OPEN_BLOCK.search(message):
        tag = found.group(1)
        return f"{lead}: a {{% {tag} %}} is never closed: end it with {{% end{tag} %}}"
    if message.startswith("unexpected char"):
        return f"{lead}: a quote is not closed: put text in matching quotes, e.g. 'gold'"
    if what == "condition":
        if not _brackets_pair(source):
            return f"{lead}: its brackets ( ) do not pair up: give each ( its )"
        if message == "unexpected ')'" or "end of template" in message:
            return f"{lead}: it ends too early: something is missing at its end"
        if (got := _GOT.match(message)) and message.startswith("expected token ')'"):
            message = f"unexpected {quote(got.group(1))}"
    return f"{lead}: {message.rstrip('.')}" if message else lead


def _brackets_pair(source: str) -> bool:
    depth = 0
    for char in re.sub(r"'[^']*'|\"[^\"]*\"", "", source):  # brackets in quotes do not count
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


@lru_cache(maxsize=8192)
def _template(source: str) -> jinja2.Template:
    """Compile a template once per process; flows repeat the same texts across versions."""
    return environment().from_string(source)


@dataclass(frozen=True)
class CompiledText:
    """A text field: one template, or one per language.

    Loading only parses (cheap, and enough to report syntax errors and variables); the
    Python code for a template is generated on first render, or ahead by `warm()`.
    Texts without `{` never touch Jinja2 at all.
    """

    by_language: Mapping[str, str]
    variables: frozenset[str]
    call_fields: frozenset[str] = frozenset()
    contact_fields: frozenset[str] = frozenset()

    def source(self, language: str) -> str:
        found = self.by_language.get(language) or self.by_language.get("*")
        if found is not None:
            return found
        base = language.split("-")[0].lower()
        for lang, text in self.by_language.items():
            if lang.split("-")[0].lower() == base:
                return text
        return next(iter(self.by_language.values()))

    def static(self, language: str) -> str | None:
        """The text in `language` when it is plain text (no template), else None.

        Most prompts are plain: a caller can skip building a scope for them.
        """
        text = self.source(language)
        return text.strip() if "{" not in text else None

    def render(self, scope: Mapping[str, Any], language: str) -> str:
        text = self.source(language)
        if "{" not in text:
            return text.strip()
        return _template(text).render(scope).strip()

    def warm(self) -> None:
        for text in self.by_language.values():
            if "{" in text:
                _template(text)

    @classmethod
    def joined(cls, parts: Mapping[str, CompiledText]) -> CompiledText:
        """One text per language, from each language's text checked on its own."""
        return cls(
            {str(lang): part.source("*") for lang, part in parts.items()},
            frozenset().union(*(part.variables for part in parts.values())),
            frozenset().union(*(part.call_fields for part in parts.values())),
            frozenset().union(*(part.contact_fields for part in parts.values())),
        )


@lru_cache(maxsize=8192)
def check_template(source: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Parse a template; return the names it reads, and the `call.*` and `contact.*` fields.

    Raises `TemplateSyntaxProblem` when it does not compile. Only parses: generating the
    template's Python code waits until it is first rendered (or `warm()`). Remembered per
    text, since flows repeat texts and a reloaded flow keeps most of them.
    """
    if "{" not in source:
        return frozenset(), frozenset(), frozenset()
    try:
        return _inspect(environment().parse(source))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateSyntaxProblem(_explain(exc, source, "template")) from None


def _inspect(ast: nodes.Node) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The names a parsed template reads from outside, and the `call.*` and `contact.*` fields.

    Answers what `jinja2.meta.find_undeclared_variables` would for flow texts without
    generating code (most of the load time of a large flow): every name loaded, less those
    the template sets itself (`loop` inside a for loop is Jinja2's own). Unknown filters and
    tests, which Jinja2 would only notice when generating code, raise here.
    """
    env = environment()
    loaded: set[str] = set()
    own: set[str] = set()
    fields: dict[str, set[str]] = {"call": set(), "contact": set()}
    for node in (ast, *ast.find_all(nodes.Node)):
        if isinstance(node, nodes.Name):
            (loaded if node.ctx == "load" else own).add(node.name)
        elif isinstance(node, nodes.Filter | nodes.Test):
            kind = "filter" if isinstance(node, nodes.Filter) else "test"
            if node.name not in (env.filters if kind == "filter" else env.tests):
                raise jinja2.TemplateAssertionError(f"No {kind} named '{node.name}'.", node.lineno)
        elif isinstance(node, nodes.For):
            own.add("loop")
        if (
            isinstance(node, nodes.Getattr | nodes.Getitem)
            and isinstance(node.node, nodes.Name)
            and node.node.name in fields
        ):
            key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
            if isinstance(key, str):
                fields[node.node.name].add(key)
    return frozenset(loaded - own), frozenset(fields["call"]), frozenset(fields["contact"])


def compile_text(value: Any) -> CompiledText:
    """Check a text field: a string, or a map of language -> string."""
    if isinstance(value, Mapping):
        sources = {str(lang): str(text) for lang, text in value.items()}
    else:
        sources = {"*": "" if value is None else str(value)}
    names: set[str] = set()
    call_fields: set[str] = set()
    contact_fields: set[str] = set()
    for text in sources.values():
        read, fields, contact = check_template(text)
        names |= read
        call_fields |= fields
        contact_fields |= contact
    return CompiledText(
        sources, frozenset(names), frozenset(call_fields), frozenset(contact_fields)
    )


@dataclass(frozen=True)
class CompiledExpression:
    """A checked condition; its Python code is generated on first use (or by `warm()`)."""

    source: str
    variables: frozenset[str]
    call_fields: frozenset[str] = frozenset()
    contact_fields: frozenset[str] = frozenset()

    @property
    def function(self) -> Any:
        return _expression(self.source)

    def evaluate(self, scope: Mapping[str, Any]) -> Any:
        return self.function(**scope)

    def warm(self) -> None:
        _expression(self.source)


@lru_cache(maxsize=8192)
def _expression(source: str) -> Any:
    return environment().compile_expression(source, undefined_to_none=False)


@lru_cache(maxsize=8192)
def compile_expression(source: str) -> CompiledExpression:
    """Check a condition exactly as Jinja2 will compile it, without generating code yet."""
    env = environment()
    try:
        parser = Parser(env, source, state="variable")
        expression = parser.parse_expression()
        if not parser.stream.eos:
            raise jinja2.TemplateSyntaxError("chunk after expression", parser.stream.current.lineno)
        names, fields, contact = _inspect(expression)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateSyntaxProblem(_explain(_clearer(exc, source), source, "condition")) from None
    return CompiledExpression(source, names, fields, contact)


def _clearer(exc: jinja2.TemplateSyntaxError, source: str) -> jinja2.TemplateSyntaxError:
    """Jinja2 words most slips in a condition better when it sits inside `{{ ( ... ) }}`."""
    if exc.message and exc.message.startswith("No "):
        return exc  # an unknown filter or test: already clear
    try:
        environment().parse("{{ (" + source + ") }}")
    except jinja2.TemplateSyntaxError as wrapped:
        return wrapped
    return exc


def clear_caches() -> None:
    """Forget every checked and compiled template (benchmarks time a first load with it)."""
    for cached in (check_template, compile_expression, _template, _expression):
        cached.cache_clear()
