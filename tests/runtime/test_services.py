"""What the runtime lends node code (services, env) and how it bounds async node code."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from ivr_engine import Goto, Node, Outcome, Services, StepContext
from ivr_engine.loader import FlowLoader
from ivr_engine.model import Flow
from ivr_engine.registry import build_registry
from ivr_engine.runtime import start_call

PARAMS = {"CallSid": "CA" + "1" * 32, "From": "+15551234567", "To": "+15550000000"}


class NapNode(Node):
    """A plugin-style node whose async code sleeps for `seconds`."""

    type_name = "nap"
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"seconds": {"type": "number"}, "next": {"type": "string"}},
        "required": ["seconds", "next"],
        "additionalProperties": False,
    }

    async def enter(self, ctx: StepContext) -> Outcome:
        await asyncio.sleep(self.spec["seconds"])
        return Goto(self.spec["next"])


class WhoAmINode(Node):
    """Reads what the runtime hands it: an environment variable and a shared service."""

    type_name = "whoami"
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"next": {"type": "string"}},
        "additionalProperties": False,
    }
    variable_fields = ()

    def enter(self, ctx: StepContext) -> Outcome:
        ctx.set_var("region", ctx.env["REGION"])
        ctx.set_var("client", type(ctx.services.http).__name__)
        return Goto(self.spec["next"])


def flow_of(text: str) -> Flow:
    registry = build_registry()
    registry.register(NapNode, "tests")
    registry.register(WhoAmINode, "tests")
    return FlowLoader(registry).load_text(text, "test.yaml", "test").flow


NAPPING = """\
start: nap
on_error: sorry
vars: {region: "", client: ""}
nodes:
  nap: {type: nap, seconds: SECONDS, next: done}
  done: {type: hangup, text: Rested.}
  sorry: {type: hangup, text: Please call again.}
"""


def test_async_node_code_within_its_time_runs_normally() -> None:
    flow = flow_of(NAPPING.replace("SECONDS", "0.01"))
    result = asyncio.run(start_call(flow, PARAMS, services=Services(node_timeout=5)))
    assert result.error is None
    assert "Rested." in result.twiml


def test_async_node_code_that_overruns_apologises_and_takes_on_error() -> None:
    flow = flow_of(NAPPING.replace("SECONDS", "30"))
    result = asyncio.run(start_call(flow, PARAMS, services=Services(node_timeout=0.05)))
    assert result.twiml == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="en-US">We\'re sorry, something went wrong.</Say>'
        '<Say language="en-US">Please call again.</Say><Hangup /></Response>'
    )
    assert result.error == (
        "StepError: node code took longer than 0.05 s and was stopped "
        f"(call {PARAMS['CallSid']}, node 'nap')"
    )


def test_an_overrunning_node_does_not_hold_up_other_calls_on_the_same_loop() -> None:
    slow = flow_of(NAPPING.replace("SECONDS", "30"))
    quick = flow_of(NAPPING.replace("SECONDS", "0"))

    async def both() -> list[str]:
        services = Services(node_timeout=0.2)
        slow_call = asyncio.create_task(start_call(slow, PARAMS, services=services))
        await asyncio.sleep(0)  # the slow call is now waiting inside its node
        quick_result = await start_call(quick, PARAMS, services=services)
        assert not slow_call.done(), "the quick call finished while the slow one still waits"
        return [quick_result.twiml, (await slow_call).error or ""]

    quick_twiml, slow_error = asyncio.run(both())
    assert "Rested." in quick_twiml
    assert slow_error.startswith("StepError: node code took longer than 0.2 s")


def test_nodes_read_the_environment_and_services_through_the_step_context() -> None:
    flow = flow_of(
        "start: who\nvars: {region: '', client: ''}\nnodes:\n"
        "  who: {type: whoami, next: bye}\n  bye: {type: hangup}\n"
    )
    services = Services(http=object(), env={"REGION": "eu-west"})
    result = asyncio.run(start_call(flow, PARAMS, services=services))
    assert result.session.vars == {"region": "eu-west", "client": "object"}
