"""The example plugin package, the whole way: pip install -> ivr plugins -> ivr validate ->
its own test suite -> the server runs a call through it.

The package is installed with pip from its folder into a temporary target (offline: no
index, no build isolation, hatchling from the test extra), so the test environment itself is
left as it was and every run starts from the package source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ivr_engine.web import Settings, create_app
from tests.conftest import Twilio, session_data
from tests.plugins import ROOT, ivr
from tests.web.calls import Call

PLUGIN = ROOT / "examples" / "ivr-survey-plugin"
SOURCE = (
    'plugin package "ivr-survey-plugin", entry point '
    '"survey_question = ivr_survey:SurveyQuestionNode"'
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    offline = ["--no-index", "--no-deps", "--no-build-isolation"]
    done = subprocess.run(
        [*pip, *offline, "--target", str(target), str(PLUGIN)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return target


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with the example's flow in flows/."""
    shutil.copytree(PLUGIN / "flows", tmp_path / "flows")
    return tmp_path


def test_after_pip_install_ivr_plugins_lists_the_node_type(site: Path, project: Path) -> None:
    done = ivr("plugins", cwd=project, path=[site])
    assert done.returncode == 0, done.stderr
    assert f"survey_question  Survey question  {SOURCE}" in done.stdout.splitlines()


def test_a_flow_using_it_validates(site: Path, project: Path) -> None:
    done = ivr("validate", "flows", cwd=project, path=[site])
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "",
        "checked 1 flow: 0 error(s), 0 warning(s)\n",
    )


def test_a_wrong_field_in_it_is_an_error_with_file_line_and_column(
    site: Path, project: Path
) -> None:
    flow = project / "flows" / "survey.yaml"
    flow.write_text(flow.read_text().replace("    into: rating", "    into: rating\n    scale: 10"))
    done = ivr("validate", "flows", cwd=project, path=[site])
    assert done.returncode == 1
    assert done.stdout == (
        'flows/survey.yaml:11:5: node "rate_us": "scale" is not a field of a survey_question '
        "node; allowed fields are attempts, into, invalid, next, on_failure or question\n"
    )


def test_without_the_package_the_type_is_unknown(project: Path) -> None:
    done = ivr("validate", "flows", cwd=project)
    assert done.returncode == 1
    assert 'node "rate_us": "survey_question" is not a node type' in done.stdout


def test_its_own_test_suite_passes_against_this_engine(site: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:benchmark"],
        cwd=PLUGIN,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(site)])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout.splitlines()[-1]


@pytest.fixture
def survey_server(
    site: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Twilio]:
    monkeypatch.syspath_prepend(str(site))
    shutil.copy(PLUGIN / "flows" / "survey.yaml", settings.flows_dir / "survey.yaml")
    try:
        with TestClient(create_app(settings)) as client:
            yield Twilio(client)
    finally:
        for name in [m for m in sys.modules if m == "ivr_survey" or m.startswith("ivr_survey.")]:
            del sys.modules[name]


def test_the_server_runs_a_call_through_it_end_to_end(
    survey_server: Twilio, settings: Settings
) -> None:
    call = Call(survey_server, "survey")
    asked = call.start()
    assert asked.verbs() == ["Gather", "Redirect"]
    assert asked.said() == ["On a scale of 1 to 5, how happy are you with our service?"]
    retry = call.press("7")
    assert retry.said() == [
        "Sorry, I need a number from 1 to 5.",
        "On a scale of 1 to 5, how happy are you with our service?",
    ]
    done = call.say("four please")
    assert done.said() == ["Thank you: you gave us 4 out of 5. Goodbye."]
    assert done.verbs() == ["Say", "Hangup"]
    assert session_data(settings, call.sid)["vars"]["rating"] == 4
