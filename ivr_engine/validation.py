"""Schema stage: check a loaded flow against the composed JSON Schema, in plain words.

jsonschema reports what failed in schema terms ("'x' is not valid under any of the given
schemas"); authors need to know which field is wrong and what to write instead. Errors are
grouped by the spot they are about, the one a human should fix is kept (`best_match`), and it
is rewritten into one sentence that names the node and field and says what to do.
"""

from __future__ import annotations

import copy
import json
import re
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


def _ref_name(schema: Any) -> str | None:
    """The `$defs` entry a schema refers to, written as `$ref` or inlined (see `_inline`)."""
    if not isinstance(schema, dict):
        return None
    ref = schema.get("$ref") or schema.get(_INLINED) or ""
    return ref[len("#/$defs/") :] if ref.startswith("#/$defs/") else None


def _deref(schema: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """A schema with the definition it refers to merged in, its own keys winning."""
    while (name := _ref_name(schema)) is not None and name in defs:
        own = {k: v for k, v in schema.items() if k not in ("$ref", _INLINED, "allOf")}
        schema = {**defs[name], **own}
    return schema if isinstance(schema, dict) else {}


def _inline(schema: Any, defs: dict[str, Any], seen: frozenset[str] = frozenset()) -> Any:
    """The schema with each `$ref` into `$defs` replaced by the definition itself.

    jsonschema looks a `$ref` up on every use, a third of the time spent on a large flow. The
    definition goes in as `allOf: [definition]` (marked with the name it came from), so an
    error inside it is reported against the definition, exactly as through the `$ref`.
    A definition that refers to itself stays a `$ref`.
    """
    if isinstance(schema, list):
        return [_inline(item, defs, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    name = _ref_name(schema) if "$ref" in schema else None
    if name is not None and name in defs and name not in seen:
        own = {k: _inline(v, defs, seen) for k, v in schema.items() if k != "$ref"}
        target = _inline(defs[name], defs, seen | {name})
        return {**own, _INLINED: schema["$ref"], "allOf": [target, *own.get("allOf", [])]}
    return {k: _inline(v, defs, seen) if k != "$defs" else v for k, v in schema.items()}


class SchemaChecker:
    """Runs one composed schema over flow documents and words its findings."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.defs: dict[str, Any] = schema.get("$defs", {})
        self._language_pattern = self.defs.get("language", {}).get("pattern")
        self.node_types: list[str] = (
            self.defs.get("node", {}).get("properties", {}).get("type", {}).get("enum", [])
        )
        # Each node is checked against its own type's schema, chosen here by its `type`. The
        # schema's `node` union says the same with one `if type is X` per node type, which a
        # validator tries one by one for every node: most of the time spent on a large flow.
        node = {k: v for k, v in self.defs.get("node", {}).items() if k != "allOf"}
        defs = {**self.defs, "node": node}
        top = copy.deepcopy(schema)
        top["$defs"] = defs
        top["properties"]["nodes"]["additionalProperties"] = True  # each node: see `_errors`
        self.validator = jsonschema.Draft202012Validator(_inline(top, defs))
        self.node_validators = {
            name: jsonschema.Draft202012Validator(
                {"$schema": schema.get("$schema"), "$defs": defs, **_inline(defs[name], defs)}
            )
            for name in ["node", *self.node_types]
        }

    # ---- YAML 1.1 leftovers ----------------------------------------------------------

    def coerce(self, doc: Document) -> None:
        """Turn unquoted numbers back into the text the author wrote where the schema wants text.

        `to: +15550100`, `say: [1, one]` or `pattern: 0042` are text to the author; YAML made
        them numbers. Only plain (unquoted) scalars are touched, and only where text is expected.
        An empty value stays empty, so `text:` with nothing after it is reported, not spoken.
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
        if path in doc.plain_scalars and value is not None and not isinstance(value, str):
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
        for error in self._errors(doc.data):
            by_spot.setdefault(tuple(error.absolute_path), []).append(error)
        found: list[Problem] = []
        broken_nodes: set[str] = set()
        for spot, errors in by_spot.items():
            if len(spot) >= 2 and spot[0] == "nodes":
                broken_nodes.add(str(spot[1]))
            for path, message, at_key in self._spot_words(errors):
                pos = doc.position(path, key=at_key)
                found.append(Problem(doc.file, pos.line, pos.column, message))
        return found, broken_nodes

    def _errors(self, data: Any) -> Iterator[ValidationError]:
        """What the composed schema finds, each node checked by its own type's schema."""
        yield from self.validator.iter_errors(data)
        nodes = data.get("nodes") if isinstance(data, dict) else None
        if not isinstance(nodes, dict):
            return
        for node_id, node in nodes.items():
            type_name = node.get("type") if isinstance(node, dict) else None
            known = isinstance(type_name, str) and type_name in self.node_types
            # a node without a known type (or not a map) is told so by the `node` schema
            validator = self.node_validators[type_name if known else "node"]
            for error in validator.iter_errors(node):
                error.path.extendleft((node_id, "nodes"))  # as if found from the top
                yield error

    def _spot_words(self, errors: list[ValidationError]) -> Iterator[Words]:
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
        own = _deref(error.schema, self.defs)
        where = describe(path)
        if path[-1:] == ("options",):
            message = f"{describe(key_path)}: {quote(bad)} is not a phone key: option keys are one of 0-9, * or #"
        elif path[-1:] == ("on",):
            outcomes = list(error.validator_value) if error.validator == "enum" else []
            message = (
                f"{where}: {quote(bad)} is not a dial outcome{suggest(bad, outcomes)}; "
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
        schema = _deref(error.schema, self.defs)
        instance = error.instance

        if "propertyNames" in error.schema_path:
            yield from self._key_words(error, path)
            return
        if kind in ("anyOf", "oneOf") and all(e.validator == "type" for e in error.context or ()):
            branches = [b for b in schema.get(kind, []) if isinstance(b, dict)]
            words = [w for b in branches for w in self._kind_words(b)]
            yield self._type_words(
                path, words, instance, "string" in _expected_types(schema, self.defs)
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
        name = _ref_name(branch)
        target = _deref(branch, self.defs)
        if name is not None and self.defs.get(name, {}).get("title"):
            return ["a " + _sentence(self.defs[name]["title"])]
        names = _deref(target.get("propertyNames", {}), self.defs)
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
                about = _deref(properties.get(name, {}), self.defs).get("description", "")
                first = re.split(r"\.\s+(?=[A-Z])", about)[0]
                note = f" ({_sentence(first)})" if first else ""
                yield (
                    path,
                    f"{where}: the required field {quote(name)} is missing: add it{note}",
                    True,
                )


Words = tuple[tuple[Any, ...], str, bool]  # where, message, point at the key (not the value)
_DAY_WORDS = [
    f"{a}-{b}" if b else a
    for a in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for b in ("", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
    if a != b
]


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[0].lower() + text[1:] if text else text


_INLINED = "x-inlined-ref"  # an annotation: validators ignore keywords they do not know

_PY_TYPES: dict[str, type | tuple[type, ...]] = {
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}
