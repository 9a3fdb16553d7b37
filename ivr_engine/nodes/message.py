"""`message`: queue an SMS or WhatsApp message; the call goes on at once.

The node only renders the message and hands it to the runtime as an effect; the durable
outbox stores it in the same transaction as the call's step and a background worker sends it.
Sender, address checks, consent and the WhatsApp window are the outbox's business
(`ivr_engine.messaging`), decided when the message is queued and when it is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..node import FieldIssue, Node, Outcome
from ..runtime.context import StepContext
from ..runtime.effects import OutboundMessage
from ..schema import builtin_node_schema
from .common import E164, continue_or_hang_up


class MessageNode(Node):
    type_name = "message"
    schema = builtin_node_schema("message")
    template_fields = ("to", "from", "body", "media_url", "template_vars.*")
    voice_only = False

    def check(self) -> Iterator[FieldIssue]:
        to = self.field("to")
        if isinstance(to, str) and "{" not in to:
            number = to.removeprefix("whatsapp:")
            if not E164.match(number):
                yield FieldIssue(
                    ("to",),
                    f'"{to}" is not a phone number in E.164 form: write + then country code and number, '
                    "no spaces, e.g. +15550100",
                )
        if not self.field("body") and not self.field("template") and not self.field("media_url"):
            yield FieldIssue((), "has nothing to send: give it a body, a media_url or a template")
        channel = self.field("channel", "sms")
        if channel != "whatsapp":
            for name in ("template", "fallback"):
                if self.field(name) is not None:
                    yield FieldIssue(
                        (name,),
                        "only applies to WhatsApp messages: remove it or set channel: whatsapp",
                    )
        if self.field("template_vars") and not self.field("template"):
            yield FieldIssue(
                ("template_vars",), "is set but there is no template: add template: HX..."
            )

    def enter(self, ctx: StepContext) -> Outcome:
        vars_ = {
            key: ctx.render(("template_vars", key)) or "" for key in self.field("template_vars", {})
        }
        channel = self.field("channel", "sms")
        fallback = self.field("fallback", "none")
        ctx.queue_message(
            OutboundMessage(
                flow_id=ctx.flow.id,
                node_id=self.id,
                call_sid=str(ctx.call.get("sid", "")),
                channel=channel,
                to=ctx.render("to") or _other_party(ctx.call),
                sender=ctx.render("from") or ctx.flow.settings.get(f"{channel}_from"),
                body=ctx.render("body"),
                media_url=ctx.render("media_url"),
                template=self.field("template"),
                template_vars=vars_,
                fallback=fallback,
                step=ctx.step,
                fallback_sender=ctx.flow.settings.get("sms_from") if fallback == "sms" else None,
            )
        )
        return continue_or_hang_up(self, ctx)


def _other_party(call: Any) -> str:
    """The person on the line: the caller, or the called number of a call we placed."""
    outbound = str(call.get("direction", "")).startswith("outbound")
    return str(call.get("to" if outbound else "from", ""))
