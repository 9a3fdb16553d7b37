"""What the composed flow schema says about a place in a flow: its fields, their help, their values.

The schema is the registry's (`Registry.schema`: the shipped file plus every plugin node type),
so completion and hover know plugin fields exactly as built-in ones. A node's fields come
from its type's definition, chosen by the node's `type:` as the schema stage chooses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..schema import deref
from .outline import ITEM


class SchemaFields:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.defs: dict[str, Any] = schema.get("$defs", {})
        node = self.defs.get("node", {})
        self.node_types: list[str] = node.get("properties", {}).get("type", {}).get("enum", [])

    def at(self, path: tuple[str, ...], node_type: str | None) -> list[dict[str, Any]]:
        """The schemas that apply at `path` (several when a field may take several shapes)."""
        current = [self.schema]
        for depth, part in enumerate(path):
            if depth == 1 and path[0] == "nodes":
                if node_type in self.node_types:
                    current = [self.defs[node_type]]
                else:
                    current = [self.defs.get("node", {})]
                continue
            current = [sub for schema in current for sub in self._child(schema, part)]
            if not current:
                return []
        return [s for schema in current for s in self._shapes(schema)]

    def _child(self, schema: dict[str, Any], part: str) -> Iterator[dict[str, Any]]:
        for shape in self._shapes(schema):
            if part == ITEM:
                items = shape.get("items")
                if isinstance(items, dict):
                    yield items
                continue
            props = shape.get("properties", {})
            if part in props:
                yield props[part]
            elif isinstance(shape.get("additionalProperties"), dict):
                yield shape["additionalProperties"]

    def _shapes(self, schema: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
        """The schema with its `$ref` followed, and each branch of its anyOf / oneOf / allOf."""
        schema = deref(schema, self.defs)
        if not schema or depth > 8:
            return
        yield schema
        for keyword in ("anyOf", "oneOf", "allOf"):
            for branch in schema.get(keyword, []):
                yield from self._shapes(branch, depth + 1)

    def fields(self, path: tuple[str, ...], node_type: str | None) -> dict[str, dict[str, Any]]:
        """The named fields of the map at `path`, each with its schema."""
        found: dict[str, dict[str, Any]] = {}
        for shape in self.at(path, node_type):
            for name, sub in shape.get("properties", {}).items():
                found.setdefault(name, {**deref(sub, self.defs), **_help(sub)})
        return found

    def help(self, path: tuple[str, ...], node_type: str | None) -> dict[str, Any]:
        """Title, description, default and examples of the field at `path`, from the first that says."""
        found: dict[str, Any] = {}
        if len(path) >= 1:
            parent = self.fields(path[:-1], node_type)
            found.update(_help(parent.get(path[-1], {})))
        for shape in self.at(path, node_type):
            for key, value in _help(shape).items():
                found.setdefault(key, value)
        return found

    def values(self, path: tuple[str, ...], node_type: str | None) -> list[Any]:
        """The values a field may take when the schema lists them (`enum`, `const`)."""
        found: list[Any] = []
        for shape in self.at(path, node_type):
            for value in [*shape.get("enum", []), *([shape["const"]] if "const" in shape else [])]:
                if value not in found:
                    found.append(value)
        return found

    def is_node_id(self, path: tuple[str, ...], node_type: str | None) -> bool:
        """Whether the schema says the field names a node (`$ref: #/$defs/nodeId`)."""
        return any(
            self._refers_to_node_id(shape) for shape in self._raw(path[:-1], path[-1], node_type)
        )

    def _raw(self, parent: tuple[str, ...], part: str, node_type: str | None) -> Iterator[Any]:
        for shape in self.at(parent, node_type):
            if part == ITEM and isinstance(shape.get("items"), dict):
                yield shape["items"]
            elif part in shape.get("properties", {}):
                yield shape["properties"][part]
            elif isinstance(shape.get("additionalProperties"), dict):
                yield shape["additionalProperties"]

    def _refers_to_node_id(self, schema: Any, depth: int = 0) -> bool:
        if not isinstance(schema, dict) or depth > 4:
            return False
        if schema.get("$ref") == "#/$defs/nodeId":
            return True
        return any(
            self._refers_to_node_id(branch, depth + 1)
            for keyword in ("anyOf", "oneOf")
            for branch in schema.get(keyword, [])
        )

    def type_help(self, type_name: str) -> dict[str, Any]:
        return _help(self.defs.get(type_name, {}))


def _help(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    return {k: schema[k] for k in ("title", "description", "default", "examples") if k in schema}


def markdown(name: str, help_: dict[str, Any]) -> str:
    """A field's help as hover text: its title, what it does, its default and an example."""
    title = help_.get("title")
    parts = [f"**{name}**" + (f" — {title}" if title and title != name else "")]
    if help_.get("description"):
        parts.append(str(help_["description"]))
    if "default" in help_:
        parts.append(f"Default: `{json.dumps(help_['default'], ensure_ascii=False)}`")
    examples = help_.get("examples")
    if isinstance(examples, list) and examples and not isinstance(examples[0], dict | list):
        parts.append("Example: " + ", ".join(f"`{e}`" for e in examples[:3]))
    return "\n\n".join(parts)
