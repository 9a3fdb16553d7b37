"""`menu`: the caller picks an option by key (or by saying it); failed attempts re-prompt."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..node import FieldIssue, Goto, Node, Outcome, Target, Transition
from ..runtime.context import StepContext
from ..runtime.events import Event, EventKind
from ..schema import builtin_node_schema
from .prompting import PROMPT_FIELDS, ask, retry, retry_transitions

_WORD = re.compile(r"[^\w\s]", re.UNICODE)


def _normal(text: str) -> str:
    return " ".join(_WORD.sub(" ", text.lower()).split())


class MenuNode(Node):
    type_name = "menu"
    schema = builtin_node_schema("menu")
    template_fields = PROMPT_FIELDS
    target_fields = ("options.*", "options.*.next", "on_failure")
    waits = True

    def targets(self) -> list[Target]:
        found = [
            Target(
                ("options", key) if isinstance(option, str) else ("options", key, "next"),
                _target(option),
                key,
            )
            for key, option in self.spec["options"].items()
        ]
        if self.field("on_failure"):
            found.append(Target(("on_failure",), self.spec["on_failure"], "failure"))
        return found

    def transitions(self) -> list[Transition]:
        options = [Transition(str(key), _target(o)) for key, o in self.spec["options"].items()]
        return [*options, *retry_transitions(self)]

    def spoken(self) -> dict[str, list[str]]:
        return {
            key: list(option.get("say", ()))
            for key, option in self.spec["options"].items()
            if not isinstance(option, str)
        }

    def check(self) -> Iterator[FieldIssue]:
        owner: dict[str, str] = {}
        for key, words in self.spoken().items():
            for i, word in enumerate(words):
                spoken = _normal(word)
                if spoken in owner and owner[spoken] != key:
                    yield FieldIssue(
                        ("options", key, "say", i),
                        f'"{word}" is also a spoken word of option "{owner[spoken]}": a caller saying it '
                        "would always get the first: keep it under one option",
                    )
                owner.setdefault(spoken, key)
        if "speech" in self.field("input", "dtmf") and not owner:
            yield FieldIssue(
                ("input",),
                "callers may speak, but no option has spoken words: add `say: [...]` to the options "
                "or use `input: dtmf`",
                warning=True,
            )

    def enter(self, ctx: StepContext, lead_in: str | None = None) -> Outcome:
        hints = [w for words in self.spoken().values() for w in words]
        input_kind = self.field("input", "dtmf")
        options: dict[str, Any] = {"num_digits": 1 if "dtmf" in input_kind else None}
        if "#" in self.spec["options"]:
            # Twilio ends keypad input at `#` by default, which would swallow this option.
            options["finish_on_key"] = ""
        if hints and "speech" in input_kind:
            options["hints"] = ", ".join(hints)
        return ask(self, ctx, options, lead_in)

    def resume(self, ctx: StepContext, event: Event) -> Outcome:
        if event.kind is EventKind.INPUT and event.has_input:
            key = self.choice(event.digits, event.speech)
            if key is not None:
                return Goto(_target(self.spec["options"][key]), via=key)
            return retry(self, ctx, "no_match", self.enter)
        return retry(self, ctx, "no_input", self.enter)

    def choice(self, digits: str, speech: str) -> str | None:
        """The key of the option the caller's answer picks, or None when it matches none."""
        options = self.spec["options"]
        if digits:
            return digits[:1] if digits[:1] in options else None
        said = f" {_normal(speech)} "
        for key, words in self.spoken().items():
            if any(f" {_normal(word)} " in said for word in words):
                return key
        if _normal(speech) in options:
            return _normal(speech)
        return None


def _target(option: Any) -> str:
    return option if isinstance(option, str) else option["next"]
