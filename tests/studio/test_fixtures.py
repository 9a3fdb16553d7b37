"""Each Studio fixture imports to exactly the YAML beside it, and that YAML validates."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import FIXTURES, imported

NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))


@pytest.mark.parametrize("name", NAMES)
def test_a_fixture_imports_to_the_yaml_beside_it(name: str) -> None:
    expected = (FIXTURES / f"{name}.yaml").read_text(encoding="utf-8")
    assert imported(name).yaml == expected


@pytest.mark.parametrize("name", NAMES)
def test_every_imported_fixture_validates_without_errors(name: str) -> None:
    report = imported(name).report
    assert report.validates, report.validation


def test_the_rest_api_wrapper_imports_like_the_export_it_wraps() -> None:
    wrapped = imported("rest_api_wrapper").yaml
    plain = imported("say_play").yaml
    assert wrapped.replace("rest_api_wrapper.json", "say_play.json") == plain


def test_each_node_names_the_studio_widget_it_came_from() -> None:
    text = imported("dial_record").yaml
    assert '  # Studio widget "ring_office" (connect-call-to)\n  ring_office:\n' in text
    assert '  # Studio widget "voicemail" (record-voicemail)\n  voicemail:\n' in text
    assert '  # added by the import: "voicemail" goes on by recordingComplete or noAudio\n' in text


def test_fixtures_are_small_and_our_own(tmp_path: Path) -> None:
    for path in FIXTURES.glob("*.json"):
        assert path.stat().st_size < 5000, path
