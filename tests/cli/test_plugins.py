"""`ivr plugins`, and a broken plugin stopping every command and the server with one message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ivr_engine import PluginError
from ivr_engine.web import Settings, create_app
from tests.plugins import LOOKUP_NODE, install_fake_plugin, ivr

BROKEN = (
    'error: plugin package "acme-broken", entry point "lookup = acme_broken:LookupNode": '
    "failed to import: ModuleNotFoundError: No module named 'crm_client_that_is_not_installed'\n"
)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return tmp_path / "site"


@pytest.fixture
def broken_site(site: Path) -> Path:
    install_fake_plugin(
        site, "acme-broken", "acme_broken", "import crm_client_that_is_not_installed\n",
        {"lookup": "acme_broken:LookupNode"},
    )  # fmt: skip
    return site


def test_ivr_plugins_lists_builtins_and_installed_plugins_with_their_source(
    site: Path, tmp_path: Path
) -> None:
    install_fake_plugin(
        site, "acme-nodes", "acme_nodes", LOOKUP_NODE.format(type_name="lookup"),
        {"lookup": "acme_nodes:LookupNode"},
    )  # fmt: skip
    done = ivr("plugins", cwd=tmp_path, path=[site])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["TYPE", "TITLE", "FROM"]
    assert "say      Say             ivr-engine (built-in)" in lines
    assert (
        'lookup   Order lookup    plugin package "acme-nodes", entry point '
        '"lookup = acme_nodes:LookupNode"'
    ) in lines


def test_ivr_plugins_shows_project_modules_from_ivr_toml(tmp_path: Path) -> None:
    (tmp_path / "ivr.toml").write_text('plugins = ["local_nodes"]\n', encoding="utf-8")
    (tmp_path / "local_nodes.py").write_text(LOOKUP_NODE.format(type_name="local_lookup"))
    done = ivr("plugins", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert 'plugin module "local_nodes" (listed in ivr.toml)' in done.stdout


@pytest.mark.parametrize("command", [["plugins"], ["validate"], ["schema"]])
def test_a_broken_plugin_stops_every_command_with_one_clear_error(
    broken_site: Path, tmp_path: Path, command: list[str]
) -> None:
    done = ivr(*command, cwd=tmp_path, path=[broken_site])
    assert (done.returncode, done.stdout, done.stderr) == (2, "", BROKEN)


def test_the_server_refuses_to_start_with_a_broken_plugin(
    broken_site: Path, tmp_path: Path
) -> None:
    (tmp_path / "flows").mkdir()
    done = ivr("serve", "--insecure", "--port", "0", cwd=tmp_path, path=[broken_site])
    assert (done.returncode, done.stderr) == (2, BROKEN)
    assert "Uvicorn running" not in done.stdout + done.stderr


def test_create_app_raises_the_plugin_error_before_serving(
    broken_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(broken_site))
    settings = Settings(flows_dir=tmp_path, db_path=str(tmp_path / "db"), insecure=True)
    with pytest.raises(PluginError) as caught:
        create_app(settings)
    assert f"error: {caught.value}\n" == BROKEN


def test_ivr_schema_includes_plugin_node_types(site: Path, tmp_path: Path) -> None:
    install_fake_plugin(
        site, "acme-nodes", "acme_nodes", LOOKUP_NODE.format(type_name="lookup"),
        {"lookup": "acme_nodes:LookupNode"},
    )  # fmt: skip
    done = ivr("schema", cwd=tmp_path, path=[site])
    schema = json.loads(done.stdout)
    assert schema["$defs"]["lookup"]["title"] == "Order lookup"
    assert "lookup" in schema["$defs"]["node"]["properties"]["type"]["enum"]
