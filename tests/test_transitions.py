"""Nodes list every way out (transitions) and label the one they take (`via`), for coverage."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from ivr_engine import Goto, Node, Target, Transition
from ivr_engine.loader import FlowLoader
from ivr_engine.project import project_registry
from ivr_engine.runtime import Event, EventKind, Taken, start_call, step

ROOT = Path(__file__).resolve().parents[1]


def load(name: str):
    return FlowLoader(project_registry(ROOT)).load_file(ROOT / name).flow


def test_built_in_nodes_list_options_outcomes_reprompts_and_endings() -> None:
    flow = load("tests/tooling/flows/every_node.yaml")
    found = {node_id: node.transitions() for node_id, node in flow.nodes.items()}
    assert found["main_menu"] == [
        Transition("1", "sales"),
        Transition("2", "account"),
        Transition("failure", None),  # one attempt only: no re-prompts
    ]
    assert found["account"] == [
        Transition("answer", "route"),
        Transition("no input", "account"),
        Transition("no match", "account"),
        Transition("failure", "bye"),
    ]
    assert found["route"] == [
        Transition("when account_number == '9999'", "vip"),
        Transition("otherwise", "voicemail"),
    ]
    assert found["open_check"] == [
        Transition("open", "main_menu"),
        Transition("closed", "closed_message"),
    ]
    assert found["sales"] == [Transition("completed", "bye"), Transition("other outcome", None)]
    assert found["voicemail"] == [Transition("recorded", "bye"), Transition("no recording", "bye")]
    assert found["intro"] == [Transition("next", "breath")]
    assert found["bye"] == []


def test_a_plugin_node_gets_transitions_from_its_targets() -> None:
    class Lookup(Node):
        type_name = "lookup"
        target_fields = ("found", "missing")

    node = Lookup("crm", {"found": "greet", "missing": "ask"})
    assert node.targets() == [
        Target(("found",), "greet", "found"),
        Target(("missing",), "ask", "missing"),
    ]
    assert node.transitions() == [Transition("found", "greet"), Transition("missing", "ask")]
    assert Goto("greet").via is None  # plugins need not label what they take


def test_a_step_reports_the_transitions_it_took_with_their_labels() -> None:
    flow = load("flows/acme.yaml")
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)

    async def go():
        first = await start_call(flow, {"CallSid": "CA1", "From": "+15551234567"}, now=now)
        again = await step(flow, first.session, Event(EventKind.NO_INPUT), now=now)
        sales = await step(flow, again.session, Event(EventKind.INPUT, {"Digits": "1"}), now=now)
        busy = await step(
            flow, sales.session, Event(EventKind.DIAL, {"DialCallStatus": "no-answer"}), now=now
        )
        return first, again, sales, busy

    first, again, sales, busy = asyncio.run(go())
    assert first.taken == [
        Taken(None, "start", "welcome", "acme"),
        Taken("welcome", "next", "main_menu", "acme"),
    ]
    assert again.taken == [Taken("main_menu", "no input", "main_menu", "acme")]
    assert sales.taken == [Taken("main_menu", "1", "sales", "acme")]
    assert busy.taken == [Taken("sales", "no-answer", "voicemail", "acme")]
