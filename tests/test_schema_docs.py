"""The shipped flow schema helps editors: every field is documented, examples are valid, and it
accepts the shipped flows and rejects broken ones, exactly as an editor would see it."""

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ivr_engine.project import project_registry
from ivr_engine.reader import read_yaml
from ivr_engine.validation import SchemaChecker

ROOT = Path(__file__).resolve().parents[1]
SCHEMA: dict[str, Any] = json.loads((ROOT / "schemas" / "flow.schema.json").read_text())
NODE_TYPES = SCHEMA["$defs"]["node"]["properties"]["type"]["enum"]


def fields() -> list[tuple[str, str, dict[str, Any]]]:
    found = [("flow", name, prop) for name, prop in SCHEMA["properties"].items()]
    for node_type in NODE_TYPES:
        for name, prop in SCHEMA["$defs"][node_type]["properties"].items():
            found.append((node_type, name, prop))
    return found


@pytest.mark.parametrize(
    ("owner", "name", "prop"), fields(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_field_has_a_title_a_description_and_an_example_or_default(
    owner: str, name: str, prop: dict[str, Any]
) -> None:
    assert prop.get("title"), f"{owner}.{name} has no title"
    assert prop.get("description"), f"{owner}.{name} has no description"
    assert "examples" in prop or "default" in prop or "const" in prop, (
        f"{owner}.{name} has neither examples nor a default"
    )


@pytest.mark.parametrize(
    ("owner", "name", "prop"), fields(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_example_and_default_is_valid_for_its_field(
    owner: str, name: str, prop: dict[str, Any]
) -> None:
    validator = jsonschema.Draft202012Validator({**prop, "$defs": SCHEMA["$defs"]})
    for value in [*prop.get("examples", []), *([prop["default"]] if "default" in prop else [])]:
        errors = [e.message for e in validator.iter_errors(value)]
        assert errors == [], f"{owner}.{name}: example {value!r} is not valid"


def editor_view(path: Path) -> Any:
    """The data an editor checks against the schema (our reader keeps phone numbers as text)."""
    doc = read_yaml(path.read_text(), str(path))
    SchemaChecker(SCHEMA).coerce(doc)
    return doc.data


FLOWS = [
    *sorted((ROOT / "flows").glob("*.yaml")),
    ROOT / "tests" / "tooling" / "flows" / "every_node.yaml",
]


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.name)
def test_the_schema_file_accepts_the_shipped_flows(path: Path) -> None:
    errors = [
        e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(editor_view(path))
    ]
    assert errors == []


def test_the_schema_file_rejects_a_broken_flow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "start: a\nnodes:\n  a:\n    type: menu\n    prompt: Hi\n    options: {12: b}\n    colour: red\n"
    )
    errors = sorted(
        e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(editor_view(broken))
    )
    assert errors == [
        "'12' does not match '^[0-9*#]$'",
        "Additional properties are not allowed ('colour' was unexpected)",
    ]


def test_the_composed_schema_keeps_the_node_help(tmp_path: Path) -> None:
    composed = project_registry(tmp_path).schema["$defs"]["node"]
    assert composed["description"] == SCHEMA["$defs"]["node"]["description"]
    assert (
        composed["properties"]["type"]["description"]
        == (SCHEMA["$defs"]["node"]["properties"]["type"]["description"])
    )
