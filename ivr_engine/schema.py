"""The flow JSON Schema: the shipped file, composed with the node types that are registered.

`schemas/flow.schema.json` is the one source of truth for the flow format and the built-in
node types; it is what editors read. Plugin node types add their own definitions, so the
schema the validator uses is composed from the file and the registry. The `$ref` helpers at
the end serve the schema stage (`validation`, `schema_errors`).
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

SCHEMA_FILE = "flow.schema.json"


@lru_cache(maxsize=1)
def _shipped_text() -> str:
    packaged = resources.files("ivr_engine") / "schemas" / SCHEMA_FILE
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    # Source checkout or editable install: the file lives at the project root.
    return (Path(__file__).resolve().parents[1] / "schemas" / SCHEMA_FILE).read_text(
        encoding="utf-8"
    )


def shipped_schema() -> dict[str, Any]:
    """A fresh copy of the shipped flow schema."""
    return json.loads(_shipped_text())


def builtin_node_schema(type_name: str) -> dict[str, Any]:
    """The schema of a built-in node type, as written in the shipped file."""
    return shipped_schema()["$defs"][type_name]


def node_union(type_names: list[str]) -> dict[str, Any]:
    """The `node` definition: `type` chosen from the known types, then that type's fields."""
    return {
        "type": "object",
        "title": "Node",
        "properties": {"type": {"enum": sorted(type_names), "title": "Node type"}},
        "required": ["type"],
        "allOf": [
            {
                "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                "then": {"$ref": f"#/$defs/{name}"},
            }
            for name in sorted(type_names)
        ],
    }


def with_type_field(type_name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A node type's schema with the `type` property it must carry."""
    result = copy.deepcopy(schema)
    properties = result.setdefault("properties", {})
    properties.setdefault("type", {"const": type_name})
    required = result.setdefault("required", [])
    if "type" not in required:
        required.insert(0, "type")
    result.setdefault("type", "object")
    return result


def compose(node_schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The shipped schema with `$defs` for exactly these node types."""
    schema = shipped_schema()
    defs = schema["$defs"]
    builtin_names = set(defs["node"]["properties"]["type"]["enum"])
    for name in builtin_names - set(node_schemas):
        defs.pop(name, None)
    for name, node_schema in node_schemas.items():
        defs[name] = with_type_field(name, node_schema)
    shipped_node = defs["node"]
    defs["node"] = node_union(list(node_schemas))
    # keep the help text the shipped file gives editors
    for key in ("title", "description"):
        if key in shipped_node:
            defs["node"][key] = shipped_node[key]
        shipped_type = shipped_node.get("properties", {}).get("type", {})
        if key in shipped_type:
            defs["node"]["properties"]["type"][key] = shipped_type[key]
    return schema


# ---- working with `$ref`s -------------------------------------------------------------

INLINED_REF = "x-inlined-ref"  # an annotation: validators ignore keywords they do not know


def ref_name(schema: Any) -> str | None:
    """The `$defs` entry a schema refers to, written as `$ref` or inlined (see `inline_refs`)."""
    if not isinstance(schema, dict):
        return None
    ref = schema.get("$ref") or schema.get(INLINED_REF) or ""
    return ref[len("#/$defs/") :] if ref.startswith("#/$defs/") else None


def deref(schema: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """A schema with the definition it refers to merged in, its own keys winning."""
    while (name := ref_name(schema)) is not None and name in defs:
        own = {k: v for k, v in schema.items() if k not in ("$ref", INLINED_REF, "allOf")}
        schema = {**defs[name], **own}
    return schema if isinstance(schema, dict) else {}


def inline_refs(schema: Any, defs: dict[str, Any], seen: frozenset[str] = frozenset()) -> Any:
    """The schema with each `$ref` into `$defs` replaced by the definition itself.

    jsonschema looks a `$ref` up on every use, a third of the time spent on a large flow. The
    definition goes in as `allOf: [definition]` (marked with the name it came from), so an
    error inside it is reported against the definition, exactly as through the `$ref`.
    A definition that refers to itself stays a `$ref`.
    """
    if isinstance(schema, list):
        return [inline_refs(item, defs, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    name = ref_name(schema) if "$ref" in schema else None
    if name is not None and name in defs and name not in seen:
        own = {k: inline_refs(v, defs, seen) for k, v in schema.items() if k != "$ref"}
        target = inline_refs(defs[name], defs, seen | {name})
        return {**own, INLINED_REF: schema["$ref"], "allOf": [target, *own.get("allOf", [])]}
    return {k: inline_refs(v, defs, seen) if k != "$defs" else v for k, v in schema.items()}


def expected_types(schema: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    """The JSON types a schema accepts, through `$ref`s and `anyOf` / `oneOf` branches."""
    schema = deref(schema, defs)
    if "type" in schema:
        types = schema["type"]
        return [types] if isinstance(types, str) else list(types)
    if "const" in schema:
        return []
    found: list[str] = []
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        found += [t for t in expected_types(branch, defs) if t not in found]
    return found
