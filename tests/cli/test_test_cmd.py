"""`ivr test` runs YAML flow tests with clear pass/fail output and an exit code; pytest runs them too."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PASSING = """\
flow: acme
cases:
  - name: sales answers
    steps:
      - press: "1"
      - dial_result: completed
    expect_end: hangup
"""
FAILING = """\
  - name: support is dialled
    steps:
      - press: "1"
      - expect_dial: "+15550111"
"""


@pytest.fixture
def project(tmp_path: Path, root: Path) -> Path:
    (tmp_path / "flows" / "tests").mkdir(parents=True)
    shutil.copy(root / "flows" / "acme.yaml", tmp_path / "flows" / "acme.yaml")
    return tmp_path


def test_the_shipped_flow_tests_pass(ivr) -> None:
    done = ivr("test")
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    assert [line for line in lines if line.startswith("flows/")] == [
        "flows/tests/account.yaml (flow account)",
        "flows/tests/acme.yaml (flow acme)",
        "flows/tests/assistant.yaml (flow assistant)",
        "flows/tests/bilingual.yaml (flow bilingual)",
        "flows/tests/hours.yaml (flow hours)",
        "flows/tests/reminder.yaml (flow reminder)",
        "flows/tests/support.yaml (flow support)",
        "flows/tests/support_agent.yaml (flow support_agent)",
        "flows/tests/verified.yaml (flow verified)",
    ]
    assert "  ok    caller presses 1 and reaches sales, who are busy, and leaves a message" in lines
    assert lines[-1].endswith(" passed, 0 failed")


def test_a_failing_case_prints_where_what_was_expected_and_what_was_heard(
    ivr, project: Path
) -> None:
    (project / "flows" / "tests" / "acme.yaml").write_text(PASSING + FAILING)
    done = ivr("test", cwd=project)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "flows/tests/acme.yaml (flow acme)",
        "  ok    sales answers",
        "  FAIL  support is dialled",
        '        flows/tests/acme.yaml:11:9: step 2 (expect_dial): the call dials +15550100, not "+15550111"',
        '          the caller heard, after pressing "1":',
        '            dial +15550100  <- the call waits here, at node "sales"',
        "2 cases: 1 passed, 1 failed",
    ]


def test_a_broken_test_file_lists_its_problems_and_fails(ivr, project: Path) -> None:
    (project / "flows" / "tests" / "acme.yaml").write_text(
        "flow: acme\ncases:\n  - name: x\n    stepz: []\n"
    )
    done = ivr("test", "flows/tests/acme.yaml", cwd=project)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "flows/tests/acme.yaml",
        '  flows/tests/acme.yaml:4:5: case "x": "stepz" is not a field here (did you mean "steps"?); '
        "allowed fields are name, from, to, at, vars, contact, answered_by, fail_at, steps, expect_path, expect_vars, "
        "expect_messages or expect_end",
        "0 cases: 0 passed, 0 failed; 1 test file could not run",
    ]


def test_coverage_lists_what_no_test_takes(ivr, project: Path) -> None:
    (project / "flows" / "tests" / "acme.yaml").write_text(PASSING)
    done = ivr("test", "--coverage", cwd=project)
    assert done.returncode == 0
    report = done.stdout.split("\n\n")[1]
    assert report.splitlines()[:3] == [
        "coverage (transitions the tests take, and nodes they reach):",
        "  acme  transitions 3/17  nodes 4/8  18%",
        '      node not reached: "support"',
    ]
    assert "      transition not taken: main_menu --no input--> main_menu" in report.splitlines()


def test_fail_under_fails_with_the_coverage_reached_and_what_is_missing(ivr, project: Path) -> None:
    (project / "flows" / "tests" / "acme.yaml").write_text(PASSING)
    done = ivr("test", "--fail-under", "18", cwd=project)
    assert done.returncode == 1
    assert done.stderr == (
        "coverage 17.6% is below --fail-under 18%: add tests that take the transitions "
        "listed above\n"
    )
    assert "  acme  transitions 3/17  nodes 4/8  18%" in done.stdout.splitlines()


def test_fail_under_passes_at_the_coverage_reached(ivr, project: Path) -> None:
    (project / "flows" / "tests" / "acme.yaml").write_text(PASSING)
    done = ivr("test", "--coverage", "--fail-under", "17.6", cwd=project)
    assert (done.returncode, done.stderr) == (0, "")


def test_the_shipped_flow_tests_take_every_transition(ivr) -> None:
    done = ivr("test", "--fail-under", "100")
    assert (done.returncode, done.stderr) == (0, ""), done.stdout


def test_fail_under_refuses_what_is_not_a_percentage(ivr) -> None:
    done = ivr("test", "--fail-under", "lots")
    assert done.returncode == 2
    assert "argument --fail-under: 'lots' is not a percentage from 0 to 100" in done.stderr


def test_no_tests_found_is_a_failure(ivr, tmp_path: Path) -> None:
    done = ivr("test", str(tmp_path))
    assert (done.returncode, done.stderr) == (1, f"no flow tests found in {tmp_path}\n")


def test_a_missing_path_is_reported(ivr, project: Path) -> None:
    (project / "flows" / "tests" / "acme.yaml").write_text(PASSING)
    done = ivr("test", "flows", "nowhere", cwd=project)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == "nowhere: no such file or folder"


def pytest_in(project: Path, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (project / "conftest.py").write_text('pytest_plugins = ["ivr_engine.tooling.pytest_plugin"]\n')
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "flows", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pytest_collects_each_case_and_shows_the_same_failure(project: Path, root: Path) -> None:
    (project / "flows" / "tests" / "acme.yaml").write_text(PASSING + FAILING)
    done = pytest_in(project, root)
    assert done.returncode == 1
    assert (
        'flows/tests/acme.yaml:11:9: step 2 (expect_dial): the call dials +15550100, not "+15550111"'
        in done.stdout
    )
    assert "FAILED flows/tests/acme.yaml::support is dialled" in done.stdout
    assert "1 failed, 1 passed" in done.stdout


def test_pytest_reports_a_broken_test_file_as_a_collection_error(project: Path, root: Path) -> None:
    (project / "flows" / "tests" / "acme.yaml").write_text(
        "flow: acme\ncases:\n  - name: x\n    steps: [{presss: 1}]\n"
    )
    done = pytest_in(project, root)
    assert done.returncode == 2
    assert (
        'flows/tests/acme.yaml:4:14: case "x", step 1: "presss" is not a step (did you mean "press"?)'
        in done.stdout
    )
