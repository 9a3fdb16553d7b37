"""The metaschema check of node-type schemas is remembered by content hash, passes only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ivr_engine.errors import PluginError
from ivr_engine.node import Node
from ivr_engine.registry import Registry
from ivr_engine.schema_cache import MetaschemaCache


def node_type(name: str, schema: dict[str, Any]) -> type[Node]:
    return type(f"{name.title()}Node", (Node,), {"type_name": name, "schema": schema})


GOOD = {"type": "object", "properties": {"type": {"const": "good"}}}
BAD = {"type": "object", "properties": {"type": {"type": "no-such-type"}}}


def test_a_schema_that_passed_once_is_not_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Registry(MetaschemaCache(tmp_path)).register(node_type("good", GOOD), "test")
    calls: list[object] = []
    monkeypatch.setattr(
        jsonschema.Draft202012Validator, "check_schema", classmethod(lambda cls, s: calls.append(s))
    )
    Registry(MetaschemaCache(tmp_path)).register(node_type("good", GOOD), "test")
    assert calls == []
    changed = {**GOOD, "required": ["type"]}
    Registry(MetaschemaCache(tmp_path)).register(node_type("good", changed), "test")
    assert calls == [changed]  # new content: checked again


def test_an_invalid_schema_is_refused_every_time_and_never_remembered(tmp_path: Path) -> None:
    for _ in range(2):
        with pytest.raises(PluginError, match='node type "bad" has an invalid schema'):
            Registry(MetaschemaCache(tmp_path)).register(node_type("bad", BAD), "test")
    assert not MetaschemaCache(tmp_path).passed(BAD)


def test_an_unwritable_cache_only_costs_the_check(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    Registry(MetaschemaCache(blocked)).register(node_type("good", GOOD), "test")
