"""The YAML reader closes PyYAML's traps and keeps positions."""

from pathlib import Path

import pytest

from ivr_engine import reader
from ivr_engine.errors import FlowError
from ivr_engine.reader import Position, read_yaml
from tests.support import EXAMPLES, VALID


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


SAMPLES = sorted(EXAMPLES.glob("*.yaml")) + sorted(VALID.glob("*.yaml"))


@pytest.mark.skipif(reader._FAST_LOADER is None, reason="PyYAML was built without libyaml")
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_libyaml_and_the_python_parser_read_a_flow_the_same(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = path.read_text(encoding="utf-8")
    fast = read_yaml(text, str(path))
    monkeypatch.setattr(reader, "_FAST_LOADER", None)
    slow = read_yaml(text, str(path))
    assert (fast.data, fast.values, fast.keys, fast.plain_scalars, fast.comments) == (
        slow.data,
        slow.values,
        slow.keys,
        slow.plain_scalars,
        slow.comments,
    )


def test_a_comment_after_an_unquoted_value_is_remembered_where_its_hash_is() -> None:
    doc = read_yaml("a: Press # to finish\nb: '# quoted'\nc: 20  # seconds\n", "f.yaml")
    assert doc.data == {"a": "Press", "b": "# quoted", "c": 20}
    assert doc.comments == {
        ("a",): (Position(1, 10), " to finish"),
        ("c",): (Position(3, 8), " seconds"),
    }


def test_an_unquoted_template_is_refused_with_the_quotes_to_add() -> None:
    with pytest.raises(FlowError) as raised:
        read_yaml("nodes:\n  hi:\n    text: {{ name }}\n", "f.yaml")
    assert str(raised.value) == (
        'f.yaml:3:11: node "hi", field "text": a text starting with {{ must be in quotes: '
        'write "{{ name }}"'
    )


def test_a_syntax_error_found_by_libyaml_is_worded_from_the_python_parser() -> None:
    with pytest.raises(FlowError) as raised:
        read_yaml('a:\n  b: "open\n  c: d\n', "f.yaml")
    assert str(raised.value) == (
        "f.yaml:2:6: this is not valid YAML: this quoted text is never closed: add the closing quote"
    )
