"""`branch` node: the first case whose condition is true chooses the next node."""

from collections.abc import Mapping
from typing import Any

import pytest

from ivr_engine.nodes import BranchNode
from ivr_engine.runtime import CallInfo
from tests.support import CALLER, Call, load_valid


def _call(**params: str) -> Mapping[str, str]:
    """Call data as the runtime builds it from Twilio's parameters."""
    return CallInfo.from_params({**CALLER, **params}).data


def test_a_minimal_branch_reads_call_data() -> None:
    flow = load_valid("branch_minimal")
    node = flow.nodes["route"]
    assert isinstance(node, BranchNode)
    assert [(t.label, t.node_id) for t in node.targets()] == [
        ("when call.from.startswith('+44')", "uk"),
        ("otherwise", "everyone"),
    ]
    assert Call(flow, From="+442071234567").start().session.path == ["route", "uk"]
    assert Call(flow, From="+15551230000").start().session.path == ["route", "everyone"]


def test_a_full_branch_compiles_each_condition_with_the_names_it_reads() -> None:
    flow = load_valid("branch_full")
    reads = {i: flow.expression("route", ("cases", i, "when")).variables for i in range(3)}
    assert reads == {0: {"tier"}, 1: {"tier", "balance"}, 2: {"call", "language"}}


def test_a_condition_on_call_data_twilio_did_not_send_is_simply_false() -> None:
    flow = load_valid("branch_full")
    condition = flow.expression("route", ("cases", 2, "when"))
    assert "from_country" not in CALLER
    assert condition.evaluate({"call": _call(), "language": "en-US"}) is False


def test_a_full_branch_takes_the_first_true_case() -> None:
    result = Call(load_valid("branch_full")).start()
    assert result.session.path == ["route", "priority"]
    assert "Priority." in result.twiml


@pytest.mark.parametrize(
    ("scope", "case", "expected"),
    [
        ({"tier": "platinum"}, 0, True),
        ({"tier": "silver", "balance": 101}, 1, True),
        ({"tier": "silver", "balance": 100}, 1, False),
        ({"call": _call(FromCountry="MX"), "language": "en-US"}, 2, True),
        ({"call": _call(), "language": "es-MX"}, 2, True),
        ({"call": _call(), "language": "en-US"}, 2, False),
    ],
)
def test_a_full_branchs_conditions_evaluate_like_python(
    scope: dict[str, Any], case: int, expected: bool
) -> None:
    flow = load_valid("branch_full")
    condition = flow.expression("route", ("cases", case, "when"))
    assert bool(condition.evaluate(scope)) is expected
