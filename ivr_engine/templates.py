"""Sandboxed Jinja2 templates and expressions, compiled once per flow version.

Flow text is written by business users and rendered on every call, so it runs in Jinja2's
`ImmutableSandboxedEnvironment` (no attribute tricks, no mutation of call data), undefined
names render as errors rather than silently as empty text, and every template is compiled
when the flow is loaded so a webhook step only renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Names every template may use besides flow variables.
BUILTIN_NAMES = frozenset({"call", "now", "language"})


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


def _explain(exc: jinja2.TemplateSyntaxError) -> str:
    return (
        f"this template does not work: {exc.message}"
        if exc.message
        else "this template does not work"
    )


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


def check_template(source: str) -> frozenset[str]:
    """Parse a template; return the names it reads, or raise `TemplateSyntaxProblem`."""
    if "{" not in source:
        return frozenset()
    try:
        ast = environment().parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateSyntaxProblem(_explain(exc)) from None
    return frozenset(meta.find_undeclared_variables(ast))


def compile_text(value: Any) -> CompiledText:
    """Check a text field: a string, or a map of language -> string."""
    if isinstance(value, Mapping):
        sources = {str(lang): str(text) for lang, text in value.items()}
    else:
        sources = {"*": "" if value is None else str(value)}
    names: set[str] = set()
    for text in sources.values():
        names |= check_template(text)
    return CompiledText(sources, frozenset(names))


@dataclass(frozen=True)
class CompiledExpression:
    source: str
    function: Any
    variables: frozenset[str]

    def evaluate(self, scope: Mapping[str, Any]) -> Any:
        return self.function(**scope)


def compile_expression(source: str) -> CompiledExpression:
    env = environment()
    try:
        ast = env.parse("{{ (" + source + ") }}")
        function = env.compile_expression(source, undefined_to_none=False)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateSyntaxProblem(_explain(exc).replace("template", "condition")) from None
    return CompiledExpression(source, function, frozenset(meta.find_undeclared_variables(ast)))
