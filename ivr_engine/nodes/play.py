"""`play`: play an audio file from a URL, then continue."""

from __future__ import annotations

from collections.abc import Iterator

from ..node import FieldIssue, Node, Outcome
from ..runtime.context import StepContext
from ..schema import builtin_node_schema
from .common import continue_or_hang_up


class PlayNode(Node):
    type_name = "play"
    schema = builtin_node_schema("play")
    template_fields = ("url",)

    def check(self) -> Iterator[FieldIssue]:
        url = str(self.spec["url"])
        if "{" not in url and not url.startswith(("http://", "https://")):
            yield FieldIssue(
                ("url",), f'"{url}" is not a web address: it must start with https:// (or http://)'
            )

    def enter(self, ctx: StepContext) -> Outcome:
        loop = self.field("loop")
        ctx.response.play(ctx.render("url"), **({"loop": loop} if loop not in (None, 1) else {}))
        return continue_or_hang_up(self, ctx)
