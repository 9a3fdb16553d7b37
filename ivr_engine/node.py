"""The public node-type API: the one base class built-in and plugin node types subclass.

Everything the engine does with a node type goes through what the subclass declares here:
validation (its JSON Schema, its templates, the fields that name other nodes, the variables it
fills), compilation (a frozen instance per node in a flow), and the runtime (`enter` when the
call arrives at the node, `resume` when the caller answers a node that waits). A node never sees
HTTP or SQL: the runtime hands it a `StepContext`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .model import Flow
    from .runtime.context import StepContext
    from .runtime.events import Event

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Goto:
    """Continue the call at another node (in the same response, or after the caller's answer).

    `via` optionally names the transition taken (a `Transition.via` of the node: "1", "busy",
    "no input"), so coverage reports and diagrams can tell apart two ways to the same node.
    """

    target: str
    via: str | None = None


@dataclass(frozen=True)
class Wait:
    """The node put a prompt into the response and waits for the caller's answer.

    `via` is set when waiting again is itself a transition (a re-prompt after no input).
    """

    via: str | None = None


@dataclass(frozen=True)
class End:
    """The call ends here (the node emitted `<Hangup/>` or handed the call elsewhere for good).

    `via` is set when ending is one of several ways out of the node (no valid input, a dial
    outcome nothing handles).
    """

    reason: str = "hangup"
    via: str | None = None


@dataclass(frozen=True)
class RunSubflow:
    """Run another flow (a subflow) from its start; the runtime calls `Node.returned` after.

    `vars` become the subflow's variables, on top of the defaults it declares. The caller's
    own variables are kept aside and come back when the subflow returns.
    """

    flow: str
    vars: Mapping[str, Any]


@dataclass(frozen=True)
class Return:
    """Leave the current subflow and go back to the node that called it."""


@dataclass(frozen=True)
class SubflowResult:
    """What a subflow left behind when it returned: its variables and its template scope."""

    flow_id: str
    vars: Mapping[str, Any]
    scope: Mapping[str, Any]


Outcome = Goto | Wait | End | RunSubflow | Return


@dataclass(frozen=True)
class Target:
    """A field of a node that names another node: one edge of the call graph.

    `label` is what a diagram or a coverage report shows on the edge ("1", "busy", "no input").
    """

    path: FieldPath
    node_id: str
    label: str


@dataclass(frozen=True)
class Transition:
    """One way out of a node, as flow tests, coverage and diagrams count them.

    `via` is the label the node puts on the `Goto`/`Wait`/`End` it returns when it goes this
    way; `target` is the node the call goes to (the node itself for a re-prompt), or None when
    the call ends there.
    """

    via: str
    target: str | None


@dataclass(frozen=True)
class FieldIssue:
    """A node-specific problem found by `Node.check`, located by the field it is about."""

    path: FieldPath
    message: str
    warning: bool = False


def iter_field(spec: Any, pattern: str) -> Iterator[tuple[FieldPath, Any]]:
    """Yield `(path, value)` for every place in `spec` matching a dotted pattern.

    `*` matches every value of a map or item of a list: `options.*`, `cases.*.next`, `vars.*`.
    Missing parts simply match nothing, so patterns can name optional fields.
    """

    def walk(value: Any, parts: list[str], path: FieldPath) -> Iterator[tuple[FieldPath, Any]]:
        if not parts:
            yield path, value
            return
        head, rest = parts[0], parts[1:]
        if head == "*":
            if isinstance(value, Mapping):
                for key, item in value.items():
                    yield from walk(item, rest, (*path, key))
            elif isinstance(value, list | tuple):
                for index, item in enumerate(value):
                    yield from walk(item, rest, (*path, index))
        elif isinstance(value, Mapping) and head in value:
            yield from walk(value[head], rest, (*path, head))

    yield from walk(spec, pattern.split(".") if pattern else [], ())


class Node:
    """Base class of every node type.

    A subclass declares, as class attributes:
    - `type_name`: the `type:` written in YAML (one name everywhere: `GatherNode` is `gather`).
    - `schema`: the JSON Schema (2020-12) of the node's fields, an object schema with titles and
      descriptions; `type` is added by the registry.
    - `template_fields`: patterns (see `iter_field`) of fields that are Jinja2 text templates;
      a value there may also be a map of language -> text.
    - `expression_fields`: patterns of fields that are Jinja2 expressions (`cases.*.when`).
    - `target_fields`: patterns of fields whose text value names another node.
    - `variable_fields`: patterns of fields whose text value names a variable the node fills.
    - `flow_fields`: patterns of fields whose text value names another flow (a subflow); the
      loader checks that flow exists and that flows do not call each other in a circle.
    - `secret_fields`: template patterns that may read `{{ env.NAME }}` (server environment
      variables). Only for values sent to other systems, never spoken: everywhere else `env`
      is refused when the flow is loaded.
    - `waits`: whether the node puts a prompt out and waits for the caller (menu, gather...).
    - `voice_only`: whether the node only makes sense during a call (not in after-call chains).

    Instances are frozen after compilation: `id` is the node id, `spec` its validated fields.
    """

    type_name: ClassVar[str] = ""
    schema: ClassVar[dict[str, Any]] = {"type": "object"}
    template_fields: ClassVar[tuple[str, ...]] = ()
    expression_fields: ClassVar[tuple[str, ...]] = ()
    target_fields: ClassVar[tuple[str, ...]] = ("next",)
    variable_fields: ClassVar[tuple[str, ...]] = ()
    flow_fields: ClassVar[tuple[str, ...]] = ()
    secret_fields: ClassVar[tuple[str, ...]] = ()
    waits: ClassVar[bool] = False
    # What the caller keys or says at this node is a secret (a one-time code): the call
    # history masks the digits and speech of the answers it resumes with.
    secret_input: ClassVar[bool] = False
    voice_only: ClassVar[bool] = True

    __slots__ = ("id", "spec")

    def __init__(self, node_id: str, spec: Mapping[str, Any]) -> None:
        object.__setattr__(self, "id", node_id)
        object.__setattr__(self, "spec", _freeze(spec))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable once compiled")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"

    # ---- definition time -------------------------------------------------------------

    def targets(self) -> list[Target]:
        """Every edge out of this node, from `target_fields`; override to label edges better."""
        found: list[Target] = []
        for pattern in self.target_fields:
            for path, value in iter_field(self.spec, pattern):
                if isinstance(value, str):
                    found.append(Target(path, value, _edge_label(path)))
        return found

    def transitions(self) -> list[Transition]:
        """Every way out of this node, including re-prompts and endings; defaults to `targets()`.

        Override when the node can also wait again or end the call, so coverage can ask a
        test to take those ways too.
        """
        return [Transition(t.label, t.node_id) for t in self.targets()]

    def variables_written(self) -> list[tuple[FieldPath, str]]:
        """Variables this node fills, with the field that names each."""
        return [
            (path, value)
            for pattern in self.variable_fields
            for path, value in iter_field(self.spec, pattern)
            if isinstance(value, str)
        ]

    def check(self) -> Iterator[FieldIssue]:
        """Node-specific semantic checks beyond the schema (regexes, numbers, schedules)."""
        return iter(())

    def flows_called(self) -> list[tuple[FieldPath, str]]:
        """Other flows this node runs, with the field that names each (from `flow_fields`)."""
        return [
            (path, value)
            for pattern in self.flow_fields
            for path, value in iter_field(self.spec, pattern)
            if isinstance(value, str)
        ]

    def check_called(self, path: FieldPath, flow: Flow) -> Iterator[FieldIssue]:
        """Checks against a flow this node runs (`flow` is its compiled `Flow`), e.g. its variables.

        Called when the flows of a folder are checked together; single-file loading skips it.
        """
        return iter(())

    def field(self, name: str, default: Any = None) -> Any:
        return self.spec.get(name, default)

    # ---- run time --------------------------------------------------------------------

    def enter(self, ctx: StepContext) -> Outcome | Awaitable[Outcome]:
        """The call arrives at this node: add verbs to the response, then say where to go.

        May be `async def` when the node waits on I/O; the runtime bounds how long it may take.
        """
        raise NotImplementedError(f"node type {self.type_name!r} does not implement enter()")

    def resume(self, ctx: StepContext, event: Event) -> Outcome | Awaitable[Outcome]:
        """The caller answered this (waiting) node: decide where the call goes next."""
        raise NotImplementedError(f"node type {self.type_name!r} does not wait for input")

    def aside(self, ctx: StepContext, event: Event) -> Awaitable[None] | None:
        """Answer a request that comes while the call waits here, without moving the call on.

        Twilio asks a queue's `waitUrl` what a queued caller hears next, again and again; the
        node adds verbs to `ctx.response` (and may update its variables), and the call stays
        at this node and step. `ctx.action_url` then points at the step the call waits at.
        """
        raise NotImplementedError(f"node type {self.type_name!r} serves no requests while waiting")

    def returned(self, ctx: StepContext, result: SubflowResult) -> Outcome | Awaitable[Outcome]:
        """The subflow this node started with `RunSubflow` reached a `return` node: go on from here."""
        raise NotImplementedError(f"node type {self.type_name!r} does not run subflows")


def _edge_label(path: FieldPath) -> str:
    if path == ("next",):
        return "next"
    if len(path) >= 2 and path[0] in ("options", "on"):
        return str(path[1])
    return ".".join(str(p) for p in path)


class FrozenDict(dict[str, Any]):
    """A dict that refuses changes, so a compiled flow can be shared by every call."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("compiled flow data is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda kv: kv[0])))


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return FrozenDict({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value
