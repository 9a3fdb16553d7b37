"""Coverage counts the nodes and transitions flow tests exercise, plugins' included."""

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ivr_engine import Goto, Node
from ivr_engine.loader import FlowLoader
from ivr_engine.model import Flow
from ivr_engine.registry import build_registry
from ivr_engine.tooling.coverage import Edge, FlowCoverage, edges, report
from ivr_engine.tooling.flowtest import run_tests
from ivr_engine.tooling.script import Call, CallLog, DialResult, Press

NOON = datetime(2026, 3, 2, 17, tzinfo=UTC)


def log_of(flow: Flow, *actions: object, **options: object) -> CallLog:
    call = Call(flow, at=NOON, **options)  # type: ignore[arg-type]

    async def go() -> None:
        await call.start()
        for action in actions:
            await call.act(action)  # type: ignore[arg-type]

    asyncio.run(go())
    return CallLog.of(call)


def test_a_flow_with_known_gaps_reports_exactly_what_no_test_takes(every_node: Flow) -> None:
    coverage = FlowCoverage(every_node)
    coverage.add(log_of(every_node, Press("1"), DialResult("completed")))
    assert len(coverage.edges) == 22
    assert coverage.missed_nodes == [
        "closed_message",
        "account",
        "route",
        "vip",
        "notify",
        "voicemail",
        "sorry",
        "orphan",
    ]
    assert [str(e) for e in coverage.missed_edges] == [
        "open_check --closed--> closed_message",
        "closed_message --next--> bye",
        "main_menu --2--> account",
        "main_menu --failure--> (end of call)",
        "account --answer--> route",
        "account --no input--> account",
        "account --no match--> account",
        "account --failure--> bye",
        "route --when account_number == '9999'--> vip",
        "route --otherwise--> voicemail",
        "vip --next--> notify",
        "notify --next--> sales",
        "sales --other outcome--> (end of call)",
        "voicemail --recorded--> bye",
        "voicemail --no recording--> bye",
        "sorry --next--> bye",
        "orphan --next--> bye",
    ]
    assert round(coverage.percent, 1) == 22.7  # 5 of 22


def test_more_calls_cover_more_and_the_report_lists_what_is_left(every_node: Flow) -> None:
    coverage = FlowCoverage(every_node)
    coverage.add(log_of(every_node, Press("1"), DialResult("completed")))
    coverage.add(log_of(every_node, Press("1"), DialResult("busy")))
    coverage.add(log_of(every_node, Press("2"), Press("9999")))
    coverage.add(log_of(every_node, fail_at=["intro"]))
    assert report([coverage]) == "\n".join(
        [
            "coverage (transitions the tests take, and nodes they reach):",
            "  every_node  transitions 12/22  nodes 11/14  55%",
            '      node not reached: "closed_message"',
            '      node not reached: "voicemail"',
            '      node not reached: "orphan"',
            "      transition not taken: open_check --closed--> closed_message",
            "      transition not taken: closed_message --next--> bye",
            "      transition not taken: main_menu --failure--> (end of call)",
            "      transition not taken: account --no input--> account",
            "      transition not taken: account --no match--> account",
            "      transition not taken: account --failure--> bye",
            "      transition not taken: route --otherwise--> voicemail",
            "      transition not taken: voicemail --recorded--> bye",
            "      transition not taken: voicemail --no recording--> bye",
            "      transition not taken: orphan --next--> bye",
        ]
    )


class Coin(Node):
    """A plugin node type that does not label its transitions."""

    type_name = "coin"
    schema = {
        "type": "object",
        "properties": {"heads": {"type": "string"}, "tails": {"type": "string"}},
        "required": ["heads", "tails"],
        "additionalProperties": False,
    }
    target_fields = ("heads", "tails")

    def enter(self, ctx):  # type: ignore[no-untyped-def]
        return Goto(self.spec["heads"] if ctx.vars["lucky"] else self.spec["tails"])


def test_a_plugin_node_type_is_covered_with_no_extra_work(tmp_path: Path) -> None:
    registry = build_registry()
    registry.register(Coin, "test plugin")
    flow_file = tmp_path / "toss.yaml"
    flow_file.write_text(
        "start: toss\nvars: {lucky: false}\nnodes:\n"
        "  toss: {type: coin, heads: win, tails: lose}\n"
        "  win: {type: hangup, text: You win.}\n  lose: {type: hangup, text: You lose.}\n"
    )
    flow = FlowLoader(registry).load_file(flow_file).flow
    assert edges(flow) == [Edge("toss", "heads", "win"), Edge("toss", "tails", "lose")]
    coverage = FlowCoverage(flow)
    coverage.add(log_of(flow, variables={"lucky": True}))
    assert [str(e) for e in coverage.missed_edges] == ["toss --tails--> lose"]
    assert coverage.missed_nodes == ["lose"]


SHIPPED = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "flows").glob("*.yaml"))


@pytest.mark.parametrize("flow_id", SHIPPED)
def test_each_shipped_flow_is_fully_covered_by_its_tests(
    flow_id: str, root: Path, loader: FlowLoader
) -> None:
    run = run_tests([root / "flows"], loader)
    assert run.passed
    (coverage,) = [c for c in run.coverage() if c.flow.id == flow_id]
    assert coverage.calls > 0, f"flows/{flow_id}.yaml has no tests: add flows/tests/{flow_id}.yaml"
    assert [str(e) for e in coverage.missed_edges] == []
    assert coverage.missed_nodes == []


def test_flows_without_tests_show_up_at_zero(
    tmp_path: Path, root: Path, loader: FlowLoader
) -> None:
    shutil.copy(root / "flows" / "acme.yaml", tmp_path / "acme.yaml")
    (coverage,) = run_tests([tmp_path], loader).coverage()
    assert (coverage.calls, coverage.percent, len(coverage.missed_edges)) == (0, 0.0, 17)
    assert (
        report([coverage]).splitlines()[1] == "  acme  transitions 0/17  nodes 0/8  0%  (no tests)"
    )


def test_calls_of_another_flow_file_with_the_same_id_do_not_count(acme: Flow) -> None:
    coverage = FlowCoverage(acme)
    other = CallLog("acme", "elsewhere/acme.yaml", path=["welcome"])
    coverage.add(other)
    assert coverage.calls == 0 and coverage.visited == set()
