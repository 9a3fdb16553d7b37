"""The node-type registry: every node type, built-in or plugin, is found here by `type`.

Built-ins are registered through `register()` exactly like plugins, which come from the
entry-point group `ivr_engine.nodes` and from modules listed in the project config. Anything
wrong with a plugin becomes one `PluginError` naming where it came from, never a traceback,
and a registry with an error is not used at all.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import entry_points
from typing import Any

import jsonschema

from .errors import PluginError
from .node import Node
from .schema import compose
from .schema_cache import MetaschemaCache

ENTRY_POINT_GROUP = "ivr_engine.nodes"
BUILTIN_SOURCE = "ivr-engine (built-in)"
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class NodeType:
    cls: type[Node]
    source: str

    @property
    def name(self) -> str:
        return self.cls.type_name


class Registry:
    """Node types by name, and the flow schema composed from them."""

    def __init__(self, metaschema: MetaschemaCache | None = None) -> None:
        self._types: dict[str, NodeType] = {}
        self.metaschema = metaschema or MetaschemaCache()

    def register(self, cls: Any, source: str) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Node)):
            raise PluginError(f"{source}: {cls!r} is not a subclass of ivr_engine.Node")
        name = cls.type_name
        if not isinstance(name, str) or not _TYPE_NAME.match(name):
            raise PluginError(
                f"{source}: {cls.__name__}.type_name {name!r} must be lowercase letters, digits and _"
            )
        if name in self._types:
            taken = self._types[name].source
            raise PluginError(f'{source}: node type "{name}" is already provided by {taken}')
        if not self.metaschema.passed(cls.schema):
            try:
                jsonschema.Draft202012Validator.check_schema(cls.schema)
            except jsonschema.SchemaError as exc:
                raise PluginError(
                    f'{source}: node type "{name}" has an invalid schema: {exc.message}'
                ) from None
            self.metaschema.remember(cls.schema)
        if cls.schema.get("type", "object") != "object":
            raise PluginError(f'{source}: node type "{name}" schema must describe an object')
        self._types[name] = NodeType(cls, source)
        self.__dict__.pop("schema", None)

    def get(self, name: str) -> type[Node] | None:
        found = self._types.get(name)
        return found.cls if found else None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[NodeType]:
        return iter(sorted(self._types.values(), key=lambda t: t.name))

    def names(self) -> list[str]:
        return sorted(self._types)

    @cached_property
    def schema(self) -> dict[str, Any]:
        """The flow schema for exactly the registered node types."""
        return compose({t.name: t.cls.schema for t in self._types.values()})

    @cached_property
    def validator(self) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator(self.schema, format_checker=None)


def _load_entry_point(ep: Any) -> Iterable[Any]:
    where = (
        f'plugin package "{ep.dist.name if ep.dist else "?"}", entry point "{ep.name} = {ep.value}"'
    )
    try:
        loaded = ep.load()
    except Exception as exc:  # a broken plugin must not take the engine down with a traceback
        raise PluginError(f"{where}: failed to import: {type(exc).__name__}: {exc}") from None
    return [(item, where) for item in (loaded if isinstance(loaded, list | tuple) else [loaded])]


def _load_module(module_name: str, config_file: str) -> Iterable[Any]:
    where = f'plugin module "{module_name}" (listed in {config_file})'
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise PluginError(f"{where}: failed to import: {type(exc).__name__}: {exc}") from None
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Node)
        and value is not Node
        and value.type_name
        and value.__module__ == module.__name__
    ]
    if not found:
        raise PluginError(f"{where}: defines no Node subclass with a type_name")
    return [(cls, where) for cls in found]


def build_registry(plugin_modules: Iterable[str] = (), config_file: str = "ivr.toml") -> Registry:
    """Built-ins, then installed entry points, then the project's own plugin modules."""
    from .nodes import BUILTIN_NODES

    registry = Registry()
    for cls in BUILTIN_NODES:
        registry.register(cls, BUILTIN_SOURCE)
    for ep in entry_points().select(group=ENTRY_POINT_GROUP):
        for cls, where in _load_entry_point(ep):
            registry.register(cls, where)
    for module_name in plugin_modules:
        for cls, where in _load_module(module_name, config_file):
            registry.register(cls, where)
    return registry
