"""`ivr validate --format`: the same problems as text, as one JSON document, or as GitHub annotations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ivr_engine.cli.problem_output import github_annotation
from ivr_engine.errors import Problem, Severity

INVALID = Path(__file__).resolve().parents[1] / "flows" / "invalid"


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    """A folder with one flow that has an error and one that has only a warning."""
    folder = tmp_path / "flows"
    folder.mkdir()
    for name in ("bad_regex", "hash_in_text"):
        shutil.copy(INVALID / f"{name}.yaml", folder / f"{name}.yaml")
    return folder


def expected(name: str) -> str:
    return (INVALID / f"{name}.expected").read_text().replace("tests/flows/invalid/", "flows/")


def test_text_is_the_default_and_prints_file_line_column_and_message(ivr, flows: Path) -> None:
    done = ivr("validate", "flows", cwd=flows.parent)
    assert done.returncode == 1
    assert done.stdout == expected("bad_regex") + expected("hash_in_text")
    assert done.stderr == "checked 2 flows: 1 error(s), 1 warning(s)\n"
    assert ivr("validate", "--format", "text", "flows", cwd=flows.parent).stdout == done.stdout


def test_github_prints_one_annotation_per_problem_warnings_as_warnings(ivr, flows: Path) -> None:
    done = ivr("validate", "--format", "github", "flows", cwd=flows.parent)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        '::error file=flows/bad_regex.yaml,line=8,col=14::node "ask_account", field "pattern": '
        '"[0-9{8}" is not a valid pattern: unterminated character set at position 0: fix the '
        "regular expression",
        '::warning file=flows/hash_in_text.yaml,line=6,col=51::node "ask_account", field '
        '"prompt": YAML reads everything from this # on as a comment, so callers will not hear '
        '"# to finish.": if it belongs to the text, put the whole text in quotes',
    ]
    assert done.stderr == "checked 2 flows: 1 error(s), 1 warning(s)\n"


def test_json_prints_one_document_with_every_problem(ivr, flows: Path) -> None:
    done = ivr("validate", "--format", "json", "flows", cwd=flows.parent)
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert {k: document[k] for k in ("files", "errors", "warnings")} == {
        "files": 2,
        "errors": 1,
        "warnings": 1,
    }
    assert document["problems"][0] == {
        "file": "flows/bad_regex.yaml",
        "line": 8,
        "column": 14,
        "severity": "error",
        "message": 'node "ask_account", field "pattern": "[0-9{8}" is not a valid pattern: '
        "unterminated character set at position 0: fix the regular expression",
    }
    assert document["problems"][1]["severity"] == "warning"


def test_json_of_clean_flows_is_an_empty_list_and_exit_zero(ivr) -> None:
    done = ivr("validate", "--format", "json")
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"files": 9, "errors": 0, "warnings": 0, "problems": []}


def test_an_unknown_format_is_refused(ivr) -> None:
    done = ivr("validate", "--format", "xml")
    assert done.returncode == 2
    assert "argument --format: invalid choice: 'xml'" in done.stderr


def test_github_escapes_what_would_end_the_command_early() -> None:
    problem = Problem("odd, name:1.yaml", 3, 4, "100% sure\nsecond line", Severity.ERROR)
    assert github_annotation(problem) == (
        "::error file=odd%2C name%3A1.yaml,line=3,col=4::100%25 sure%0Asecond line"
    )


def test_the_readmes_github_actions_steps_pass_on_the_shipped_flows(ivr) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("\n## Continuous integration\n") :]
    block = section[
        section.index("```yaml\n") + 8 : section.index("```\n", section.index("```yaml"))
    ]
    commands = [line.split("- run: ", 1)[1] for line in block.splitlines() if "- run: ivr " in line]
    assert commands == ["ivr validate --format github", "ivr test --fail-under 100"]
    for command in commands:
        done = ivr(*command.split()[1:])
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert "::error" not in done.stdout
