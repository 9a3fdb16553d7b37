"""`ivr import studio` as a user runs it: files written, a report printed, tests that pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import CHILD_SID, FIXTURES, ROOT


def ivr(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivr_engine", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_writes_the_flow_and_a_test_file_that_ivr_test_runs_green(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "menu.json", tmp_path / "menu.json")
    done = ivr("import", "studio", "menu.json", "--test", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "wrote flows/menu.yaml" in done.stdout
    assert "ivr validate: no problems" in done.stdout
    assert (tmp_path / "flows" / "menu.yaml").read_text() == (FIXTURES / "menu.yaml").read_text()
    tests = (tmp_path / "flows" / "tests" / "menu.yaml").read_text()
    assert "- press: '1'" in tests and "expect_path: [main_menu, sales]" in tests
    checked = ivr("test", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout
    assert ivr("validate", cwd=tmp_path).returncode == 0


def test_an_existing_flow_is_never_replaced_without_force(tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "menu.yaml").write_text("keep me\n")
    done = ivr("import", "studio", str(FIXTURES / "menu.json"), cwd=tmp_path)
    assert done.returncode == 2
    assert "flows/menu.yaml: exists already; give --force to replace it" in done.stderr
    assert (tmp_path / "flows" / "menu.yaml").read_text() == "keep me\n"


def test_a_subflow_is_imported_beside_its_parent(tmp_path: Path) -> None:
    done = ivr(
        "import",
        "studio",
        str(FIXTURES / "subflow_parent.json"),
        "-o",
        "flows/subflow_parent.yaml",
        "--subflow",
        f"{CHILD_SID}={FIXTURES / 'subflow_child.json'}",
        "--test",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "flows" / "subflow_child.yaml").is_file()
    assert ivr("validate", cwd=tmp_path).returncode == 0


def test_a_file_that_is_not_a_studio_flow_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("[]")
    done = ivr("import", "studio", "x.json", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "error: x.json: a Studio flow is a JSON object, not list\n"
    assert not (tmp_path / "flows").exists()
