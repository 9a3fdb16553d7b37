"""docs/plugins.md shows the example plugin's files whole; they must not drift apart."""

from __future__ import annotations

import re

from tests.plugins import ROOT

DOC = ROOT / "docs" / "plugins.md"
EXAMPLE = ROOT / "examples" / "ivr-survey-plugin"
TITLED_BLOCK = re.compile(r'^```\w+ title="([^"]+)"\n(.*?)^```$', re.M | re.S)


def test_every_file_the_tutorial_shows_is_the_example_plugins_file() -> None:
    blocks = dict(TITLED_BLOCK.findall(DOC.read_text(encoding="utf-8")))
    assert sorted(blocks) == [
        "flows/survey.yaml",
        "ivr_survey/__init__.py",
        "ivr_survey/survey_question.py",
        "pyproject.toml",
        "tests/test_survey_question.py",
    ]
    for name, text in blocks.items():
        assert text == (EXAMPLE / name).read_text(encoding="utf-8"), f"{name} differs"
