"""Semantic stage: what the schema cannot see, checked across the whole flow.

Runs on a document that passed the schema, with every node already an instance of its
registered type, so it works the same for built-in and plugin node types: targets name real
nodes, templates and conditions compile and read only known variables, every node can be
reached, no loop spins without waiting for the caller, and each node's own `check()`.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import Problem, Severity
from .node import FieldPath, Node, iter_field
from .reader import Document
from .templates import (
    BUILTIN_NAMES,
    CALL_FIELDS,
    CompiledExpression,
    CompiledText,
    TemplateSyntaxProblem,
    compile_expression,
    compile_text,
    environment,
)
from .wording import SUGGEST_CUTOFF, choices, describe, quote, suggest

CONTACT = "contact"  # an outbound call's contact fields, declared under `outbound: contact:`

# Templates in a node's `secret_fields` may read server environment variables under this name.
SECRETS_NAME = "env"

AFTER_CALL_TYPES_NOTE = (
    "only nodes that need no caller (set, branch, hours, message) can run after the call"
)


_BUILTIN_MEANING = {
    "call": "call data (call.from, call.to...)",
    "now": "current time",
    "language": "current language",
    "contact": "contact fields of an outbound call (contact.name...)",
}


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class SemanticChecker:
    def __init__(
        self, doc: Document, nodes: Mapping[str, Node], broken: set[str] | None = None
    ) -> None:
        self.doc = doc
        self.broken = broken or set()
        self.data: dict[str, Any] = doc.data
        self.nodes = nodes
        self.problems: list[Problem] = []
        self.texts: dict[tuple[str, FieldPath], CompiledText] = {}
        self.expressions: dict[tuple[str, FieldPath], CompiledExpression] = {}

    def report(
        self, path: tuple[Any, ...], message: str, *, key: bool = False, warning: bool = False
    ) -> None:
        pos = self.doc.position(path, key=key)
        severity = Severity.WARNING if warning else Severity.ERROR
        self.problems.append(Problem(self.doc.file, pos.line, pos.column, message, severity))

    def run(self) -> list[Problem]:
        self._top_level()
        self._outbound()
        known = self._known_variables()
        for node in self.nodes.values():
            if node.id in self.broken:
                self._guarded(node, known)
                continue
            self._targets(node)
            self._templates(node, known)
            for issue in node.check():
                path = ("nodes", node.id, *issue.path)
                self.report(
                    path,
                    f"{describe(path)}: {issue.message}",
                    key=not issue.path,  # about the whole node: point at its id
                    warning=issue.warning,
                )
        self._reserved_names()
        self._reachability()
        self._loops()
        self._after_call_chain()
        return self.problems

    # ---- top level -----------------------------------------------------------------

    def _top_level(self) -> None:
        for field in ("start", "on_error", "on_hangup"):
            target = self.data.get(field)
            if isinstance(target, str) and target not in self.nodes:
                what = {
                    "start": "starts at",
                    "on_error": "on error goes to",
                    "on_hangup": "on hangup runs",
                }[field]
                self.report(
                    (field,),
                    f"{quote(field)}: the flow {what} {quote(target)}, which is not a node in this flow"
                    f"{suggest(target, self.nodes)}",
                )
        timezone = self.data.get("timezone")
        if isinstance(timezone, str) and not valid_timezone(timezone):
            self.report(
                ("timezone",),
                f'"timezone": {quote(timezone)} is not a known timezone: use an IANA name such as '
                '"America/New_York" or "Europe/London"',
            )

    def _outbound_spec(self) -> dict[str, Any] | None:
        spec = self.data.get("outbound")
        return spec if isinstance(spec, dict) else None

    def _outbound(self) -> None:
        """The machine node exists, and is only set where a machine can be detected."""
        spec = self._outbound_spec()
        if spec is None:
            return
        machine = spec.get("machine")
        if isinstance(machine, str) and machine not in self.nodes:
            self.report(
                ("outbound", "machine"),
                f'"outbound", "machine": a machine goes to {quote(machine)}, which is not a node '
                f"in this flow{suggest(machine, self.nodes)}",
            )
        elif isinstance(machine, str) and spec.get("amd", "off") == "off":
            self.report(
                ("outbound", "machine"),
                f'"outbound", "machine": {quote(machine)} is never used while "amd" is "off": '
                "set amd: detect_message_end (or detect) so Twilio tells a machine from a person",
            )
        elif isinstance(machine, str) and spec.get("async_amd"):
            self.report(
                ("outbound", "machine"),
                f'"outbound", "machine": {quote(machine)} is never used with "async_amd": true '
                "(the flow starts before Twilio knows who answered): branch on "
                "call.answered_by instead, or turn async_amd off",
                warning=True,
            )

    def _contact_fields(self, full: tuple[Any, ...], where: str, names: frozenset[str]) -> None:
        """`contact.x` must be a field the flow declares under `outbound: contact:`."""
        spec = self._outbound_spec() or {}
        declared = [str(n) for n in spec.get("contact") or [] if isinstance(n, str)]
        for name in sorted(names - set(declared)):
            if declared:
                self.report(
                    full,
                    f"{where}: {quote('contact.' + name)} is not a contact field of this flow"
                    f"{suggest('contact.' + name, ['contact.' + f for f in declared])}; "
                    f"declared under outbound.contact are {choices('contact.' + f for f in declared)}",
                )
            else:
                self.report(
                    full,
                    f"{where}: reads {quote('contact.' + name)}, but the flow declares no contact "
                    f"fields: add it under `outbound:` as `contact: [{name}]`",
                )

    def _reserved_names(self) -> None:
        """A variable called `call`, `now` or `language` would be hidden by the engine's own."""
        vars_ = self.data.get("vars")
        written = (
            [(("vars", name), name, True) for name in vars_ or {}]
            if isinstance(vars_, dict)
            else []
        )
        for node in self.nodes.values():
            written += [(("nodes", node.id, *p), name, False) for p, name in self._written(node)]
        for path, name, at_key in written:
            if name in BUILTIN_NAMES:
                self.report(
                    path,
                    f"{describe(path)}: {quote(name)} is the name of the engine's own "
                    f"{_BUILTIN_MEANING[name]}, so templates would never see this variable: "
                    "choose another name",
                    key=at_key,
                )

    def _known_variables(self) -> set[str]:
        known = set(BUILTIN_NAMES) | set(environment().globals)
        if self._outbound_spec() is None:
            known.discard(CONTACT)  # only an outbound flow has contacts (and no suggesting it)
        declared_vars = self.data.get("vars")
        declared = set(declared_vars) if isinstance(declared_vars, dict) else set()
        if SECRETS_NAME in declared:
            self._reserved(("vars", SECRETS_NAME))
        known |= declared - {SECRETS_NAME}
        for node in self.nodes.values():
            for path, name in self._written(node):
                if name == SECRETS_NAME:
                    self._reserved(("nodes", node.id, *path))
                else:
                    known.add(name)
        return known

    def _written(self, node: Node) -> list[tuple[FieldPath, str]]:
        """The variables a node fills; none known for a node whose fields failed the schema."""
        try:
            return node.variables_written()
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            if node.id in self.broken:
                return []
            raise

    def _reserved(self, path: tuple[Any, ...]) -> None:
        self.report(
            path,
            f'{describe(path)}: "{SECRETS_NAME}" is reserved for server environment variables: '
            "choose another variable name",
        )

    def _guarded(self, node: Node, known: set[str]) -> None:
        """Check what can be checked of a node whose fields failed the schema."""
        for check in (self._targets, lambda n: self._templates(n, known)):
            # the schema problem already told the author what to fix first
            with contextlib.suppress(AttributeError, KeyError, TypeError, ValueError, IndexError):
                check(node)

    # ---- per node ------------------------------------------------------------------

    def _targets(self, node: Node) -> None:
        for target in node.targets():
            if target.node_id not in self.nodes:
                path = ("nodes", node.id, *target.path)
                self.report(
                    path,
                    f"{describe(path)}: goes to {quote(target.node_id)}, which is not a node in this flow"
                    f"{suggest(target.node_id, self.nodes)}",
                )

    def _templates(self, node: Node, known: set[str]) -> None:
        secret = {
            path for pattern in node.secret_fields for path, _ in iter_field(node.spec, pattern)
        }
        for pattern in node.template_fields:
            for path, value in iter_field(node.spec, pattern):
                names = known | {SECRETS_NAME} if path in secret else known
                if isinstance(value, Mapping):
                    where = describe(("nodes", node.id, *path))
                    parts = [
                        self._one_template(
                            node,
                            (*path, lang),
                            text,
                            names,
                            compile_text,
                            f'{where}, "{lang}" text',
                        )
                        for lang, text in value.items()
                    ]
                    if all(part is not None for part in parts):
                        self.texts[(node.id, path)] = CompiledText.joined(
                            dict(zip(value, parts, strict=True))
                        )
                    for lang in value:
                        self._comment_in_text(
                            ("nodes", node.id, *path, lang), f'{where}, "{lang}" text'
                        )
                elif value is not None and not isinstance(value, list | tuple):
                    # a list (dial's numbers) is checked item by item through its own pattern
                    compiled = self._one_template(node, path, value, names, compile_text)
                    if compiled is not None:
                        self.texts[(node.id, path)] = compiled
                    self._comment_in_text(("nodes", node.id, *path))
        for pattern in node.expression_fields:
            for path, value in iter_field(node.spec, pattern):
                compiled = self._one_template(node, path, value, known, compile_expression)
                if compiled is not None:
                    self.expressions[(node.id, path)] = compiled

    def _comment_in_text(self, path: tuple[Any, ...], where: str | None = None) -> None:
        """`text: Press # to finish` says only "Press": YAML reads ` # to finish` as a comment."""
        found = self.doc.comments.get(path)
        if found is None:
            return
        pos, comment = found
        self.problems.append(
            Problem(
                self.doc.file,
                pos.line,
                pos.column,
                f"{where or describe(path)}: YAML reads everything from this # on as a comment, so "
                "callers "
                f"will not hear {quote('#' + comment)}: if it belongs to the text, put the whole "
                "text in quotes",
                Severity.WARNING,
            )
        )

    def _one_template(
        self,
        node: Node,
        path: FieldPath,
        value: Any,
        known: set[str],
        compiler: Any,
        where: str | None = None,
    ) -> Any:
        full = ("nodes", node.id, *path)
        where = where or describe(full)
        try:
            compiled = compiler(str(value))
        except TemplateSyntaxProblem as exc:
            self.report(full, f"{where}: {exc}")
            return None
        if SECRETS_NAME in compiled.variables and SECRETS_NAME not in known:
            self.report(
                full,
                f"{where}: reads {{{{ env.… }}}}, a server environment variable: secrets may "
                "only be used in an http node's headers (or a plugin's secret fields), so they are "
                "never spoken or logged: move it there",
            )
            return None
        fields = sorted(CALL_FIELDS.values())
        for name in sorted(compiled.call_fields - set(fields)):
            self.report(
                full,
                f"{where}: {quote('call.' + name)} is not something the engine knows about "
                f"the call{suggest('call.' + name, ['call.' + f for f in fields])}; "
                f"known are {choices('call.' + f for f in fields)}",
            )
        self._contact_fields(full, where, compiled.contact_fields)
        for name in sorted(compiled.variables - known - {CONTACT}):
            self.report(
                full,
                f"{where}: uses the variable {quote(name)}, which nothing sets{suggest(name, known)}; "
                "give it a default under `vars:`, set it with a set node, or fill it with `into:`",
            )
        return compiled

    # ---- whole graph ---------------------------------------------------------------

    def _edges(self, resolved: bool = True) -> dict[str, list[str]]:
        """Each node's links; only those to existing nodes unless `resolved` is False."""
        edges: dict[str, list[str]] = {}
        for node_id, node in self.nodes.items():
            try:
                targets = [t.node_id for t in node.targets()]
            except (AttributeError, KeyError, TypeError, ValueError, IndexError):
                targets = []  # a broken node: its schema problem is reported already
            edges[node_id] = [t for t in targets if t in self.nodes or not resolved]
        return edges

    def _reachability(self) -> None:
        """Warn about nodes no path reaches, judged only when every node's links are known.

        A node with schema errors has unknown links, so nothing is judged then; a link with a
        typo counts as going to the node it most likely means, so the typo's own error is not
        followed by a warning about the node it meant.
        """
        if self.broken:
            return
        edges = {
            node_id: [self._meant(target) for target in targets]
            for node_id, targets in self._edges(resolved=False).items()
        }
        roots = [
            r
            for r in (
                self.data.get("start"),
                self.data.get("on_error"),
                self.data.get("on_hangup"),
                (self._outbound_spec() or {}).get("machine"),
            )
            if isinstance(r, str)
        ]
        seen: set[str] = set()
        stack = [self._meant(r) for r in roots]
        while stack:
            current = stack.pop()
            if current in seen or current not in self.nodes:
                continue
            seen.add(current)
            stack.extend(edges[current])
        if not seen:
            return
        for node_id in self.nodes:
            if node_id not in seen:
                self.report(
                    ("nodes", node_id),
                    f'node "{node_id}": no path from the start reaches this node: link to it or remove it',
                    key=True,
                    warning=True,
                )

    def _meant(self, node_id: str) -> str:
        if node_id in self.nodes:
            return node_id
        close = difflib.get_close_matches(node_id, list(self.nodes), n=1, cutoff=SUGGEST_CUTOFF)
        return close[0] if close else node_id

    def _loops(self) -> None:
        """Report each cycle made only of nodes that never wait: the call would spin forever."""
        edges = {
            node_id: [t for t in targets if not self.nodes[t].waits]
            for node_id, targets in self._edges().items()
            if not self.nodes[node_id].waits
        }
        reported: set[frozenset[str]] = set()
        for cycle in _cycles(edges):
            key = frozenset(cycle)
            if key in reported:
                continue
            reported.add(key)
            first = min(cycle, key=lambda n: self.doc.position(("nodes", n), key=True).line)
            start = cycle.index(first)
            ordered = cycle[start:] + cycle[:start]
            route = " -> ".join(quote(n) for n in [*ordered, first])
            self.report(
                ("nodes", first),
                f'node "{first}": the call can loop forever without waiting for the caller '
                f"({route}): put a menu, gather or other waiting node in the loop, or break it",
                key=True,
            )

    def _after_call_chain(self) -> None:
        root = self.data.get("on_hangup")
        if not isinstance(root, str) or root not in self.nodes:
            return
        edges = self._edges()
        seen: set[str] = set()
        stack = [root]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            node = self.nodes[current]
            if node.voice_only:
                self.report(
                    ("nodes", current, "type"),
                    f'node "{current}": is a {node.type_name} node, reached after the call ended '
                    f"(from on_hangup): {AFTER_CALL_TYPES_NOTE}",
                )
                continue
            stack.extend(edges[current])


def _cycles(edges: Mapping[str, list[str]]) -> Iterator[list[str]]:
    """One cycle per strongly connected component that has one (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child_i = work.pop()
            if child_i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = [c for c in edges.get(node, []) if c in edges]
            if child_i < len(children):
                work.append((node, child_i + 1))
                child = children[child_i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    item = stack.pop()
                    on_stack.discard(item)
                    component.append(item)
                    if item == node:
                        break
                if len(component) > 1 or node in edges.get(node, []):
                    yield _cycle_in(component, edges)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])


def _cycle_in(component: list[str], edges: Mapping[str, list[str]]) -> list[str]:
    members = set(component)
    start = component[-1]
    path = [start]
    seen = {start}
    current = start
    while True:
        nxt = next(c for c in edges[current] if c in members)
        if nxt in seen:
            return path[path.index(nxt) :]
        path.append(nxt)
        seen.add(nxt)
        current = nxt
