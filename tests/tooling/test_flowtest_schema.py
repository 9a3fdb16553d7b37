"""`schemas/flowtest.schema.json` accepts what `testfile` accepts, so editors complete test files.

Each example is read both ways: by the JSON Schema (as an editor would, on the data our reader
makes of the text) and by `read_test_file` (as `ivr test` does). They must agree.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from ivr_engine.nodes.dial import OUTCOMES
from ivr_engine.reader import read_yaml
from ivr_engine.tooling.steps import CHECKS, MESSAGE_FIELDS
from ivr_engine.tooling.testfile import (
    ACTIONS,
    BARE_ACTIONS,
    CASE_EXPECTATIONS,
    CASE_FIELDS,
    FILE_FIELDS,
    STEP_EXPECTATIONS,
    FlowTestError,
    read_test_file,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "flowtest.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
SCHEMA_LINE = "# yaml-language-server: $schema=../../schemas/flowtest.schema.json\n"
SHIPPED = sorted((ROOT / "flows" / "tests").glob("*.yaml"))


def schema_errors(text: str) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(read_yaml(text, "t.yaml").data)]


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_the_schema_names_exactly_the_fields_and_steps_the_reader_knows() -> None:
    defs = SCHEMA["$defs"]
    assert tuple(SCHEMA["properties"]) == FILE_FIELDS
    assert tuple(defs["case"]["properties"]) == CASE_FIELDS
    step_kinds = defs["step"]["anyOf"][1]["properties"]
    assert set(step_kinds) == set(ACTIONS + STEP_EXPECTATIONS) == set(CHECKS)
    assert defs["step"]["anyOf"][0]["enum"] == list(BARE_ACTIONS)
    assert set(CASE_EXPECTATIONS) <= set(step_kinds)
    assert tuple(defs["dial_result"]["enum"]) == OUTCOMES
    assert tuple(defs["expect_messages"]["items"]["properties"]) == MESSAGE_FIELDS


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_test_file_points_at_the_schema_and_passes_it(path: Path) -> None:
    text = path.read_text()
    assert text.startswith(SCHEMA_LINE)
    assert schema_errors(text) == []


def test_the_new_flow_test_template_passes_the_schema() -> None:
    template = ROOT / "ivr_engine" / "tooling" / "templates" / "test.yaml"
    text = template.read_text().replace("__TEST_SCHEMA_LINE__", "").replace("__NAME__", "shop")
    assert schema_errors(text) == []


CASE = "flow: acme\ncases:\n  - name: one\n"

ACCEPTED = {
    "bare actions": CASE + "    steps:\n      - silence\n      - hangup\n",
    "flags written as keys": CASE + "    steps:\n      - silence:\n      - hangup: true\n",
    "keys as a number": CASE + "    steps:\n      - press: 1\n      - press: '12#'\n",
    "settings at both levels": 'flow: acme\nfrom: "+15551234567"\nat: "2026-03-02 10:00"\n'
    "vars: {a: 1}\ncases:\n  - name: one\n    to: '+15550000'\n    at: 2026-03-02T10:00:00-05:00\n",
    "dialled together": CASE + "    steps:\n      - expect_dial: ['+15550100', '+15550101']\n",
    "case expectations": CASE + "    expect_path: [welcome]\n    expect_vars: {}\n"
    "    expect_messages: [{to: '+15551234567', body: Thanks}]\n    expect_end: hangup\n",
    "fail_at one node": CASE + "    fail_at: sales\n",
    "dial result": CASE + "    steps:\n      - dial_result: no-answer\n      - record: 10\n",
}

REFUSED = {
    "no flow": "cases:\n  - name: one\n",
    "no cases": "flow: acme\n",
    "empty cases": "flow: acme\ncases: []\n",
    "unknown top-level field": CASE + "flows: acme\n",
    "case without a name": "flow: acme\ncases:\n  - steps: [silence]\n",
    "unknown case field": CASE + "    press: '1'\n",
    "two parts in a step": CASE + "    steps:\n      - {press: '1', expect_say: Hi}\n",
    "unknown step": CASE + "    steps:\n      - expect_sya: Hello\n",
    "a step that is only a word": CASE + "    steps:\n      - press\n",
    "letters pressed": CASE + "    steps:\n      - press: '1a'\n",
    "empty speech": CASE + "    steps:\n      - say: ' '\n",
    "a record of no seconds": CASE + "    steps:\n      - record: 0\n",
    "unknown dial result": CASE + "    steps:\n      - dial_result: busyy\n",
    "expect_record false": CASE + "    steps:\n      - expect_record: false\n",
    "a path that is one word": CASE + "    expect_path: welcome\n",
    "unknown message field": CASE + "    expect_messages: [{bodyy: Thanks}]\n",
    "a time that is not one": CASE + "    at: tomorrow\n",
    "a phone number YAML read as a number": CASE + "    from: 15551234567\n",
    "steps not a list": CASE + "    steps: silence\n",
    "silence with a value": CASE + "    steps:\n      - silence: 3\n",
    "vars not a map": CASE + "    vars: [a]\n",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "flows" / "acme.yaml", tmp_path / "acme.yaml")
    return tmp_path


def read(folder: Path, text: str) -> None:
    path = folder / "t.test.yaml"
    path.write_text(text)
    read_test_file(path)


@pytest.mark.parametrize("text", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_what_the_reader_accepts_the_schema_accepts(folder: Path, text: str) -> None:
    read(folder, text)
    assert schema_errors(text) == []


@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_what_the_reader_refuses_the_schema_refuses(folder: Path, text: str) -> None:
    with pytest.raises(FlowTestError):
        read(folder, text)
    assert schema_errors(text) != []
