"""`ivr new NAME` scaffolds a flow and its tests that validate, pass and cover every transition."""

import shutil
from pathlib import Path


def test_a_new_flow_validates_and_its_tests_pass_with_full_coverage(
    ivr, tmp_path: Path, root: Path
) -> None:
    (tmp_path / "schemas").mkdir()
    shutil.copy(root / "schemas" / "flow.schema.json", tmp_path / "schemas")
    shutil.copy(root / "schemas" / "flowtest.schema.json", tmp_path / "schemas")
    done = ivr("new", "shop", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "created flows/shop.yaml and flows/tests/shop.yaml"
    flow = (tmp_path / "flows" / "shop.yaml").read_text()
    assert flow.startswith("# yaml-language-server: $schema=../schemas/flow.schema.json\n")
    test = (tmp_path / "flows" / "tests" / "shop.yaml").read_text()
    assert test.startswith("# yaml-language-server: $schema=../../schemas/flowtest.schema.json\n")
    assert ivr("validate", cwd=tmp_path).returncode == 0
    tested = ivr("test", "--coverage", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout
    assert "5 cases: 5 passed, 0 failed" in tested.stdout
    assert "  shop  transitions 9/9  nodes 5/5  100%" in tested.stdout


def test_without_a_schema_file_the_new_flow_has_no_schema_line(ivr, tmp_path: Path) -> None:
    assert ivr("new", "shop", cwd=tmp_path).returncode == 0
    assert (tmp_path / "flows" / "shop.yaml").read_text().startswith("# The shop phone line")
    assert (tmp_path / "flows" / "tests" / "shop.yaml").read_text().startswith("# Tests of")


def test_existing_files_are_never_overwritten(ivr, tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "shop.yaml").write_text("mine\n")
    done = ivr("new", "shop", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        2,
        "error: flows/shop.yaml already exists: nothing was written; choose another name or remove "
        "the file first\n",
    )
    assert (tmp_path / "flows" / "shop.yaml").read_text() == "mine\n"
    assert not (tmp_path / "flows" / "tests").exists()


def test_a_name_that_cannot_be_a_flow_id_is_refused(ivr, tmp_path: Path) -> None:
    done = ivr("new", "Acme Sales", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        2,
        'error: "Acme Sales" cannot be a flow name: use lowercase letters, digits, - and _ '
        "(e.g. acme-support)\n",
    )
