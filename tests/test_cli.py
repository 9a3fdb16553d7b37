"""`ivr validate` and `ivr schema`, run for real as subprocesses from the project root."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema

from tests.support import ROOT, VALID, registry


def ivr(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivr_engine", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ivr_schema_prints_the_composed_schema_as_valid_json() -> None:
    done = ivr("schema")
    assert done.returncode == 0
    schema = json.loads(done.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema == registry().schema


def test_ivr_validate_checks_the_flows_folder_by_default() -> None:
    done = ivr("validate")
    count = len(list((ROOT / "flows").glob("*.yaml")))
    assert count >= 4
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == f"checked {count} flows: 0 error(s), 0 warning(s)\n"


def test_ivr_validate_checks_every_flow_file_in_a_folder() -> None:
    done = ivr("validate", "tests/flows/valid")
    count = len(list(VALID.glob("*.yaml")))
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == f"checked {count} flows: 0 error(s), 0 warning(s)\n"


def test_ivr_validate_reports_the_broken_files_of_a_folder_and_fails(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(VALID / "say_minimal.yaml", flows / "good.yaml")
    shutil.copy(ROOT / "tests" / "flows" / "invalid" / "typo_target.yaml", flows / "bad.yaml")
    shutil.copy(ROOT / "tests" / "flows" / "invalid" / "unreachable_node.yaml", flows / "old.yaml")
    (flows / "notes.txt").write_text("not a flow", encoding="utf-8")
    done = ivr("validate", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        'flows/bad.yaml:8:10: node "main_menu", option "1": goes to "salse", which is not a node '
        'in this flow (did you mean "sales"?)',
        'flows/old.yaml:7:3: warning: node "old_promo": no path from the start reaches this '
        "node: link to it or remove it",
    ]
    assert done.stderr == "checked 3 flows: 1 error(s), 1 warning(s)\n"


def test_ivr_validate_names_a_path_that_does_not_exist_and_checks_nothing() -> None:
    done = ivr("validate", "flows/nope.yaml", "nope/", "flows")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "error: flows/nope.yaml: no such file or folder\nerror: nope/: no such file or folder\n"
    )


def test_ivr_validate_given_a_flow_test_file_says_to_run_ivr_test() -> None:
    done = ivr("validate", "flows/tests/acme.yaml")
    assert done.returncode == 1
    assert done.stdout == (
        "flows/tests/acme.yaml:4:1: this is a flow test file (it has `flow:` and `cases:`), not "
        "a flow: run `ivr test flows/tests/acme.yaml` to run its cases\n"
    )


def test_ivr_validate_fails_when_a_folder_holds_no_flows(tmp_path: Path) -> None:
    done = ivr("validate", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr == "no flow files found\n"
