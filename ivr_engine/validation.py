"""Schema stage: check a loaded flow against the composed JSON Schema, in plain words.

jsonschema reports what failed in schema terms ("'x' is not valid under any of the given
schemas"); authors need to know which field is wrong and what to write instead. Errors are
grouped by the spot they are about, the one a human should fix is kept (`best_match`), and it
is rewritten into one sentence that names the node and field and says what to do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from .errors import Problem
from .reader import Document
from .wording import choices, describe, quote, suggest

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


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, dict | list):
        return "a map" if isinstance(value, dict) else "a list"
    return json.dumps(value)


def _expected_types(schema: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    schema = _deref(schema, defs)
    if "type" in schema:
        types = schema["type"]
        return [types] if isinstance(types, str) else list(types)
    if "const" in schema:
        return []
    found: list[str] = []
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        found += [t for t in _expected_types(branch, defs) if t not in found]
    return found


def _deref(schema: Any, defs: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema, dict) and "$ref" in schema and schema["$ref"].startswith("#/$defs/"):
        merged = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**defs[schema["$ref"][len("#/$defs/") :]], **merged}
    return schema if isinstance(schema, dict) else {}


class SchemaChecker:
    """Runs one composed schema over flow documents and words its findings."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.defs: dict[str, Any] = schema.get("$defs", {})
        self.validator = jsonschema.Draft202012Validator(schema)
        self.node_types: list[str] = (
            self.defs.get("node", {}).get("properties", {}).get("type", {}).get("enum", [])
        )

    # ---- YAML 1.1 leftovers ----------------------------------------------------------

    def coerce(self, doc: Document) -> None:
        """Turn unquoted numbers back into the text the author wrote where the schema wants text.

        `to: +15550100`, `say: [1, one]` or `pattern: 0042` are text to the author; YAML made
        them numbers. Only plain (unquoted) scalars are touched, and only where text is expected.
        """
        if isinstance(doc.data, dict):
            doc.data = self._coerce(doc, doc.data, self.schema, ())

    def _coerce(self, doc: Document, value: Any, schema: Any, path: tuple[str | int, ...]) -> Any:
        schema = _deref(schema, self.defs)
        if not schema:
            return value
        if isinstance(value, dict):
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            node_type = value.get("type") if len(path) == 2 and path[0] == "nodes" else None
            if isinstance(node_type, str) and node_type in self.defs:
                props = _deref(self.defs[node_type], self.defs).get("properties", {})
            for key, item in list(value.items()):
                sub = props.get(key, extra if isinstance(extra, dict) else None)
                if sub is not None:
                    value[key] = self._coerce(doc, item, sub, (*path, key))
            return value
        if isinstance(value, list):
            items = schema.get("items")
            if isinstance(items, dict):
                return [self._coerce(doc, v, items, (*path, i)) for i, v in enumerate(value)]
            if "anyOf" in schema:
                for branch in schema["anyOf"]:
                    branch = _deref(branch, self.defs)
                    if branch.get("type") == "array":
                        return self._coerce(doc, value, branch, path)
            return value
        if path in doc.plain_scalars and not isinstance(value, str):
            expected = _expected_types(schema, self.defs)
            if "string" in expected and not any(
                t in expected
                for t in ("integer", "number", "boolean", "null")
                if isinstance(value, _PY_TYPES[t])
            ):
                return doc.plain_scalars[path]
        return value

    # ---- checking ------------------------------------------------------------------

    def problems(self, doc: Document) -> tuple[list[Problem], set[str]]:
        """Every schema problem in the document, and the ids of the nodes they are in."""
        by_spot: dict[tuple[Any, ...], list[ValidationError]] = {}
        for error in self.validator.iter_errors(doc.data):
            by_spot.setdefault(tuple(error.absolute_path), []).append(error)
        found: list[Problem] = []
        broken_nodes: set[str] = set()
        for spot, errors in by_spot.items():
            if len(spot) >= 2 and spot[0] == "nodes":
                broken_nodes.add(str(spot[1]))
            error = best_match(errors)
            for path, message, at_key in self._words(error):
                pos = doc.position(path, key=at_key)
                found.append(Problem(doc.file, pos.line, pos.column, message))
        return found, broken_nodes

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

    def _key_words(
        self, error: ValidationError, path: tuple[Any, ...]
    ) -> Iterator[tuple[tuple[Any, ...], str, bool]]:
        """A map key that is not allowed (propertyNames): point at the key itself."""
        bad = str(error.instance)
        key_path = (*path, bad)
        own = _deref(error.schema, self.defs)
        if path[-1:] == ("options",):
            message = f"{describe(key_path)}: {quote(bad)} is not a phone key: option keys are one of 0-9, * or #"
        elif path[-1:] == ("on",):
            outcomes = list(error.validator_value) if error.validator == "enum" else []
            message = (
                f"{describe(path)}: {quote(bad)} is not a dial outcome{suggest(bad, outcomes)}; "
                f"use {choices(outcomes)}"
            )
        elif path[-1:] == ("schedule",):
            message = (
                f"{describe(path)}: {quote(bad)} is not a day or day range: use mon, tue, wed, thu, fri, "
                "sat or sun, or a range such as mon-fri"
            )
        elif path == ("nodes",) or path[-1:] == ("vars",):
            what = "node id" if path == ("nodes",) else "variable name"
            message = (
                f"{describe(key_path)}: {quote(bad)} cannot be a {what}: use letters, digits and _"
                + (" or -" if what == "node id" else "")
                + ", starting with a letter or _"
            )
        else:
            about = (
                own.get("description")
                or own.get("title")
                or f"names must match {own.get('pattern', '?')}"
            )
            message = (
                f"{describe(path)}: {quote(bad)} is not allowed as a name here: {_sentence(about)}"
            )
        yield key_path, message, True

    def _words(self, error: ValidationError) -> Iterator[tuple[tuple[Any, ...], str, bool]]:
        error = self._pick(error)
        path = tuple(error.absolute_path)
        where = describe(path)
        kind = error.validator
        schema = _deref(error.schema, self.defs)
        instance = error.instance

        if "propertyNames" in error.schema_path:
            yield from self._key_words(error, path)
            return
        if kind == "additionalProperties" and isinstance(instance, dict):
            allowed = list(schema.get("properties", {}))
            for extra in [k for k in instance if k not in allowed]:
                what = where if path else "the flow"
                type_name = instance.get("type") if isinstance(instance.get("type"), str) else None
                kind_words = f"a {type_name} node" if type_name and len(path) == 2 else "this place"
                yield (
                    (*path, extra),
                    f"{what}: {quote(extra)} is not a field of {kind_words}{suggest(extra, allowed)}; "
                    f"allowed fields are {choices(sorted(a for a in allowed if a != 'type'))}",
                    True,
                )
            return
        if kind == "required":
            missing = [r for r in error.validator_value if r not in instance]
            for name in missing:
                if path == ():
                    hint = {
                        "start": "add `start: <node id>` naming the first node of the call",
                        "nodes": "add `nodes:` with the flow's nodes",
                    }.get(name, f"add {quote(name)}")
                    yield path, f"the flow has no {quote(name)}: {hint}", True
                elif name == "type":
                    yield (
                        path,
                        f'{where}: has no "type": add one of {choices(self.node_types)}',
                        True,
                    )
                else:
                    yield (
                        path,
                        f"{where}: the required field {quote(name)} is missing: add it",
                        True,
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
            yield (
                path,
                f"{where}: {_shown(instance)} is not allowed: use {choices(error.validator_value)}",
                False,
            )
            return
        if kind == "const":
            yield path, f"{where}: must be {_shown(error.validator_value)}", False
            return
        if kind == "type":
            expected = error.validator_value
            expected_list = [expected] if isinstance(expected, str) else list(expected)
            words = " or ".join(_TYPE_WORDS.get(t, t) for t in expected_list)
            message = f"{where}: must be {words}, not {_shown(instance)}"
            if "boolean" in expected_list and instance in _YAML11_BOOLEANS:
                message += " (write true or false)"
            elif "string" in expected_list and isinstance(instance, dict | list):
                message += " (put the text on the same line, in quotes if it contains ':' or '#')"
            yield path, message, False
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
                yield path, "the flow has no nodes: add at least one node under `nodes:`", False
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


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[0].lower() + text[1:] if text else text


_PY_TYPES: dict[str, type | tuple[type, ...]] = {
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}
