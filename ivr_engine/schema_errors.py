"""Schema errors in words: jsonschema's findings about one spot, told as an author would fix them.

Part of the schema stage (`validation.py` runs the validators). jsonschema reports what failed
in schema terms ("'x' is not valid under any of the given schemas"); authors need to know
which field is wrong and what to write instead. Of the errors about one spot the one a human
should fix is kept (`best_match`), and it becomes one sentence naming the node and field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from jsonschema.exceptions import ValidationError, best_match

from .schema import deref, expected_types, ref_name
from .wording import choices, describe, quote, suggest

Words = tuple[tuple[Any, ...], str, bool]  # where, message, point at the key (not the value)

_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a map of fields (name: value lines)",
    "array": "a list",
    "null": "empty",
}
_YAML11_BOOLEANS = {
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Yes",
    "No",
    "On",
    "Off",
    "YES",
    "NO",
    "ON",
    "OFF",
}

_DAY_WORDS = [
    f"{a}-{b}" if b else a
    for a in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for b in ("", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
    if a != b
]


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[0].lower() + text[1:] if text else text


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, dict | list):
        return "a map" if isinstance(value, dict) else "a list"
    return json.dumps(value)


class SchemaWording:
    """Words for the schema errors of flows checked against one composed schema."""

    def __init__(self, defs: dict[str, Any], node_types: list[str]) -> None:
        self.defs = defs
        self.node_types = node_types
        self._language_pattern = defs.get("language", {}).get("pattern")

    def spot(self, errors: list[ValidationError]) -> Iterator[Words]:
        """The problems worth telling about one spot: usually one, the best match.

        A misspelt field (`promt:`) fails twice at the same spot, as an unknown field and as
        a missing required one; the unknown field's "did you mean" says all, so the missing
        field is told only when no unknown field looks like it.
        """
        extras = [e for e in errors if e.validator == "additionalProperties"]
        if not extras:
            yield from self._words(best_match(errors))
            return
        yield from self._words(extras[0])
        unknown = [k for k in extras[0].instance if k not in extras[0].schema.get("properties", {})]
        for error in errors:
            if error.validator == "required":
                explained = {
                    name
                    for name in error.validator_value
                    if any(suggest(k, [name]) for k in unknown)
                }
                yield from self._words(error, skip=explained)

    def _pick(self, error: ValidationError) -> ValidationError:
        """Inside anyOf/oneOf, follow the branch that accepts the value's kind."""
        while error.validator in ("anyOf", "oneOf") and error.context:
            same_kind = [
                e
                for e in error.context
                if e.validator != "type" and e.relative_schema_path[0] != "type"
            ]
            # the branch that accepts the type failed for a reason worth telling
            branches = {
                e.relative_schema_path[0]
                for e in error.context
                if e.validator == "type" and len(e.relative_schema_path) <= 2
            }
            candidates = [e for e in same_kind if e.relative_schema_path[0] not in branches]
            if not candidates:
                break
            error = best_match(candidates)
        return error

    def _key_words(self, error: ValidationError, path: tuple[Any, ...]) -> Iterator[Words]:
        """A map key that is not allowed (propertyNames): point at the key itself."""
        bad = str(error.instance)
        key_path = (*path, bad)
        own = deref(error.schema, self.defs)
        where = describe(path)
        if path[-1:] == ("options",):
            message = f"{describe(key_path)}: {quote(bad)} is not a phone key: option keys are one of 0-9, * or #"
        elif path[-1:] == ("on",):
            outcomes = list(error.validator_value) if error.validator == "enum" else []
            noun = own.get("x-noun", "dial outcome")  # the node type's word for its outcomes
            message = (
                f"{where}: {quote(bad)} is not a {noun}{suggest(bad, outcomes)}; "
                f"use {choices(outcomes)}"
            )
        elif path[-1:] == ("schedule",):
            message = (
                f"{where}: {quote(bad)} is not a day or day range{suggest(bad, _DAY_WORDS)}: use "
                "mon, tue, wed, thu, fri, sat or sun, or a range such as mon-fri"
            )
        elif path == ("nodes",):
            message = (
                f"{quote(bad)} cannot be a node id: use letters, digits, _ and -, starting with "
                "a letter or _ (e.g. main_menu)"
            )
        elif path[-1:] == ("vars",):
            prefix = "" if path == ("vars",) else f"{where}: "
            message = (
                f"{prefix}{quote(bad)} cannot be a variable name: use letters, digits and _, "
                "starting with a letter or _ (e.g. account_number)"
            )
        elif own.get("pattern") == self._language_pattern:
            message = (
                f"{where}: {quote(bad)} is not a language code: use a code such as en-US or es-MX"
            )
        else:
            about = (
                own.get("description")
                or own.get("title")
                or f"names must match {own.get('pattern', '?')}"
            )
            message = f"{where}: {quote(bad)} is not allowed as a name here: {_sentence(about)}"
        yield key_path, message, True

    def _words(self, error: ValidationError, skip: set[str] | None = None) -> Iterator[Words]:
        error = self._pick(error)
        path = tuple(error.absolute_path)
        where = describe(path)
        kind = error.validator
        schema = deref(error.schema, self.defs)
        instance = error.instance

        if "propertyNames" in error.schema_path:
            yield from self._key_words(error, path)
            return
        if kind in ("anyOf", "oneOf") and all(e.validator == "type" for e in error.context or ()):
            branches = [b for b in schema.get(kind, []) if isinstance(b, dict)]
            words = [w for b in branches for w in self._kind_words(b)]
            yield self._type_words(
                path, words, instance, "string" in expected_types(schema, self.defs)
            )
            return
        if kind == "additionalProperties" and isinstance(instance, dict):
            yield from self._unknown_fields(path, schema, instance)
            return
        if kind == "required":
            yield from self._missing_fields(
                path, schema, error.validator_value, instance, skip or set()
            )
            return
        if kind == "enum" and path[-1:] == ("type",) and len(path) == 3:
            yield (
                path,
                f"{describe(path[:2])}: {_shown(instance)} is not a node type{suggest(str(instance), self.node_types)}; "
                f"known types are {choices(self.node_types)}",
                False,
            )
            return
        if kind == "enum":
            allowed = [str(v) for v in error.validator_value]
            yield (
                path,
                f"{where}: {_shown(instance)} is not allowed{suggest(str(instance), allowed)}; "
                f"use {choices(error.validator_value)}",
                False,
            )
            return
        if kind == "const":
            yield path, f"{where}: must be {_shown(error.validator_value)}", False
            return
        if kind == "type":
            expected = error.validator_value
            expected_list = [expected] if isinstance(expected, str) else list(expected)
            words = [_TYPE_WORDS.get(t, t) for t in expected_list]
            found = self._type_words(path, words, instance, "string" in expected_list)
            about = schema.get("description")
            if about and {"integer", "number"} & set(expected_list) and not found[2]:
                found = (found[0], f"{found[1]} ({_sentence(about)})", found[2])
            yield found
            return
        if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            bound = error.validator_value
            side = "at least" if "inimum" in kind else "at most"
            yield (
                path,
                f"{where}: {_shown(instance)} is out of range: it must be {side} {bound}",
                False,
            )
            return
        if kind == "pattern" and error.validator_value == self._language_pattern:
            yield (
                path,
                f"{where}: {_shown(instance)} is not a language code: use a code such as en-US or es-MX",
                False,
            )
            return
        if kind == "pattern":
            about = (
                schema.get("description")
                or schema.get("title")
                or f"text matching {error.validator_value}"
            )
            yield (
                path,
                f"{where}: {_shown(instance)} is not valid: expected {_sentence(about)}",
                False,
            )
            return
        if kind in ("minProperties", "minItems"):
            if path == ("nodes",):
                yield path, "the flow has no nodes: add at least one node under `nodes:`", True
            else:
                yield path, f"{where}: is empty: add at least {error.validator_value}", False
            return
        if kind in ("maxItems", "maxLength", "maxProperties"):
            yield path, f"{where}: has too many entries (at most {error.validator_value})", False
            return
        if kind == "minLength":
            yield path, f"{where}: is empty: write something here", False
            return
        yield path, f"{where}: {error.message}", False

    def _kind_words(self, branch: dict[str, Any]) -> list[str]:
        """How an author would name what one anyOf branch accepts."""
        name = ref_name(branch)
        target = deref(branch, self.defs)
        if name is not None and self.defs.get(name, {}).get("title"):
            return ["a " + _sentence(self.defs[name]["title"])]
        names = deref(target.get("propertyNames", {}), self.defs)
        if target.get("type") == "object" and names.get("pattern") == self._language_pattern:
            return ["a map of language -> text"]
        types = target.get("type", [])
        return [_TYPE_WORDS.get(t, t) for t in ([types] if isinstance(types, str) else types)]

    def _type_words(
        self, path: tuple[Any, ...], words: list[str], instance: Any, text_expected: bool
    ) -> Words:
        """The value is of the wrong kind: say what kind it must be, and the usual slip."""
        where = describe(path)
        wanted = " or ".join(dict.fromkeys(words))
        if instance is None:
            wanted = words[0] if words else "a value"
            if path == ("nodes",):
                return path, "the flow has no nodes: add at least one node under `nodes:`", True
            if len(path) == 2 and path[0] == "nodes":
                return path, f"{where}: is empty: give it a type and its fields", True
            if wanted == _TYPE_WORDS["object"]:
                return path, f"{where}: is empty: write its entries below it, indented", True
            if wanted == _TYPE_WORDS["array"]:
                return path, f'{where}: is empty: list its items below it, each after "- "', True
            return path, f"{where}: is empty: write {wanted} after the colon", True
        if path == ("nodes",) and isinstance(instance, list):
            return (
                path,
                '"nodes": must be a map of node id -> node, not a list: give each node an id '
                'line (e.g. "welcome:") instead of a "-"',
                True,
            )
        message = f"{where}: must be {wanted}, not {_shown(instance)}"
        if isinstance(instance, str) and instance in _YAML11_BOOLEANS and "true or false" in words:
            truth = "true" if instance.lower() in ("yes", "on", "y") else "false"
            message += f": write {truth}"
        elif len(path) == 2 and path[0] == "nodes" and str(instance) in self.node_types:
            message += f': write "type: {instance}" on its own line, indented below it'
        elif words == ["a list"] and isinstance(instance, dict):
            message += ': start each item with "- "'
        elif text_expected and isinstance(instance, dict | list):
            message += " (put the text on the same line, in quotes if it contains ':' or '#')"
        return path, message, False

    def _unknown_fields(
        self, path: tuple[Any, ...], schema: dict[str, Any], instance: dict[str, Any]
    ) -> Iterator[Words]:
        allowed = list(schema.get("properties", {}))
        shown = choices(sorted(a for a in allowed if a != "type"))
        type_name = instance.get("type") if isinstance(instance.get("type"), str) else None
        for extra in [k for k in instance if k not in allowed]:
            hint = suggest(extra, allowed)
            if not path:
                message = (
                    f"{quote(extra)} is not a field of a flow{hint}; allowed fields are {shown}"
                )
            elif len(path) == 2 and path[0] == "nodes" and type_name:
                message = (
                    f"{describe(path)}: {quote(extra)} is not a field of a {type_name} node{hint}; "
                    f"allowed fields are {shown}"
                )
            else:
                message = f"{describe(path)}: {quote(extra)} is not a field here{hint}; allowed fields are {shown}"
            yield (*path, extra), message, True

    def _missing_fields(
        self,
        path: tuple[Any, ...],
        schema: dict[str, Any],
        required: list[str],
        instance: Any,
        skip: set[str],
    ) -> Iterator[Words]:
        where = describe(path)
        properties = schema.get("properties", {})
        for name in required:
            if name in instance or name in skip:
                continue
            if path == ():
                hint = {
                    "start": "add `start: <node id>` naming the first node of the call",
                    "nodes": "add `nodes:` with the flow's nodes",
                }.get(name, f"add {quote(name)}")
                yield path, f"the flow has no {quote(name)}: {hint}", True
            elif name == "type":
                yield path, f'{where}: has no "type": add one of {choices(self.node_types)}', True
            else:
                about = deref(properties.get(name, {}), self.defs).get("description", "")
                first = re.split(r"\.\s+(?=[A-Z])", about)[0]
                note = f" ({_sentence(first)})" if first else ""
                yield (
                    path,
                    f"{where}: the required field {quote(name)} is missing: add it{note}",
                    True,
                )
