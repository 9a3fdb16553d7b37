"""The project a command runs in: its `ivr.toml` (plugin modules) and its node-type registry.

`ivr.toml` is optional; it sits in the working directory. It lists local plugin modules:

    plugins = ["mycompany.nodes"]
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DefinitionError
from .registry import Registry, build_registry

CONFIG_FILE = "ivr.toml"


@dataclass(frozen=True)
class ProjectConfig:
    root: Path
    plugins: list[str] = field(default_factory=list)
    file: Path | None = None


def load_config(root: Path | None = None) -> ProjectConfig:
    root = (root or Path.cwd()).resolve()
    path = root / CONFIG_FILE
    if not path.is_file():
        return ProjectConfig(root)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{CONFIG_FILE}: this is not valid TOML: {exc}") from None
    plugins = data.get("plugins", [])
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        raise DefinitionError(
            f'{CONFIG_FILE}: "plugins" must be a list of module names, e.g. ["mycompany.nodes"]'
        )
    return ProjectConfig(root, plugins, path)


def project_registry(root: Path | None = None) -> Registry:
    """Built-ins, installed plugins and the project's own plugin modules (importable from root)."""
    config = load_config(root)
    if str(config.root) not in sys.path:
        sys.path.insert(0, str(config.root))
    return build_registry(config.plugins, CONFIG_FILE)
