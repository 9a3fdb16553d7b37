"""Schema stage: check a loaded flow against the composed JSON Schema.

Runs after the reader: first puts back the text YAML 1.1 turned into numbers where the schema
wants text, then validates, each node against its own type's schema, and hands the errors
of each spot to `schema_errors` to be told in words.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from .errors import Problem
from .reader import Document
from .schema import deref, expected_types, inline_refs
from .schema_errors import SchemaWording


class SchemaChecker:
    """Runs one composed schema over flow documents and words its findings."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.defs: dict[str, Any] = schema.get("$defs", {})
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
        self.validator = jsonschema.Draft202012Validator(inline_refs(top, defs))
        self.node_validators = {
            name: jsonschema.Draft202012Validator(
                {"$schema": schema.get("$schema"), "$defs": defs, **inline_refs(defs[name], defs)}
            )
            for name in ["node", *self.node_types]
        }
        self.wording = SchemaWording(self.defs, self.node_types)

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
        if not isinstance(value, dict | list) and (
            value is None or isinstance(value, str) or path not in doc.plain_scalars
        ):
            return value  # nothing YAML could have turned into a number here
        schema = deref(schema, self.defs)
        if not schema:
            return value
        if isinstance(value, dict):
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            node_type = value.get("type") if len(path) == 2 and path[0] == "nodes" else None
            if isinstance(node_type, str) and node_type in self.defs:
                props = deref(self.defs[node_type], self.defs).get("properties", {})
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
                    branch = deref(branch, self.defs)
                    if branch.get("type") == "array":
                        return self._coerce(doc, value, branch, path)
            return value
        expected = expected_types(schema, self.defs)
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
        nodes = doc.data.get("nodes") if isinstance(doc.data, dict) else None
        for spot, errors in by_spot.items():
            if len(spot) >= 2 and spot[0] == "nodes":
                broken_nodes.add(str(spot[1]))
            if len(spot) == 2 and spot[0] == "nodes" and isinstance(nodes, dict):
                dedented = self._dedented_field(nodes, str(spot[1]))
                if dedented is not None:
                    pos = doc.position(spot, key=True)
                    found.append(Problem(doc.file, pos.line, pos.column, dedented))
                    continue
            for path, message, at_key in self.wording.spot(errors):
                pos = doc.position(path, key=at_key)
                found.append(Problem(doc.file, pos.line, pos.column, message))
        return found, broken_nodes

    def _dedented_field(self, nodes: dict[str, Any], node_id: str) -> str | None:
        """`on_failure: goodbye` dedented to node level: a field of the node above, not a node.

        Said only when the entry is not a map and its name is a field of the nearest node
        above it (of a known type); otherwise the schema's own words stand.
        """
        value = nodes.get(node_id)
        if isinstance(value, dict):
            return None
        ids = list(nodes)
        above = next(
            (i for i in reversed(ids[: ids.index(node_id)]) if isinstance(nodes[i], dict)), None
        )
        type_name = nodes[above].get("type") if above is not None else None
        if not isinstance(type_name, str) or type_name not in self.node_types:
            return None
        if node_id not in self.defs.get(type_name, {}).get("properties", {}):
            return None
        return (
            f'"{node_id}" sits at node level, under "nodes", but it is a field of the {type_name} '
            f'node "{above}" above it: it lost its indentation; indent it like the other fields '
            f'of "{above}"'
        )

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


_PY_TYPES: dict[str, type | tuple[type, ...]] = {
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}
