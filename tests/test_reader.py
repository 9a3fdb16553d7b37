"""The YAML reader closes PyYAML's traps and keeps positions."""

import pytest

from ivr_engine.errors import FlowError
from ivr_engine.reader import read_yaml


def test_yaml_11_booleans_stay_the_words_the_author_wrote() -> None:
    doc = read_yaml("a: yes\nb: no\non: off\nc: true\n", "f.yaml")
    assert doc.data == {"a": "yes", "b": "no", "on": "off", "c": True}


def test_times_dates_and_leading_zeros_stay_text() -> None:
    doc = read_yaml("t: 10:30\nd: 2026-12-25\nn: 010\nm: 08\nphone: +15550100\ni: 12\n", "f.yaml")
    assert doc.data == {
        "t": "10:30",
        "d": "2026-12-25",
        "n": "010",
        "m": "08",
        "phone": "+15550100",
        "i": 12,
    }


def test_mapping_keys_are_always_text() -> None:
    doc = read_yaml("options:\n  1: a\n  010: b\n", "f.yaml")
    assert doc.data == {"options": {"1": "a", "010": "b"}}


def test_duplicate_keys_are_refused_with_both_lines() -> None:
    with pytest.raises(FlowError) as raised:
        read_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert str(raised.value) == (
        'f.yaml:3:1: "a" is written twice (first on line 1); YAML would silently keep only the last one: '
        "remove or rename one of them"
    )


def test_tab_indentation_is_reported_at_its_line() -> None:
    with pytest.raises(
        FlowError, match=r"f\.yaml:3:1: this is not valid YAML: a tab is used for indentation"
    ):
        read_yaml("a:\n  b: 1\n\tc: 2\n", "f.yaml")


def test_positions_count_from_one() -> None:
    doc = read_yaml("start: a\nnodes:\n  a:\n    type: say\n", "f.yaml")
    assert (doc.values[("nodes", "a", "type")].line, doc.values[("nodes", "a", "type")].column) == (
        4,
        11,
    )
    assert (doc.keys[("nodes", "a")].line, doc.keys[("nodes", "a")].column) == (3, 3)
