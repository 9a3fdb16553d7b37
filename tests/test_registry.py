"""The node-type registry: built-ins, entry-point plugins, project modules, and what breaks."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr_engine import Node, PluginError
from ivr_engine.errors import FlowError
from ivr_engine.loader import FlowLoader
from ivr_engine.project import project_registry
from ivr_engine.registry import BUILTIN_SOURCE, Registry, build_registry
from tests.plugins import LOOKUP_NODE, install_fake_plugin


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path that plays site-packages; modules put there are forgotten after."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_builtins_are_registered_through_the_same_path_with_their_source() -> None:
    registry = build_registry()
    assert registry.names() == [
        "agent", "branch", "dequeue", "dial", "enqueue", "gather", "hangup", "hours",
        "http", "menu", "message", "pause", "play", "record", "return", "say", "set",
        "subflow", "verify",
    ]  # fmt: skip
    assert {t.source for t in registry} == {BUILTIN_SOURCE}


def test_an_entry_point_plugin_is_registered_and_named_by_package_and_entry_point(
    site: Path,
) -> None:
    install_fake_plugin(
        site, "acme-nodes", "acme_nodes", LOOKUP_NODE.format(type_name="lookup"),
        {"lookup": "acme_nodes:LookupNode"},
    )  # fmt: skip
    registry = build_registry()
    [lookup] = [t for t in registry if t.name == "lookup"]
    assert (
        lookup.source == 'plugin package "acme-nodes", entry point "lookup = acme_nodes:LookupNode"'
    )
    assert lookup.cls.__module__ == "acme_nodes"


def test_an_entry_point_may_name_a_list_of_node_types(site: Path) -> None:
    source = (
        LOOKUP_NODE.format(type_name="lookup")
        + "\nclass OtherNode(LookupNode):\n    type_name = 'other'\n\nNODES = [LookupNode, OtherNode]\n"
    )
    install_fake_plugin(site, "acme-nodes", "acme_many", source, {"all": "acme_many:NODES"})
    assert {"lookup", "other"} <= set(build_registry().names())


def test_a_project_module_listed_in_ivr_toml_is_registered(tmp_path: Path) -> None:
    (tmp_path / "ivr.toml").write_text('plugins = ["local_nodes"]\n', encoding="utf-8")
    (tmp_path / "local_nodes.py").write_text(LOOKUP_NODE.format(type_name="local_lookup"))
    try:
        registry = project_registry(tmp_path)
    finally:
        sys.modules.pop("local_nodes", None)
        sys.path.remove(str(tmp_path))
    [found] = [t for t in registry if t.name == "local_lookup"]
    assert found.source == 'plugin module "local_nodes" (listed in ivr.toml)'


def test_two_plugins_with_one_type_name_is_an_error_naming_both(site: Path) -> None:
    for dist, module in (("acme-nodes", "acme_one"), ("other-nodes", "other_one")):
        install_fake_plugin(
            site, dist, module, LOOKUP_NODE.format(type_name="lookup"),
            {"lookup": f"{module}:LookupNode"},
        )  # fmt: skip
    with pytest.raises(PluginError) as caught:
        build_registry()
    message = str(caught.value)
    # whichever is found second is refused, naming itself and the one that has the name
    assert 'node type "lookup" is already provided by plugin package' in message
    assert 'plugin package "acme-nodes", entry point "lookup = acme_one:LookupNode"' in message
    assert 'plugin package "other-nodes", entry point "lookup = other_one:LookupNode"' in message


def test_a_plugin_taking_a_builtin_name_is_refused(site: Path) -> None:
    install_fake_plugin(
        site, "acme-nodes", "acme_say", LOOKUP_NODE.format(type_name="say"),
        {"say": "acme_say:LookupNode"},
    )  # fmt: skip
    with pytest.raises(PluginError) as caught:
        build_registry()
    assert str(caught.value) == (
        'plugin package "acme-nodes", entry point "say = acme_say:LookupNode": '
        'node type "say" is already provided by ivr-engine (built-in)'
    )


def test_a_plugin_that_fails_to_import_is_one_clear_error(site: Path) -> None:
    install_fake_plugin(
        site, "acme-broken", "acme_broken", "import crm_client_that_is_not_installed\n",
        {"lookup": "acme_broken:LookupNode"},
    )  # fmt: skip
    with pytest.raises(PluginError) as caught:
        build_registry()
    assert str(caught.value) == (
        'plugin package "acme-broken", entry point "lookup = acme_broken:LookupNode": failed to '
        "import: ModuleNotFoundError: No module named 'crm_client_that_is_not_installed'"
    )


def test_a_plugin_with_an_invalid_schema_is_refused(site: Path) -> None:
    source = LOOKUP_NODE.format(type_name="lookup").replace(
        '"required": ["order", "next"]', '"required": "order"'
    )
    install_fake_plugin(site, "acme-nodes", "acme_bad", source, {"lookup": "acme_bad:LookupNode"})
    with pytest.raises(PluginError) as caught:
        build_registry()
    assert str(caught.value) == (
        'plugin package "acme-nodes", entry point "lookup = acme_bad:LookupNode": node type '
        "\"lookup\" has an invalid schema: 'order' is not of type 'array'"
    )


def test_an_entry_point_that_is_not_a_node_class_is_refused(site: Path) -> None:
    install_fake_plugin(
        site, "acme-nodes", "acme_fn", "def lookup(): pass\n", {"x": "acme_fn:lookup"}
    )
    with pytest.raises(PluginError, match=r"is not a subclass of ivr_engine\.Node$"):
        build_registry()


def test_a_bad_type_name_is_refused() -> None:
    class Shouting(Node):
        type_name = "Lookup"

    with pytest.raises(PluginError) as caught:
        Registry().register(Shouting, "tests")
    assert str(caught.value) == (
        "tests: Shouting.type_name 'Lookup' must be lowercase letters, digits and _"
    )


def test_the_composed_schema_adds_plugin_types_with_their_type_constant(site: Path) -> None:
    install_fake_plugin(
        site, "acme-nodes", "acme_schema", LOOKUP_NODE.format(type_name="lookup"),
        {"lookup": "acme_schema:LookupNode"},
    )  # fmt: skip
    schema = build_registry().schema
    lookup = schema["$defs"]["lookup"]
    assert lookup["properties"]["type"] == {"const": "lookup"}
    assert lookup["required"] == ["type", "order", "next"]
    assert lookup["title"] == "Order lookup"
    assert "lookup" in schema["$defs"]["node"]["properties"]["type"]["enum"]
    assert {"if": {"properties": {"type": {"const": "lookup"}}, "required": ["type"]},
            "then": {"$ref": "#/$defs/lookup"}} in schema["$defs"]["node"]["allOf"]  # fmt: skip
    # the built-ins keep their definitions from the shipped file, titles and all
    assert schema["$defs"]["http"]["properties"]["timeout"]["default"] == 3


def test_a_flow_using_a_plugin_node_is_checked_like_any_other(site: Path, tmp_path: Path) -> None:
    install_fake_plugin(
        site, "acme-nodes", "acme_flow", LOOKUP_NODE.format(type_name="lookup"),
        {"lookup": "acme_flow:LookupNode"},
    )  # fmt: skip
    path = tmp_path / "orders.yaml"
    path.write_text(
        "start: find\nnodes:\n"
        "  find:\n    type: lookup\n    order: '{{ call.from }}'\n    next: bye\n    ordr: x\n"
        "  bye: {type: hangup, text: 'Your order is {{ order_status }}'}\n",
        encoding="utf-8",
    )
    with pytest.raises(FlowError) as caught:
        FlowLoader(build_registry()).load_file(path)
    assert [str(p) for p in caught.value.errors] == [
        f'{path}:7:5: node "find": "ordr" is not a field of a lookup node (did you mean "order"?); '
        "allowed fields are next or order",
        f'{path}:8:29: node "bye", field "text": uses the variable "order_status", which nothing '
        "sets; give it a default under `vars:`, set it with a set node, or fill it with `into:`",
    ]
