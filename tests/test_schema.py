"""The shipped JSON Schema is the one definition of the flow format."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from ivr_engine.nodes import BUILTIN_NODES
from ivr_engine.registry import BUILTIN_SOURCE, Registry
from ivr_engine.schema import SCHEMA_FILE, shipped_schema
from tests.support import ROOT

TYPE_NAMES = sorted(cls.type_name for cls in BUILTIN_NODES)


def _builtins_only() -> Registry:
    registry = Registry()
    for cls in BUILTIN_NODES:
        registry.register(cls, BUILTIN_SOURCE)
    return registry


def test_the_shipped_schema_is_a_valid_2020_12_schema() -> None:
    schema = json.loads((ROOT / "schemas" / SCHEMA_FILE).read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_every_built_in_node_type_is_defined_in_the_shipped_schema(type_name: str) -> None:
    schema = shipped_schema()
    cls = next(c for c in BUILTIN_NODES if c.type_name == type_name)
    assert schema["$defs"][type_name] == cls.schema
    assert schema["$defs"][type_name]["properties"]["type"]["const"] == type_name
    assert type_name in schema["$defs"]["node"]["properties"]["type"]["enum"]


def test_the_schema_composed_from_the_built_ins_equals_the_shipped_file() -> None:
    assert _builtins_only().schema == shipped_schema()


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_every_field_has_a_title_and_a_description_for_editors(type_name: str) -> None:
    fields: dict[str, Any] = shipped_schema()["$defs"][type_name]["properties"]
    undocumented = [
        name
        for name, field in fields.items()
        if name != "type" and not (field.get("title") and field.get("description"))
    ]
    assert undocumented == []


def test_the_node_union_lists_exactly_the_built_in_types() -> None:
    node = shipped_schema()["$defs"]["node"]
    assert node["properties"]["type"]["enum"] == TYPE_NAMES
    assert [rule["then"]["$ref"] for rule in node["allOf"]] == [
        f"#/$defs/{name}" for name in TYPE_NAMES
    ]
