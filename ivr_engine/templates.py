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
from jinja2 import meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .wording import quote, suggest

# Names every template may use besides flow variables.
BUILTIN_NAMES = frozenset({"call", "now", "language"})

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
}


def _digits(value: Any) -> str:
    """Speak a number digit by digit ("1234" -> "1 2 3 4"), as IVRs read account numbers."""
    return " ".join(str(value))


@lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )
    env.filters["digits"] = _digits
    return env


class TemplateSyntaxProblem(ValueError):
    """A template or expression does not compile; the message is written for flow authors."""


_GOT = re.compile(r"expected token '[^']*', got '([^']*)'")
_FILTER = re.compile(r"No filter named '([^']*)'")
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
        name = found.group(1)
        return f"{lead}: there is no filter {quote(name)}{suggest(name, environment().filters)}"
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
        unbalanced = message == "unexpected ')'" and source.count(")") <= source.count("(")
        if unbalanced or "end of template" in message:
            return f"{lead}: it ends too early: something is missing at its end"
        if (got := _GOT.match(message)) and message.startswith("expected token ')'"):
            message = f"unexpected {quote(got.group(1))}"
    return f"{lead}: {message.rstrip('.')}" if message else lead


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

    def source(self, language: str) -> str:
        found = self.by_language.get(language) or self.by_language.get("*")
        if found is not None:
            return found
        base = language.split("-")[0].lower()
        for lang, text in self.by_language.items():
            if lang.split("-")[0].lower() == base:
                return text
        return next(iter(self.by_language.values()))

    def render(self, scope: Mapping[str, Any], language: str) -> str:
        text = self.source(language)
        if "{" not in text:
            return text.strip()
        return _template(text).render(scope).strip()

    def warm(self) -> None:
        for text in self.by_language.values():
            if "{" in text:
                _template(text)


def check_template(source: str) -> tuple[frozenset[str], frozenset[str]]:
    """Parse a template; return the names it reads and the `call.*` fields it reads.

    Raises `TemplateSyntaxProblem` when it does not compile.
    """
    if "{" not in source:
        return frozenset(), frozenset()
    try:
        ast = environment().parse(source)
        # finding the names also checks filters exist (TemplateAssertionError)
        names = frozenset(meta.find_undeclared_variables(ast))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateSyntaxProblem(_explain(exc, source, "template")) from None
    return names, _call_fields(ast) if "call" in names else frozenset()


def _call_fields(ast: nodes.Node) -> frozenset[str]:
    """`call.from` and `call['from']` in a parsed template: the call fields it reads."""
    found: set[str] = set()
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        target = node.node
        if isinstance(target, nodes.Name) and target.name == "call":
            if isinstance(node, nodes.Getattr):
                found.add(node.attr)
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                found.add(node.arg.value)
    return frozenset(found)


def compile_text(value: Any) -> CompiledText:
    """Check a text field: a string, or a map of language -> string."""
    if isinstance(value, Mapping):
        sources = {str(lang): str(text) for lang, text in value.items()}
    else:
        sources = {"*": "" if value is None else str(value)}
    names: set[str] = set()
    call_fields: set[str] = set()
    for text in sources.values():
        read, fields = check_template(text)
        names |= read
        call_fields |= fields
    return CompiledText(sources, frozenset(names), frozenset(call_fields))


@dataclass(frozen=True)
class CompiledExpression:
    source: str
    function: Any
    variables: frozenset[str]
    call_fields: frozenset[str] = frozenset()

    def evaluate(self, scope: Mapping[str, Any]) -> Any:
        return self.function(**scope)


def compile_expression(source: str) -> CompiledExpression:
    env = environment()
    try:
        ast = env.parse("{{ (" + source + ") }}")
        names = frozenset(meta.find_undeclared_variables(ast))
        function = env.compile_expression(source, undefined_to_none=False)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateSyntaxProblem(_explain(exc, source, "condition")) from None
    return CompiledExpression(source, function, names, _call_fields(ast))
