"""Studio widgets -> engine nodes: one converter per widget type, plus the menu pattern.

Each converter reads one `Widget` and adds the node(s) it becomes to the `Builder`, turning
the widget's transitions into the node's targets. A transition Studio leaves unwired ends the
execution there, silently; the importer makes that visible: it goes to one `hangup` node
(added once) and the report names the widget. Widgets with no counterpart become a `say` node
that tells the caller so and continues at the widget's failure transition, so the flow still
validates and a test can find it.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..nodes.prompting import KEYS
from ..templates import compile_expression, compile_text
from .liquid import Untranslatable, quote, todo_expression, translate_expression, translate_text
from .names import Names, node_id, var_name
from .reader import StudioFlow, Widget
from .report import Entry, Report

STUDIO_LOOP_LIMIT = 10  # Studio stops a widget that runs 10 times in a row (error 81001)
HTTP_TIMEOUT = 10  # Studio's Make HTTP Request waits 10 s
END = "studio_end"

# Widget types with no counterpart (yet), and the events that mean "it did not work".
FAILURE_EVENTS = {
    "run-function": ("fail",),
    "send-to-flex": ("failedToEnqueue", "callFailure"),
    "capture-payments": ("providerError", "maxFailedAttempts", "validationError"),
    "make-outgoing-call-v2": ("failed", "noAnswer", "busy"),
    "send-and-wait-for-reply": ("deliveryFailure", "timeout"),
    "add-twiml-redirect": ("fail", "timeout"),
}
GENERIC_FAILURES = ("fail", "failed", "failure", "error", "timeout")


@dataclass
class Node:
    id: str
    spec: dict[str, Any]
    widget: str | None  # the Studio widget it came from; None when the importer added it
    studio_type: str = ""
    note: str = ""


@dataclass
class MenuPlan:
    split: Widget
    options: dict[str, str | None]
    attempts: int
    on_failure: str | None
    no_match: Widget | None = None  # a say-play re-prompt folded into the menu
    no_input: Widget | None = None


@dataclass
class RetryCounter:
    """A Liquid counter around a gather's timeout, as the attempts it allows."""

    attempts: int
    on_failure: str | None
    folded: tuple[str, ...]  # the set-variables and split widgets it replaces
    variable: str


@dataclass
class Builder:
    flow: StudioFlow
    report: Report
    names: Names = field(default_factory=Names)
    nodes: dict[str, Node] = field(default_factory=dict)
    menus: dict[str, MenuPlan] = field(default_factory=dict)
    absorbed: dict[str, str] = field(default_factory=dict)  # widget -> the node it folded into
    uses_clock: bool = False
    end_used: bool = False
    pending: list[Node] = field(default_factory=list)
    counters: dict[str, RetryCounter] = field(default_factory=dict)
    subflow: bool = False  # imported as another flow's subflow: its ends return to the caller
    subflow_names: dict[str, str] = field(default_factory=dict)  # Studio flow SID -> flow name

    def __post_init__(self) -> None:
        self.ids = {name: node_id(name) for name in self.flow.widgets}
        self.end_id = END
        while self.end_id in self.ids.values():
            self.end_id += "_"
        self.preds: dict[str, set[str]] = defaultdict(set)
        self.refs: dict[str, set[str]] = defaultdict(set)  # widget -> widgets reading its outputs
        for widget in self.flow.widgets.values():
            for _, target, _ in widget.order:
                if target:
                    self.preds[target].add(widget.name)
            text = json.dumps(widget.properties) + json.dumps([c for *_, c in widget.order])
            for read in set(re.findall(r"widgets\.([\w-]+)\.", text)):
                self.refs[read].add(widget.name)

    # ---- helpers ------------------------------------------------------------------

    def widget(self, name: str | None) -> Widget | None:
        return self.flow.widgets.get(name) if name else None

    def target(self, name: str | None) -> str:
        """The node a transition goes to; an unwired one ends the call (as in Studio)."""
        if name is None or name not in self.flow.widgets:
            self.end_used = True
            return self.end_id
        return self.absorbed.get(name, self.ids[name])

    def then(self, spec: dict[str, Any], name: str | None) -> None:
        """Set `next` when the transition is wired; in a subflow, an unwired one returns."""
        if name is not None or self.subflow:
            spec["next"] = self.target(name)

    def unwired(self, widget: Widget, event: str, meaning: str) -> None:
        self.report.problems.append(
            Entry(widget.name, f"{event} is unwired: {meaning}; Studio ends the call there")
        )

    def text(self, value: Any, widget: Widget, where: str) -> str:
        translated = translate_text(str(value), self.names.resolve)
        self.uses_clock |= translated.uses_clock
        for todo in translated.todos:
            self.report.todos.append(Entry(widget.name, f"{where}: {todo}"))
        return translated.text

    def add(self, widget: Widget | None, node_type: str, spec: dict[str, Any], **kw: Any) -> str:
        node_id_ = kw.pop("id", None) or (self.ids[widget.name] if widget else "")
        node = Node(
            node_id_,
            {"type": node_type, **spec},
            widget.name if widget else None,
            widget.type if widget else "",
            **kw,
        )
        if widget is None:  # a helper node: written after the widget's own node
            self.pending.append(node)
            return node_id_
        self.nodes[node_id_] = node
        for helper in self.pending:
            self.nodes[helper.id] = helper
        self.pending.clear()
        if widget and not kw.get("note", "").startswith("added"):
            self.report.map(widget.name, widget.type, node_type)
        return node_id_

    def speech(self, widget: Widget, spec: dict[str, Any]) -> dict[str, Any]:
        props = widget.properties
        if props.get("voice"):
            spec["voice"] = str(props["voice"])
        language = props.get("language")
        if language and re.fullmatch(r"[a-zA-Z]{2,3}(-[A-Za-z0-9]{2,8})*", str(language)):
            spec["language"] = str(language)
        return spec

    # ---- the whole flow -----------------------------------------------------------

    def plan(self) -> None:
        """Decide which gathers become menus, then name every widget's outputs."""
        for widget in self.flow.widgets.values():
            if widget.type == "gather-input-on-call":
                self.names.gather_vars[widget.name] = var_name(f"{widget.name}_input")
                counter = self.retry_counter(widget)
                del self.names.gather_vars[widget.name]
                if counter:
                    self.counters[widget.name] = counter
                    for folded in counter.folded:
                        self.absorbed[folded] = self.ids[widget.name]
                plan = None if counter else self.menu_plan(widget)
                if plan:
                    self.menus[widget.name] = plan
                    self.absorbed[plan.split.name] = self.ids[widget.name]
                    for folded in (plan.no_match, plan.no_input):
                        if folded:
                            self.absorbed[folded.name] = self.ids[widget.name]
                else:
                    self.names.gather_vars[widget.name] = var_name(f"{widget.name}_input")
            elif widget.type == "make-http-request":
                self.names.http_vars[widget.name] = var_name(widget.name)
            elif widget.type == "record-voicemail":
                self.names.record_vars[widget.name] = var_name(widget.name)

    def build(self) -> None:
        self.plan()
        for widget in self.flow.widgets.values():
            if widget.name == self.flow.initial_state or widget.type == "trigger":
                continue
            if widget.name in self.absorbed:
                continue
            convert = CONVERTERS.get(widget.type)
            if convert is None:
                placeholder(self, widget)
            else:
                convert(self, widget)
        self.build_end()

    def build_end(self) -> None:
        if self.end_used and self.end_id not in self.nodes:
            self.nodes[self.end_id] = Node(
                self.end_id,
                {"type": "return" if self.subflow else "hangup"},
                None,
                note="added by the import: Studio's unwired transitions "
                + ("return to the calling flow here" if self.subflow else "end the call here"),
            )

    # ---- the menu pattern: gather + split over its Digits -------------------------

    def menu_plan(self, gather: Widget) -> MenuPlan | None:
        split = self.widget(gather.next("keypress"))
        if split is None or split.type != "split-based-on" or gather.next("speech"):
            return None
        if self.preds[split.name] != {gather.name} or self.refs[gather.name] - {split.name}:
            return None
        if (
            gather.properties.get("play")
            or str(gather.properties.get("number_of_digits", 1)) != "1"
        ):
            return None
        digits = f"widgets.{gather.name}.Digits"

        def reads_digits(text: Any) -> bool:
            return (
                re.fullmatch(r"{{\s*" + re.escape(digits) + r"\s*}}", str(text).strip()) is not None
            )

        if not reads_digits(split.properties.get("input", "")):
            return None
        options: dict[str, str | None] = {}
        for event, target, conditions in split.order:
            if event == "noMatch":
                continue
            if len(conditions) != 1:
                return None
            condition = conditions[0]
            args = condition.get("arguments") or [split.properties.get("input")]
            if not reads_digits(args[0]):
                return None
            value = str(condition.get("value", ""))
            if condition.get("type") == "equal_to":
                keys = [value.strip()]
            elif condition.get("type") == "matches_any_of":
                keys = [v.strip() for v in value.split(",")]
            else:
                return None
            if not all(k in KEYS and len(k) == 1 for k in keys):
                return None
            for key in keys:
                options.setdefault(key, target)
        if not options:
            return None
        no_match, timeout = split.next("noMatch"), gather.next("timeout")
        folded_match, folded_input = self.reprompt(no_match, gather), self.reprompt(timeout, gather)
        loops_match = no_match == gather.name or folded_match is not None
        loops_input = timeout == gather.name or folded_input is not None
        if loops_match and loops_input:
            return MenuPlan(split, options, STUDIO_LOOP_LIMIT, None, folded_match, folded_input)
        if no_match is None and timeout is None:
            return MenuPlan(split, options, 1, None)
        if no_match == timeout and no_match != gather.name:
            return MenuPlan(split, options, 1, no_match)
        return None

    def retry_counter(self, gather: Widget) -> RetryCounter | None:
        """gather -timeout-> set-variables (C = C + 1) -> split on C -> back, or give up.

        Found by running the counter: its translated value and the split's translated
        conditions are evaluated by the engine's own templates, failure after failure, until
        the split goes anywhere but back to the gather (at most 10 times).
        """
        setter = self.widget(gather.next("timeout"))
        if setter is None or setter.type != "set-variables":
            return None
        items = setter.properties.get("variables") or []
        if len(items) != 1:
            return None
        key, value = str(items[0].get("key", "")), str(items[0].get("value", ""))
        read = f"flow.variables.{key}"
        split = self.widget(setter.next("next"))
        if (
            split is None
            or split.type != "split-based-on"
            or read not in value
            or "plus" not in value
        ):
            return None
        if self.preds[setter.name] != {gather.name} or self.preds[split.name] != {setter.name}:
            return None
        for other in self.flow.widgets.values():  # the counter must mean nothing else
            text = json.dumps(other.properties) + json.dumps([c for *_, c in other.order])
            if other.name not in (setter.name, split.name) and re.search(
                re.escape(read) + r"\b", text
            ):
                return None
        saved = set(self.names.flow_vars)
        scratch = Builder(self.flow, Report("counter"), names=self.names)
        translated = translate_text(value, self.names.resolve)
        cases = [
            (" and ".join(condition(scratch, split, c) for c in conds) or "true", target)
            for event, target, conds in split.order
            if event != "noMatch"
        ]
        self.names.flow_vars = saved
        if translated.todos or scratch.report.todos:
            return None
        variable = var_name(key)
        current: Any = ""
        try:
            for failures in range(1, STUDIO_LOOP_LIMIT + 1):
                current = compile_text(translated.text).render({variable: current}, "*")
                scope = {variable: current}
                goes = next(
                    (t for w, t in cases if compile_expression(w).evaluate(scope)),
                    split.next("noMatch"),
                )
                if goes != gather.name:
                    return RetryCounter(failures, goes, (setter.name, split.name), key)
        except Exception:  # a counter that does not evaluate is left as it is
            return None
        return None

    def reprompt(self, name: str | None, gather: Widget) -> Widget | None:
        """A say-play that only leads back to `gather` (an "invalid choice" message)."""
        widget = self.widget(name)
        if (
            widget is None
            or widget.type != "say-play"
            or widget.next("audioComplete") != gather.name
        ):
            return None
        props = widget.properties
        if (
            props.get("play")
            or props.get("digits")
            or not props.get("say")
            or self.refs[widget.name]
        ):
            return None
        split = gather.next("keypress")
        return widget if self.preds[widget.name] <= {gather.name, split} else None


# ---- converters --------------------------------------------------------------------


def say_play(b: Builder, w: Widget) -> None:
    props = w.properties
    spec: dict[str, Any] = {}
    loop = _int(props.get("loop"), 1)
    if props.get("digits") and not (props.get("say") or props.get("play")):
        placeholder(b, w, reason="it plays DTMF digits, which the engine's nodes do not send")
        return
    if props.get("play"):
        spec["url"] = b.text(props["play"], w, "play")
        node_type = "play"
    else:
        spec["text"] = b.text(props.get("say", ""), w, "say")
        b.speech(w, spec)
        node_type = "say"
    if loop != 1:
        spec["loop"] = max(0, min(loop, 100))
    b.then(spec, w.next("audioComplete"))
    b.add(w, node_type, spec)


def gather(b: Builder, w: Widget) -> None:
    plan = b.menus.get(w.name)
    if plan:
        menu(b, w, plan)
        return
    props = w.properties
    var = b.names.gather_vars[w.name]
    spec: dict[str, Any] = {"prompt": b.text(props.get("say", ""), w, "say"), "into": var}
    if props.get("play"):
        b.report.todos.append(
            Entry(w.name, f"play {props['play']}: a gather's prompt is spoken text")
        )
    keys, speech, timeout = w.next("keypress"), w.next("speech"), w.next("timeout")
    if keys and not speech:
        pass  # dtmf, the default
    elif speech and not keys:
        spec["input"] = "speech"
    else:
        spec["input"] = "dtmf speech"
    digits = _int(props.get("number_of_digits"), 0)
    if digits and spec.get("input") != "speech":
        spec["num_digits"] = min(digits, 64)
    finish = str(props.get("finish_on_key", "#"))
    if finish != "#" and re.fullmatch(r"[0-9*#]?", finish):
        spec["finish_on_key"] = finish
    seconds = _int(props.get("timeout"), 5)
    if seconds != 5:
        spec["timeout"] = max(1, min(seconds, 60))
    hints = [h.strip() for h in str(props.get("hints") or "").split(",") if h.strip()]
    if hints and "speech" in spec.get("input", "dtmf"):
        spec["hints"] = hints
    counter = b.counters.get(w.name)
    if counter:
        spec["attempts"] = counter.attempts
        if counter.on_failure:
            spec["on_failure"] = b.target(counter.on_failure)
        b.report.improvements.append(
            Entry(
                w.name,
                f"the Liquid retry counter flow.variables.{counter.variable} "
                f"({', '.join(map(repr, counter.folded))}) became attempts: {counter.attempts}"
                + (f", then on to {counter.on_failure!r}" if counter.on_failure else ""),
            )
        )
        for name in counter.folded:
            b.report.map(name, b.flow.widgets[name].type, "gather")
    elif timeout == w.name:
        spec["attempts"] = STUDIO_LOOP_LIMIT
        b.report.problems.append(
            Entry(
                w.name,
                "timeout loops back to itself with no counter: Studio stops a widget run 10 "
                f"times in a row (error 81001); imported as attempts: {STUDIO_LOOP_LIMIT}",
            )
        )
    else:
        spec["attempts"] = 1
        if timeout:
            spec["on_failure"] = b.target(timeout)
        else:
            b.unwired(w, "timeout", "a caller who says nothing hears nothing more")
    b.speech(w, spec)
    if keys and speech and keys != speech:
        route = b.add(
            None,
            "branch",
            {
                "cases": [{"when": f"{var} is matching('[0-9*#]+')", "next": b.target(keys)}],
                "default": b.target(speech),
            },
            id=f"{b.ids[w.name]}_keys_or_speech",
            note=f'added by the import: "{w.name}" goes on by keypress or by speech',
        )
        spec["next"] = route
    elif keys or speech:
        spec["next"] = b.target(keys or speech)
    else:
        spec["next"] = b.target(None)
        b.unwired(w, "keypress and speech", "any answer")
    b.add(w, "gather", spec)


def menu(b: Builder, w: Widget, plan: MenuPlan) -> None:
    props = w.properties
    spec: dict[str, Any] = {"prompt": b.text(props.get("say", ""), w, "say")}
    spec["options"] = {key: b.target(target) for key, target in plan.options.items()}
    for key, target in plan.options.items():
        if target is None:
            b.unwired(plan.split, f'the match for "{key}"', "a caller pressing it")
    seconds = _int(props.get("timeout"), 5)
    if seconds != 5:
        spec["timeout"] = max(1, min(seconds, 60))
    if plan.no_input:
        spec["no_input"] = b.text(plan.no_input.properties["say"], plan.no_input, "say")
    if plan.no_match:
        spec["no_match"] = b.text(plan.no_match.properties["say"], plan.no_match, "say")
    spec["attempts"] = plan.attempts
    if plan.on_failure:
        spec["on_failure"] = b.target(plan.on_failure)
    b.speech(w, spec)
    folded = [plan.split.name] + [x.name for x in (plan.no_match, plan.no_input) if x]
    message = f"gather + split over its Digits ({', '.join(map(repr, folded))}) became one menu"
    if plan.attempts == STUDIO_LOOP_LIMIT:
        message += (
            f"; wrong keys and silence re-prompt as in Studio, now at most {STUDIO_LOOP_LIMIT} "
            "times (Studio stops a widget run 10 times in a row)"
        )
    elif plan.on_failure:
        message += "; a wrong key or silence goes on as Studio's noMatch/timeout did"
    else:
        message += "; a wrong key or silence ends the call, as in Studio"
        b.unwired(w, "timeout", "a caller who says nothing hears nothing more")
        b.unwired(plan.split, "noMatch", "a caller pressing another key")
    b.report.improvements.append(Entry(w.name, message))
    for name in folded:
        b.report.map(name, b.flow.widgets[name].type, "menu")
    b.add(w, "menu", spec)


_NUMERIC = re.compile(r"-?\d+(\.\d+)?")


def split(b: Builder, w: Widget) -> None:
    cases = []
    for event, target, conditions in w.order:
        if event == "noMatch":
            continue
        tests = [condition(b, w, c) for c in conditions] or ["true"]
        when = " and ".join(f"({t})" if len(tests) > 1 else t for t in tests)
        if target is None:
            label = conditions[0].get("friendly_name", "a match") if conditions else "a match"
            b.unwired(w, f'the match "{label}"', "a call matching it")
        cases.append({"when": when, "next": b.target(target)})
    default = w.next("noMatch")
    if default is None:
        b.unwired(w, "noMatch", "a value that matches no condition")
    if not cases:
        b.add(w, "set", {"next": b.target(default)})
        return
    b.add(w, "branch", {"cases": cases, "default": b.target(default)})


def condition(b: Builder, w: Widget, c: dict[str, Any]) -> str:
    kind = str(c.get("type", ""))
    raw_value = str(c.get("value", ""))
    args = c.get("arguments") or [w.properties.get("input", "")]
    source = f"{args[0]} {kind} {raw_value}"
    try:
        subject, clock = translate_expression(str(args[0]), b.names.resolve)
        b.uses_clock |= clock
        if "{" in raw_value:
            value_expr, clock = translate_expression(raw_value, b.names.resolve)
            value = f"({value_expr} | string | trim | lower)"
        else:
            value = quote(raw_value.strip().lower())
    except Untranslatable as exc:
        b.report.todos.append(Entry(w.name, f"condition {source!r}: {exc}"))
        return todo_expression(source)
    text = f"({subject} | string | trim | lower)"
    listed = "[" + ", ".join(quote(v.strip().lower()) for v in raw_value.split(",")) + "]"
    translated = {
        "equal_to": f"{text} == {value}",
        "not_equal_to": f"{text} != {value}",
        "matches_any_of": f"{text} in {listed}",
        "does_not_match_any_of": f"{text} not in {listed}",
        "contains": f"{value} in {text}",
        "does_not_contain": f"{value} not in {text}",
        "starts_with": f"{text}.startswith({value})",
        "does_not_start_with": f"not {text}.startswith({value})",
        "is_blank": f"{text} == ''",
        "is_not_blank": f"{text} != ''",
        "regex": f"({subject} | string | trim) is matching({quote('(?i)' + raw_value.strip())})",
    }
    if kind in ("less_than", "greater_than"):
        if not _NUMERIC.fullmatch(raw_value.strip()):
            b.report.todos.append(Entry(w.name, f"condition {source!r}: not a number"))
            return todo_expression(source)
        op = "<" if kind == "less_than" else ">"
        return f"({subject} | float) {op} {raw_value.strip()}"
    if kind in translated and (
        "{" not in raw_value or kind not in ("matches_any_of", "does_not_match_any_of", "regex")
    ):
        return translated[kind]
    b.report.todos.append(Entry(w.name, f"condition {source!r}: {kind} is not translated"))
    return todo_expression(source)


def set_variables(b: Builder, w: Widget) -> None:
    values: dict[str, Any] = {}
    for item in w.properties.get("variables") or []:
        key = var_name(str(item.get("key", "")))
        b.names.flow_vars.add(key)
        values[key] = b.text(item.get("value", ""), w, f"variable {item.get('key')}")
    spec: dict[str, Any] = {"vars": values} if values else {}
    b.then(spec, w.next("next"))
    b.add(w, "set", spec)


def connect_call(b: Builder, w: Widget) -> None:
    props = w.properties
    noun = str(props.get("noun", "number"))
    to = str(props.get("to", "")).strip()
    spec: dict[str, Any] = {}
    if noun in ("number", "number-multi"):
        numbers = [n.strip() for n in to.split(",") if n.strip()]
        if numbers and any("{{" in n for n in numbers):
            # a number from a variable or a widget's answer: a dial template, checked when the
            # call gets there (an invalid one takes the widget's failed transition)
            numbers = [b.text(n, w, "to") if "{{" in n else n for n in numbers]
        elif not numbers or not all(re.fullmatch(r"\+[1-9][0-9]{1,14}", n) for n in numbers):
            placeholder(
                b, w, reason=f"the number {to!r} is not fixed E.164 numbers, which a dial needs"
            )
            return
        spec["to"] = numbers[0] if len(numbers) == 1 else numbers[:10]
    elif noun == "client" and to and "{" not in to:
        spec["client"] = to.removeprefix("client:")
    elif noun == "sip" and str(props.get("sip_endpoint", to)).startswith("sip"):
        spec["sip"] = str(props.get("sip_endpoint", to))
    else:
        placeholder(b, w, reason=f"connecting to a {noun} is not supported by the dial node")
        return
    caller_id = str(props.get("caller_id", "")).strip()
    if re.fullmatch(r"\+[1-9][0-9]{1,14}", caller_id):
        spec["caller_id"] = caller_id
    elif caller_id and caller_id.replace(" ", "") not in ("{{contact.channel.address}}", ""):
        b.report.notes.append(
            Entry(
                w.name, f"caller_id {caller_id!r} is not a fixed number: the caller's own is used"
            )
        )
    timeout = _int(props.get("timeout"), 30)
    if timeout != 30:
        spec["timeout"] = max(5, min(timeout, 600))
    if str(props.get("record", "")).lower() in ("true", "record-from-answer"):
        spec["record"] = True
    b.then(spec, w.next("callCompleted"))
    if w.next("hangup"):
        b.report.notes.append(
            Entry(w.name, "hangup is wired: after a caller hangs up the engine runs on_hangup")
        )
    b.add(w, "dial", spec)


def enqueue_call(b: Builder, w: Widget) -> None:
    """`enqueue-call` -> `enqueue`: the same queue; the engine serves the hold treatment."""
    props = w.properties
    name = str(props.get("queue_name") or props.get("queue") or "").strip()
    if not name or "{{" in name:
        placeholder(b, w, reason=f"the queue name {name!r} is not a fixed name")
        return
    spec: dict[str, Any] = {"queue": name}
    outcomes: dict[str, str] = {}
    for event, outcome in (("callComplete", "bridged"), ("failedToEnqueue", "full")):
        if w.next(event):
            outcomes[outcome] = b.target(w.next(event))
    if w.next("callFailure"):
        outcomes["failed"] = b.target(w.next("callFailure"))
    if outcomes:
        spec["on"] = outcomes
    if props.get("wait_url"):
        b.report.notes.append(
            Entry(
                w.name,
                "wait_url (the hold TwiML) is not imported: the enqueue node serves its own hold "
                "music and announcements",
            )
        )
    b.add(w, "enqueue", spec)


def record(b: Builder, w: Widget) -> None:
    props = w.properties
    spec: dict[str, Any] = {}
    length = _int(props.get("max_length"), 3600)
    spec["max_length"] = max(1, min(length, 14400))
    silence = _int(props.get("timeout"), 5)
    if silence != 5:
        spec["timeout"] = max(1, min(silence, 60))
    finish = props.get("finish_on_key")
    if finish is not None and re.fullmatch(r"[0-9*#]*", str(finish)):
        spec["finish_on_key"] = str(finish)
    if str(props.get("play_beep", "true")).lower() == "false":
        spec["beep"] = False
    if str(props.get("transcribe", "false")).lower() == "true":
        spec["transcribe"] = True
    if props.get("transcription_callback_url"):
        b.report.notes.append(
            Entry(
                w.name,
                "transcription_callback_url is dropped: the transcription arrives in the variable",
            )
        )
    var = b.names.record_vars[w.name]
    spec["into"] = var
    done, silent = w.next("recordingComplete"), w.next("noAudio")
    if silent and silent != done:
        route = b.add(
            None,
            "branch",
            {
                "cases": [{"when": f"{var}.url", "next": b.target(done)}],
                "default": b.target(silent),
            },
            id=f"{b.ids[w.name]}_heard",
            note=f'added by the import: "{w.name}" goes on by recordingComplete or noAudio',
        )
        spec["next"] = route
    else:
        spec["next"] = b.target(done)
        if done is None:
            b.unwired(w, "recordingComplete", "after the recording")
    b.add(w, "record", spec)


def send_message(b: Builder, w: Widget) -> None:
    props = w.properties
    spec: dict[str, Any] = {}
    to = str(props.get("to", "")).replace(" ", "")
    if to and to != "{{contact.channel.address}}":
        spec["to"] = b.text(props["to"], w, "to")
    sender = str(props.get("from", "")).replace(" ", "")
    if sender and sender != "{{flow.channel.address}}":
        spec["from"] = b.text(props["from"], w, "from")
    else:
        spec["from"] = "{{ call.to }}"
    spec["body"] = b.text(props.get("body", ""), w, "body")
    if props.get("media_url"):
        spec["media_url"] = b.text(props["media_url"], w, "media_url")
    if w.next("failed"):
        b.report.notes.append(
            Entry(
                w.name,
                "failed is wired, but the engine sends messages after the step (outbox), so it never happens here",
            )
        )
    b.then(spec, w.next("sent"))
    b.add(w, "message", spec)


def http_request(b: Builder, w: Widget) -> None:
    props = w.properties
    method = str(props.get("method", "GET")).upper()
    spec: dict[str, Any] = {"method": method, "url": b.text(props.get("url", ""), w, "url")}
    params = {
        str(p.get("key")): b.text(p.get("value", ""), w, f"parameter {p.get('key')}")
        for p in props.get("parameters") or []
        if p.get("key")
    }
    content = str(props.get("content_type", "application/x-www-form-urlencoded"))
    body = props.get("body")
    if method == "GET":
        if params:
            spec["query"] = params
    elif "json" in content:
        payload = _json_body(b, w, body) if body else params
        if payload:
            spec["json"] = payload
    elif params:
        spec["form"] = params
    spec["timeout"] = HTTP_TIMEOUT
    spec["into"] = b.names.http_vars[w.name]
    if not w.next("failed"):
        b.unwired(w, "failed", "an API that fails or is slow")
    spec["on_error"] = b.target(w.next("failed"))
    b.then(spec, w.next("success"))
    b.add(w, "http", spec)


def _json_body(b: Builder, w: Widget, body: Any) -> dict[str, Any]:
    try:
        data = json.loads(str(body))
    except ValueError:
        data = None
    if not isinstance(data, dict) or any(isinstance(v, dict | list) for v in data.values()):
        b.report.todos.append(
            Entry(w.name, f"body {str(body)[:60]!r}: only a flat JSON object is sent")
        )
        return {"studio_body_todo": "TODO Studio: " + str(body).replace("{", "(").replace("}", ")")}
    return {str(k): b.text(v, w, f"body {k}") if isinstance(v, str) else v for k, v in data.items()}


def run_subflow(b: Builder, w: Widget) -> None:
    props = w.properties
    sid = str(props.get("flow_sid", "subflow"))
    name = b.subflow_names.get(sid) or re.sub(r"[^a-z0-9_-]", "-", sid.lower()).strip("-")
    spec: dict[str, Any] = {"flow": name}
    values = {
        var_name(str(p.get("key"))): b.text(p.get("value", ""), w, f"parameter {p.get('key')}")
        for p in props.get("parameters") or []
        if p.get("key")
    }
    if values:
        spec["vars"] = values
    b.then(spec, w.next("completed"))
    b.report.notes.append(
        Entry(
            w.name,
            f"runs the Studio flow {sid}: import it too, as flows/{name}.yaml (its end becomes a return node)",
        )
    )
    b.add(w, "subflow", spec)


def placeholder(b: Builder, w: Widget, reason: str | None = None) -> None:
    events = FAILURE_EVENTS.get(w.type, GENERIC_FAILURES)
    failure = next((w.next(e) for e in events if w.next(e)), None)
    spec: dict[str, Any] = {
        "text": f"This step of the call, {w.name.replace('_', ' ')}, was not imported from Twilio Studio."
    }
    b.then(spec, failure)
    where = (
        f"continues at {failure!r}"
        if failure
        else "ends the call (its failure transition is unwired)"
    )
    why = reason or "no counterpart in the engine yet"
    b.report.unmapped.append(Entry(w.name, f"{w.type}: {why}; a say node says so and {where}"))
    b.add(w, "say", spec, note=f"added by the import: TODO {w.type} has no counterpart")


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


CONVERTERS = {
    "say-play": say_play,
    "gather-input-on-call": gather,
    "split-based-on": split,
    "set-variables": set_variables,
    "connect-call-to": connect_call,
    "enqueue-call": enqueue_call,
    "record-voicemail": record,
    "send-message": send_message,
    "make-http-request": http_request,
    "run-subflow": run_subflow,
}
