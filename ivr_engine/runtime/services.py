"""What the runtime lends node code: shared clients and settings, never a request or a database.

The process that runs calls (the web layer's `CallService`, a simulator, a test) builds one
`Services` and passes it to every step. A node reaches it as `ctx.services` (and `ctx.env`),
so node code can wait on other systems without importing web or storage code, and the step
function stays pure: everything it may touch comes in through its arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..model import Flow

# Twilio waits 15 s for an answer to a webhook; async node code must have finished well before.
NODE_TIMEOUT = 12.0
# All node code of one answer together (a chain may hold several `http` nodes): past this the
# step is abandoned and the caller hears the apology and `on_error`, which gets ERROR_BUDGET
# more. 10 + 2 s leaves 3 s of Twilio's 15 for the commit and the network.
ANSWER_BUDGET = 10.0
ERROR_BUDGET = 2.0

# Environment variables a flow can never read, even in secret fields: the engine's own keys.
HIDDEN_ENV_PREFIXES = ("TWILIO_",)


class FlowResolver(Protocol):
    """Finds other flows for subflows: the version serving new calls, or a pinned one."""

    def current(self, flow_id: str) -> Flow | None: ...

    async def version(self, flow_id: str, version: str) -> Flow | None: ...


@dataclass(frozen=True)
class Services:
    """Shared, long-lived things a step may use.

    - `http`: one async HTTP client for the whole process (an `aiohttp.ClientSession`, see `ivr_engine.http_client`), so
      connections are pooled and a node never opens its own.
    - `env`: environment variables templates may read as `{{ env.NAME }}` in secret fields.
    - `flows`: where subflows are found; without it a subflow fails the step.
    - `node_timeout`: how long async node code may take before the step fails with an apology.
    - `answer_budget`: how long all the node code of one answer may take together; past it
      the step is abandoned (nothing it did is kept) for the apology and `on_error`, which has
      `error_budget` seconds of its own.
    - `verify`: the Twilio Verify client of the `verify` node (`ivr_engine.verify.VerifyClient`);
      without it a verify node fails the step.
    - `callbacks`: where an `enqueue` node records a caller's request to be called back
      (`ivr_engine.callbacks`); without it the request fails the step.
    """

    http: Any = None
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    flows: FlowResolver | None = None
    node_timeout: float = NODE_TIMEOUT
    answer_budget: float = ANSWER_BUDGET
    error_budget: float = ERROR_BUDGET
    verify: Any = None
    callbacks: Any = None


def flow_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment a flow may read: everything but the engine's own credentials."""
    return {
        name: value
        for name, value in environ.items()
        if not name.upper().startswith(HIDDEN_ENV_PREFIXES)
    }
