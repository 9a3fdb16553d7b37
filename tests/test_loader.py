"""The loader: file name -> flow id, content -> version, every problem in one pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_engine.errors import FlowError
from tests.support import loader

FLOW = "start: hello\nnodes:\n  hello:\n    type: hangup\n    text: Hello.\n"


def test_the_flow_id_is_the_file_name_without_its_suffix(tmp_path: Path) -> None:
    for name in ("acme-support.yaml", "after_hours.yml"):
        path = tmp_path / name
        path.write_text(FLOW, encoding="utf-8")
        assert loader().load_file(path).flow.id == path.stem


def test_a_file_name_that_is_no_flow_id_is_refused_with_a_name_to_use(tmp_path: Path) -> None:
    path = tmp_path / "Acme Support.yaml"
    path.write_text(FLOW, encoding="utf-8")
    with pytest.raises(FlowError) as raised:
        loader().load_file(path)
    assert [p.message for p in raised.value.problems] == [
        'the file name "Acme Support" cannot be a flow id: use only lowercase letters, digits, '
        '- and _: rename the file to "acme-support.yaml"'
    ]


def test_the_version_is_a_hash_of_the_content(tmp_path: Path) -> None:
    path = tmp_path / "main.yaml"
    path.write_text(FLOW, encoding="utf-8")
    first = loader().load_file(path).flow.version
    assert loader().load_file(path).flow.version == first
    path.write_text(FLOW.replace("Hello.", "Hello!"), encoding="utf-8")
    changed = loader().load_file(path).flow.version
    assert changed != first
    assert len(first) == len(changed) == 16


def test_a_comment_change_is_a_new_version_too(tmp_path: Path) -> None:
    path = tmp_path / "main.yaml"
    path.write_text(FLOW, encoding="utf-8")
    first = loader().load_file(path).flow.version
    path.write_text("# reviewed\n" + FLOW, encoding="utf-8")
    assert loader().load_file(path).flow.version != first


def test_a_file_that_is_not_utf8_is_refused_in_words(tmp_path: Path) -> None:
    path = tmp_path / "main.yaml"
    path.write_bytes(FLOW.replace("Hello.", "Hola se\xf1or.").encode("latin-1"))
    with pytest.raises(FlowError) as raised:
        loader().load_file(path)
    assert [p.message for p in raised.value.problems] == [
        "this file is not UTF-8 text: save it as UTF-8"
    ]


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = (
        "start: welcome\n"
        "timezone: Mars/Olympus\n"
        "nodes:\n"
        "  welcome:\n"
        "    type: say\n"
        "    text: Hi {{ nme }}\n"
        "    next: menu\n"
        "  menu:\n"
        "    type: menu\n"
        "    prompt: Press 1.\n"
        "    options:\n"
        "      1: salse\n"
        "    timeout: 0\n"
    )
    with pytest.raises(FlowError) as raised:
        loader().load_text(text, "main.yaml", "main")
    assert [str(p) for p in raised.value.problems] == [
        'main.yaml:2:11: "timezone": "Mars/Olympus" is not a known timezone: use an IANA name '
        'such as "America/New_York" or "Europe/London"',
        'main.yaml:6:11: node "welcome", field "text": uses the variable "nme", which nothing '
        "sets; give it a default under `vars:`, set it with a set node, or fill it with `into:`",
        'main.yaml:12:10: node "menu", option "1": goes to "salse", which is not a node in this flow',
        'main.yaml:13:14: node "menu", field "timeout": 0 is out of range: it must be at least 1',
    ]


def test_a_loaded_flow_is_read_only() -> None:
    flow = loader().load_text(FLOW, "main.yaml", "main").flow
    node = flow.nodes["hello"]
    with pytest.raises(AttributeError):
        node.id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        node.spec["text"] = "Bye."  # type: ignore[index]
